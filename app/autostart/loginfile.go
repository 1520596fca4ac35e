//go:build !windows

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// On Linux and macOS the login item is one file (an XDG .desktop entry, a
// LaunchAgent plist); these write, remove and look for it.

// installFile writes content to path for exe, which must be absolute.
func installFile(path, exe string, content func(exe string) string) error {
	if !filepath.IsAbs(exe) {
		return fmt.Errorf("autostart: executable path %q is not absolute", exe)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("autostart: create %s: %w", filepath.Dir(path), err)
	}
	// Write then rename, so a session starting meanwhile never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content(exe)), 0o644); err != nil {
		return fmt.Errorf("autostart: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("autostart: install %s: %w", path, err)
	}
	return nil
}

// removeFile removes path; a missing file is not an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("autostart: remove %s: %w", path, err)
	}
	return nil
}

// fileExists reports whether path exists.
func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("autostart: check %s: %w", path, err)
}
