package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"
)

// A DLL beside the exe, named as no system DLL is, is not loaded by name:
// DLLs come from System32 only, so one planted in Downloads never is.
func TestDLLsLoadFromSystem32Only(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sys, err := windows.GetSystemDirectory()
	if err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(filepath.Dir(exe), "mailsync-planted.dll")
	if err := copyPlanted(filepath.Join(sys, "version.dll"), planted); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(planted) })
	// By name first: once loaded by its path, Windows would hand out the
	// loaded module by its name whatever the search path.
	if h, err := windows.LoadLibrary("mailsync-planted.dll"); err == nil {
		windows.FreeLibrary(h)
		t.Fatal("a DLL beside the exe was loaded by name: the default DLL directories are not System32 only")
	}
	h, err := windows.LoadLibrary(planted)
	if err != nil {
		t.Fatalf("the planted DLL cannot be loaded at all, so the test proves nothing: %v", err)
	}
	windows.FreeLibrary(h)
}

func copyPlanted(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
