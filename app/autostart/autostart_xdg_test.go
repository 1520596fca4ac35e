//go:build !darwin && !windows

package autostart

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestEnableDisableRoundTrip(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	exe := "/opt/Mail Sync/mailsync"

	if on, err := Enabled(); err != nil || on {
		t.Fatalf("Enabled before Enable = %v, %v; want false, nil", on, err)
	}
	if err := Enable(exe); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	if on, err := Enabled(); err != nil || !on {
		t.Fatalf("Enabled after Enable = %v, %v; want true, nil", on, err)
	}
	path := filepath.Join(cfg, "autostart", DesktopFileName)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read entry: %v", err)
	}
	if string(got) != DesktopEntry(exe) {
		t.Errorf("entry on disk:\n%s\nwant:\n%s", got, DesktopEntry(exe))
	}
	// Enabling again points the entry at the new executable.
	if err := Enable("/usr/bin/mailsync"); err != nil {
		t.Fatalf("Enable again: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != DesktopEntry("/usr/bin/mailsync") {
		t.Errorf("entry after re-enable:\n%s", got)
	}

	if err := Disable(); err != nil {
		t.Fatalf("Disable: %v", err)
	}
	if on, err := Enabled(); err != nil || on {
		t.Fatalf("Enabled after Disable = %v, %v; want false, nil", on, err)
	}
	left, err := os.ReadDir(filepath.Join(cfg, "autostart"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("Disable left %d files in the autostart directory: %v", len(left), left)
	}
	if err := Disable(); err != nil {
		t.Errorf("Disable when already disabled: %v", err)
	}
}

func TestEnableRejectsRelativePath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if err := Enable("mailsync"); err == nil {
		t.Fatal("Enable(relative path) succeeded; autostart would depend on the session's working directory")
	}
	if on, _ := Enabled(); on {
		t.Error("a failed Enable left an entry")
	}
}

func TestHomeFallback(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", home)
	if err := Enable("/usr/bin/mailsync"); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "autostart", DesktopFileName)); err != nil {
		t.Errorf("entry not under ~/.config/autostart: %v", err)
	}
}

// TestDexLaunchesEntry starts the installed entry the way a session does,
// with dex, and checks the executable ran, from a path with a space in it.
func TestDexLaunchesEntry(t *testing.T) {
	dex, err := exec.LookPath("dex")
	if err != nil {
		t.Skip("dex not installed (Debian: dex)")
	}
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	dir := filepath.Join(t.TempDir(), "Mail Sync")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "started")
	exe := filepath.Join(dir, "mail sync agent")
	script := "#!/bin/sh\ntouch \"$(dirname \"$0\")/started\"\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Enable(exe); err != nil {
		t.Fatalf("Enable: %v", err)
	}
	out, err := exec.Command(dex, filepath.Join(cfg, "autostart", DesktopFileName)).CombinedOutput()
	if err != nil {
		t.Fatalf("dex: %v\n%s", err, out)
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("dex did not start %q within 10 s; dex said:\n%s", exe, out)
		}
	}
}
