//go:build !darwin && !windows

package autostart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// desktopFile is $XDG_CONFIG_HOME/autostart/mailsync.desktop, with
// XDG_CONFIG_HOME defaulting to ~/.config as the spec says.
func desktopFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("autostart: find config directory: %w", err)
	}
	return filepath.Join(dir, "autostart", DesktopFileName), nil
}

// Enable writes the autostart entry for exe, which must be absolute.
func Enable(exe string) error {
	if !filepath.IsAbs(exe) {
		return fmt.Errorf("autostart: executable path %q is not absolute", exe)
	}
	path, err := desktopFile()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("autostart: create %s: %w", filepath.Dir(path), err)
	}
	// Write then rename, so a session starting meanwhile never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(DesktopEntry(exe)), 0o644); err != nil {
		return fmt.Errorf("autostart: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("autostart: install %s: %w", path, err)
	}
	return nil
}

// Disable removes the autostart entry.
func Disable() error {
	path, err := desktopFile()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("autostart: remove %s: %w", path, err)
	}
	return nil
}

// Enabled reports whether the autostart entry exists.
func Enabled() (bool, error) {
	path, err := desktopFile()
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
