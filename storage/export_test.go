package storage

// SplitForTest exposes split to the external tests.
var SplitForTest = split
