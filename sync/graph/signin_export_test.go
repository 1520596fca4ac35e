package graph

// TryPortsFirstForTest makes s try ports before the ones the system picks.
func TryPortsFirstForTest(s *SignIn, ports ...int) { s.ports = ports }
