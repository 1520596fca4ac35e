package app

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"mailsync/sync/sandbox"
)

// runDemoQuietly runs the demo without window or tray until it is ready,
// then ends it, and returns its data directory, stderr and error.
func runDemoQuietly(t *testing.T) (dir, stderr string, err error) {
	t.Helper()
	t.Setenv("TMPDIR", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Exe: os.Args[0], OpenURL: func(string) error { return nil }}
	err = RunDemo(ctx, env, DemoOptions{NoWindow: true, NoTray: true, Ready: func(d string, _ *sandbox.Services) {
		dir = d
		cancel()
	}})
	if dir == "" {
		t.Fatalf("the demo never became ready: %v\n%s", err, errb.String())
	}
	return dir, errb.String(), err
}

// openIn lists the files of this process that are open under dir (Linux).
func openIn(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("list open files: %v", err)
	}
	var open []string
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			open = append(open, target)
		}
	}
	return open
}

// TestDemoLeavesNothingBehind: when the demo ends, its state file and log
// are closed before its temporary folder is removed, and the folder is
// gone.
// On Windows, an open file would make the removal fail; on Linux the open
// files are also listed, through /proc, when the removal starts.
func TestDemoLeavesNothingBehind(t *testing.T) {
	var atRemoval []string
	removeDemoDir = func(dir string) error {
		if runtime.GOOS == "linux" {
			atRemoval = openIn(t, dir)
		}
		return sandbox.RemoveDir(dir)
	}
	t.Cleanup(func() { removeDemoDir = sandbox.RemoveDir })
	dir, stderr, err := runDemoQuietly(t)
	if err != nil {
		t.Fatalf("RunDemo: %v\n%s", err, stderr)
	}
	if len(atRemoval) > 0 {
		t.Errorf("still open when the folder was removed: %v", atRemoval)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the demo's folder %s is still there: %v", dir, err)
	}
}

// TestDemoReportsAFolderItCouldNotRemove: a failure to remove the
// temporary folder is said, with the folder, and ends the demo in error.
func TestDemoReportsAFolderItCouldNotRemove(t *testing.T) {
	removeDemoDir = func(string) error {
		return errors.New("the process cannot access the file because it is being used by another process")
	}
	t.Cleanup(func() { removeDemoDir = sandbox.RemoveDir })
	dir, stderr, err := runDemoQuietly(t)
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("RunDemo = %v, want an error naming %s", err, dir)
	}
	if !strings.Contains(stderr, "The demo's temporary folder "+dir+" could not be removed") {
		t.Errorf("stderr does not say so:\n%s", stderr)
	}
}
