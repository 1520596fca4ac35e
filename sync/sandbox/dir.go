package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DataDir creates the temporary data directory of a demo run.
func DataDir() (string, error) {
	dir, err := os.MkdirTemp("", "mailsync-sandbox-")
	if err != nil {
		return "", fmt.Errorf("sandbox: create the data directory: %w", err)
	}
	return dir, nil
}

// removeTries and removePause bound how long RemoveDir keeps trying.
const (
	removeTries = 20
	removePause = 100 * time.Millisecond
)

// RemoveDir removes a demo's data directory and everything in it, once
// everything that used it is closed. On Windows a file closed a moment ago
// can stay locked for a while (the search indexer or an antivirus scanning
// it), and removal fails with a sharing violation: a failure is tried again
// for up to two seconds before it is returned.
func RemoveDir(dir string) error {
	var err error
	for range removeTries {
		if err = removeTree(dir); err == nil {
			return nil
		}
		time.Sleep(removePause)
	}
	return fmt.Errorf("sandbox: remove the data directory: %w", err)
}

// removeAll is os.RemoveAll (a variable for tests).
var removeAll = os.RemoveAll

// removeTree removes dir with os.RemoveAll, and where that fails, entry by
// entry, deepest first. Go's RemoveAll on Windows deletes through a call
// Wine does not implement ("Invalid function"), while a plain os.Remove of
// each file and folder works there.
func removeTree(dir string) error {
	if err := removeAll(dir); err == nil {
		return nil
	}
	var paths []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p) // a folder comes before what it holds
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for i := len(paths) - 1; i >= 0; i-- {
		if err := os.Remove(paths[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
