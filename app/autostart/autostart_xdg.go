//go:build !darwin && !windows

package autostart

import (
	"fmt"
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
	path, err := desktopFile()
	if err != nil {
		return err
	}
	return installFile(path, exe, DesktopEntry)
}

// Disable removes the autostart entry.
func Disable() error {
	path, err := desktopFile()
	if err != nil {
		return err
	}
	return removeFile(path)
}

// Enabled reports whether the autostart entry exists.
func Enabled() (bool, error) {
	path, err := desktopFile()
	if err != nil {
		return false, err
	}
	return fileExists(path)
}
