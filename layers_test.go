package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayersImportNoGUI keeps the arrows one way (app → sync/* → storage):
// nothing under sync/ or storage/ may link a GUI toolkit, the tray or the
// browser opener, so the engine runs headless and is testable without them.
func TestLayersImportNoGUI(t *testing.T) {
	forbidden := []string{"fyne.io/fyne/v2", "fyne.io/systray", "github.com/pkg/browser", "mailsync/app"}
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}", "./sync/...", "./storage/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned only %d packages; the check would prove nothing", len(deps))
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || strings.HasPrefix(d, f+"/") {
				t.Errorf("%s is linked by sync/ or storage/; only app/ may use it", d)
			}
		}
	}
}
