package sandbox

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Where os.RemoveAll fails (under Wine it answers "Invalid function" for
// every file), RemoveDir removes the folder entry by entry.
func TestRemoveDirWhereRemoveAllFails(t *testing.T) {
	removeAll = func(string) error { return errors.New("unlinkat: Invalid function.") }
	t.Cleanup(func() { removeAll = os.RemoveAll })
	dir := t.TempDir()
	for _, f := range []string{"state.db", "mailsync.log", filepath.Join("sub", "deeper", "x")} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveDir(dir); err != nil {
		t.Fatalf("RemoveDir: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the folder is still there: %v", err)
	}
	if err := RemoveDir(dir); err != nil {
		t.Errorf("removing a folder that is gone: %v", err)
	}
}
