package sandbox

import (
	"fmt"
	"os"
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
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
		time.Sleep(removePause)
	}
	return fmt.Errorf("sandbox: remove the data directory: %w", err)
}
