//go:build linux

package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"mailsync/app/autostart"
	"mailsync/app/tray/traytest"
	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
)

// TestLoginItemStartsAgent installs the real login item for a freshly built
// mailsync, checks it with desktop-file-validate, launches it the way a
// desktop session does (dex runs the autostart entry) and sees the agent
// answer on its socket; turning it off leaves nothing behind.
func TestLoginItemStartsAgent(t *testing.T) {
	for _, tool := range []string{"dex", "desktop-file-validate"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (make deps installs it)", tool)
		}
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no D-Bus session bus: run under .ci/desktop-session")
	}
	bin := filepath.Join(t.TempDir(), "Mail Sync", "mailsync") // a path with a space, as on macOS and Windows
	if out, err := exec.Command("go", "build", "-o", bin, "mailsync").CombinedOutput(); err != nil {
		t.Fatalf("build mailsync: %v\n%s", err, out)
	}
	config := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", config)
	if err := autostart.Enable(bin); err != nil {
		t.Fatal(err)
	}
	entry := filepath.Join(config, "autostart", autostart.DesktopFileName)
	if out, err := exec.Command("desktop-file-validate", entry).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("desktop-file-validate %s: %v\n%s", entry, err, out)
	}

	home := filepath.Join(t.TempDir(), "data")
	dex := exec.Command("dex", entry)
	dex.Env = append(os.Environ(),
		"MAILSYNC_HOME="+home,
		"MAILSYNC_NO_WINDOW=1",
		"MAILSYNC_KEYRING_SERVICE=mailsync-login-item-test",
	)
	// A file, not a pipe: the agent inherits dex's output and outlives it,
	// and a pipe would stay open as long as the agent runs.
	log, err := os.Create(filepath.Join(t.TempDir(), "dex.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	dex.Stdout, dex.Stderr = log, log
	if err := dex.Run(); err != nil {
		out, _ := os.ReadFile(log.Name())
		t.Fatalf("dex %s: %v\n%s", entry, err, out)
	}
	t.Cleanup(func() { stopProcessesOf(bin) })

	var api *agentapi.Client
	traytest.Eventually(t, "the agent started by the login item serves its local API", func() bool {
		c, err := agentapi.Dial(home)
		if err == nil {
			api = c
		}
		return err == nil
	})
	defer api.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := api.Status(ctx)
	if err != nil || st.State != engine.SignedOut {
		t.Fatalf("status of the started agent = %v, %v; want signed out", st.State, err)
	}
	if len(pidsOf(bin)) != 1 {
		t.Errorf("%d agents run, want 1", len(pidsOf(bin)))
	}

	if err := autostart.Disable(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(config, "autostart")); len(ents) != 0 {
		t.Errorf("left behind after Disable: %v", ents)
	}
}

// pidsOf lists the running processes of the executable exe.
func pidsOf(exe string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if target, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && target == exe {
			out = append(out, pid)
		}
	}
	return out
}

// stopProcessesOf ends every process of exe, politely first.
func stopProcessesOf(exe string) {
	for _, pid := range pidsOf(exe) {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Signal(os.Interrupt)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(pidsOf(exe)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	for _, pid := range pidsOf(exe) {
		if p, err := os.FindProcess(pid); err == nil {
			_ = p.Kill()
		}
	}
}
