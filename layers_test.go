package main

import (
	"os/exec"
	"strings"
	"testing"
)

// guiImports are the packages only app/ may link.
var guiImports = []string{"fyne.io/fyne/v2", "fyne.io/systray", "github.com/pkg/browser", "mailsync/app"}

// linked lists the packages of forbidden that pkgs (and their tests) link.
func linked(t *testing.T, forbidden []string, pkgs ...string) []string {
	t.Helper()
	args := append([]string{"list", "-deps", "-test", "-f", "{{.ImportPath}}"}, pkgs...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var found []string
	for _, d := range strings.Fields(string(out)) {
		for _, f := range forbidden {
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
	if got := linked(t, guiImports, "./app/settings"); len(got) == 0 {
		t.Fatal("the import check found no GUI package in app/settings; it would prove nothing")
	}
	for _, d := range linked(t, guiImports, "./sync/...", "./storage/...") {
		t.Errorf("%s is linked by sync/ or storage/; only app/ may use it", d)
	}
}

// clientImports are the network clients the rules must not link.
var clientImports = []string{"net/http", "mailsync/sync/graph", "mailsync/sync/crm", "mailsync/sync/remote"}

// TestRulesImportNoClient keeps the rules pure: sync/match reads its own
// message type, so it links no HTTP client nor the clients' wire types.
func TestRulesImportNoClient(t *testing.T) {
	if got := linked(t, clientImports, "./sync/engine"); len(got) == 0 {
		t.Fatal("the import check found no client in sync/engine; it would prove nothing")
	}
	for _, d := range linked(t, clientImports, "./sync/match") {
		t.Errorf("%s is linked by sync/match; the rules take their own types", d)
	}
}

// TestOnlyStorageImportsBbolt: storage speaks the domain, so no package
// but storage (and its own tests) may import bbolt; anyone else would come
// to depend on the layout of the state file.
func TestOnlyStorageImportsBbolt(t *testing.T) {
	out, err := exec.Command("go", "list", "-f",
		`{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	storageSeen := false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		for _, imp := range f[1:] {
			if imp != "go.etcd.io/bbolt" && !strings.HasPrefix(imp, "go.etcd.io/bbolt/") {
				continue
			}
			if f[0] == "mailsync/storage" {
				storageSeen = true
				continue
			}
			t.Errorf("%s imports %s; only mailsync/storage may", f[0], imp)
		}
	}
	if !storageSeen {
		t.Fatal("mailsync/storage imports no bbolt package; the check would prove nothing")
	}
}
