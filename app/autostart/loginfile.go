//go:build !windows

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// On Linux and macOS the login item is one file: loginFile says where, and
// loginEntry what it holds (an XDG .desktop entry, a LaunchAgent plist).

// Enable writes the login item for exe, which must be absolute.
func Enable(exe string) error {
	if !filepath.IsAbs(exe) {
		return fmt.Errorf("autostart: executable path %q is not absolute", exe)
	}
	path, err := loginFile()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("autostart: create %s: %w", filepath.Dir(path), err)
	}
	// Write then rename, so a session starting meanwhile never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(loginEntry(exe)), 0o644); err != nil {
		return fmt.Errorf("autostart: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("autostart: install %s: %w", path, err)
	}
	return nil
}

// Disable removes the login item; a missing one is not an error.
func Disable() error {
	path, err := loginFile()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("autostart: remove %s: %w", path, err)
	}
	return nil
}

// Enabled reports whether the login item exists.
func Enabled() (bool, error) {
	path, err := loginFile()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("autostart: check %s: %w", path, err)
}
