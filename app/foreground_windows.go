package app

import "golang.org/x/sys/windows"

var procAllowSetForegroundWindow = windows.NewLazySystemDLL("user32.dll").NewProc("AllowSetForegroundWindow")

// asfwAny is ASFW_ANY, (DWORD)-1: any process may take the foreground.
const asfwAny = ^uint32(0)

// allowForeground lets the settings window come forward when asked to:
// Windows lets only the process the person last used (the agent, whose
// tray menu was clicked) take the foreground, and hands that right on only
// when told to.
func allowForeground() { _, _, _ = procAllowSetForegroundWindow.Call(uintptr(asfwAny)) }
