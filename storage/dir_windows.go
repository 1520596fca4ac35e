package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// dirName is the data directory's name under %LOCALAPPDATA%.
const dirName = "Mail Sync"

func defaultDir() (string, error) {
	local := os.Getenv("LOCALAPPDATA")
	if local == "" {
		return "", errors.New("storage: %LOCALAPPDATA% is not set")
	}
	dir := filepath.Join(local, dirName)
	if roaming := os.Getenv("APPDATA"); roaming != "" {
		if err := moveRoaming(filepath.Join(roaming, dirName), dir); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// moveRoaming moves the data directory an older version kept in the
// roaming profile to its local place, once: only when the local one does
// not exist yet. Both are in the same profile, so a rename does it.
func moveRoaming(old, dir string) error {
	if _, err := os.Stat(old); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		return nil // moved already, or both exist: never overwrite
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("storage: move the state to %s: %w", dir, err)
	}
	if err := os.Rename(old, dir); err != nil {
		return fmt.Errorf("storage: move the state from %s to %s: %w", old, dir, err)
	}
	return nil
}
