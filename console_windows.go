package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// The Windows build is a GUI-subsystem program, so that the agent started
// at login and the settings window open no console window. A subcommand
// typed in cmd.exe or PowerShell would then print nowhere: attach to the
// console of the process that started it and print there instead. Output
// that was redirected (a pipe, a file) is kept as it is. The exit code is
// the process's own either way.
func init() {
	switch {
	case len(os.Args) < 2, os.Args[1] == "agent", os.Args[1] == "settings":
		return // resident or windowed: no console
	}
	if usable(windows.STD_OUTPUT_HANDLE) || usable(windows.STD_ERROR_HANDLE) {
		return
	}
	if r, _, _ := procAttachConsole.Call(uintptr(attachParentProcess)); r == 0 {
		return // started from Explorer or a shortcut: there is no console
	}
	if f := openConsole("CONOUT$", windows.GENERIC_READ|windows.GENERIC_WRITE); f != nil {
		os.Stdout, os.Stderr = f, f
	}
	if !usable(windows.STD_INPUT_HANDLE) {
		if f := openConsole("CONIN$", windows.GENERIC_READ|windows.GENERIC_WRITE); f != nil {
			os.Stdin = f
		}
	}
}

var procAttachConsole = windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")

// attachParentProcess is ATTACH_PARENT_PROCESS, (DWORD)-1.
const attachParentProcess = ^uint32(0)

// usable reports whether the standard handle std was handed to this
// process (a redirection, or a console program's parent console).
func usable(std uint32) bool {
	h, err := windows.GetStdHandle(std)
	return err == nil && h != 0 && h != windows.InvalidHandle
}

func openConsole(name string, access uint32) *os.File {
	h, err := windows.CreateFile(windows.StringToUTF16Ptr(name), access,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return nil
	}
	return os.NewFile(uintptr(h), name)
}
