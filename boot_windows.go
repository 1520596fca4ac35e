package main

import "golang.org/x/sys/windows"

// Mail Sync's exe may be run from Downloads, where a DLL planted under a
// system DLL's name would be loaded before the real one: from the first
// init of package main on, DLLs load from System32 only. (Go runs this
// file's init before console_windows.go's; the packages imported initialise
// earlier still, and load DLLs only through x/sys/windows' System32
// loaders.) On a Windows without the call (Windows 7 without KB2533623)
// the error is ignored: nothing better can be done there.
func init() {
	_ = windows.SetDefaultDllDirectories(windows.LOAD_LIBRARY_SEARCH_SYSTEM32)
}
