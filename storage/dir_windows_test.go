package storage

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultDirIsLocalAndMovesRoamingStateOnce(t *testing.T) {
	local, roaming := t.TempDir(), t.TempDir()
	t.Setenv("MAILSYNC_HOME", "")
	t.Setenv("LOCALAPPDATA", local)
	t.Setenv("APPDATA", roaming)
	old := filepath.Join(roaming, "Mail Sync")
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, FileName), []byte("old state"), 0o600); err != nil {
		t.Fatal(err)
	}

	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(local, "Mail Sync"); dir != want {
		t.Fatalf("DefaultDir = %s, want %s", dir, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, FileName)); err != nil || string(b) != "old state" {
		t.Fatalf("the roaming state was not moved: %q, %v", b, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("the roaming directory is still there: %v", err)
	}

	// Once: a roaming directory that appears later (an older version run
	// again) is left alone and never overwrites the local state.
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, FileName), []byte("older still"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := DefaultDir(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, FileName)); string(b) != "old state" {
		t.Fatalf("the local state was overwritten: %q", b)
	}
	if _, err := os.Stat(filepath.Join(old, FileName)); err != nil {
		t.Fatalf("the later roaming directory was touched: %v", err)
	}
}

func TestDefaultDirWithoutRoamingState(t *testing.T) {
	local := t.TempDir()
	t.Setenv("MAILSYNC_HOME", "")
	t.Setenv("LOCALAPPDATA", local)
	t.Setenv("APPDATA", t.TempDir())
	dir, err := DefaultDir()
	if err != nil || dir != filepath.Join(local, "Mail Sync") {
		t.Fatalf("DefaultDir = %s, %v", dir, err)
	}
}
