package main

import (
	"os/exec"
	"strings"
	"testing"
)

// guiImports are the packages only app/ may link.
var guiImports = []string{"fyne.io/fyne/v2", "fyne.io/systray", "github.com/pkg/browser", "mailsync/app"}

// linked lists the packages of guiImports that pkgs (and their tests) link.
func linked(t *testing.T, pkgs ...string) []string {
	t.Helper()
	args := append([]string{"list", "-deps", "-test", "-f", "{{.ImportPath}}"}, pkgs...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var found []string
	for _, d := range strings.Fields(string(out)) {
		for _, f := range guiImports {
			if d == f || strings.HasPrefix(d, f+"/") {
				found = append(found, d)
			}
		}
	}
	return found
}

// TestLayersImportNoGUI keeps the arrows one way (app → sync/* → storage):
// nothing under sync/ or storage/ may link a GUI toolkit, the tray or the
// browser opener, so the engine runs headless and is testable without them.
func TestLayersImportNoGUI(t *testing.T) {
	// The check must be able to fail: the window package does link Fyne.
	if got := linked(t, "./app/settings"); len(got) == 0 {
		t.Fatal("the import check found no GUI package in app/settings; it would prove nothing")
	}
	for _, d := range linked(t, "./sync/...", "./storage/...") {
		t.Errorf("%s is linked by sync/ or storage/; only app/ may use it", d)
	}
}
