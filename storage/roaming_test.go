package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// roamingState makes a data directory as an older version left it in the
// roaming profile: the state file and a folder of logs.
func roamingState(t *testing.T) (old string) {
	t.Helper()
	old = filepath.Join(t.TempDir(), "Roaming", "Mail Sync")
	if err := os.MkdirAll(filepath.Join(old, "logs"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{FileName: "old state", filepath.Join("logs", "mailsync.log"): "old log"} {
		if err := os.WriteFile(filepath.Join(old, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return old
}

func failRename(t *testing.T) {
	t.Helper()
	renameDir = func(from, to string) error {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: errors.New("not the same device")}
	}
	t.Cleanup(func() { renameDir = os.Rename })
}

func readState(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatalf("state in %s: %v", dir, err)
	}
	return string(b)
}

// A roaming folder on a network share cannot be renamed to the local one:
// the state is copied there instead, whole, and the old folder removed.
func TestMoveRoamingCopiesWhenRenameFails(t *testing.T) {
	old := roamingState(t)
	failRename(t)
	dir := filepath.Join(t.TempDir(), "Local", "Mail Sync")
	if got := moveRoaming(old, dir); got != dir {
		t.Fatalf("moveRoaming = %s, want the local %s", got, dir)
	}
	if s := readState(t, dir); s != "old state" {
		t.Errorf("copied state = %q", s)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "logs", "mailsync.log")); err != nil || string(b) != "old log" {
		t.Errorf("copied log = %q, %v", b, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the roaming folder is still there after the copy: %v", err)
	}
	if _, err := os.Stat(dir + ".moving"); !os.IsNotExist(err) {
		t.Errorf("the copy's scratch folder is left: %v", err)
	}
}

// When the copy fails too, the state is used where it is, untouched, and
// no half-copied local folder passes for a finished move.
func TestMoveRoamingKeepsTheOldFolderWhenCopyFails(t *testing.T) {
	old := roamingState(t)
	failRename(t)
	copyDir = func(src, dst string) error {
		if err := os.MkdirAll(dst, 0o700); err != nil {
			return err
		}
		return errors.New("the network share went away")
	}
	t.Cleanup(func() { copyDir = copyTree })
	dir := filepath.Join(t.TempDir(), "Local", "Mail Sync")
	if got := moveRoaming(old, dir); got != old {
		t.Fatalf("moveRoaming = %s, want the roaming %s", got, old)
	}
	if s := readState(t, old); s != "old state" {
		t.Errorf("roaming state = %q", s)
	}
	for _, p := range []string{dir, dir + ".moving"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after a failed copy: %v", p, err)
		}
	}
}

// When even the local folder's parent cannot be made, the old folder is used.
func TestMoveRoamingKeepsTheOldFolderWhenLocalIsUnusable(t *testing.T) {
	old := roamingState(t)
	blocker := filepath.Join(t.TempDir(), "Local")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil { // a file where a folder must go
		t.Fatal(err)
	}
	if got := moveRoaming(old, filepath.Join(blocker, "Mail Sync")); got != old {
		t.Fatalf("moveRoaming = %s, want the roaming %s", got, old)
	}
	if s := readState(t, old); s != "old state" {
		t.Errorf("roaming state = %q", s)
	}
}

// A rename that works moves the folder, as before.
func TestMoveRoamingRenames(t *testing.T) {
	old := roamingState(t)
	dir := filepath.Join(t.TempDir(), "Local", "Mail Sync")
	if got := moveRoaming(old, dir); got != dir || readState(t, dir) != "old state" {
		t.Fatalf("moveRoaming = %s", got)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the roaming folder is still there: %v", err)
	}
}
