//go:build !windows

package storage

import (
	"fmt"
	"os"
	"path/filepath"
)

func defaultDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("storage: find the config directory: %w", err)
	}
	return filepath.Join(base, "Mail Sync"), nil
}

// protectDir makes dir reachable by its owner only.
func protectDir(dir string) error { return os.Chmod(dir, 0o700) }
