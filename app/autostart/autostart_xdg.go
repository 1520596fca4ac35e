//go:build !darwin && !windows

package autostart

import (
	"fmt"
	"os"
	"path/filepath"
)

// loginFile is $XDG_CONFIG_HOME/autostart/mailsync.desktop, with
// XDG_CONFIG_HOME defaulting to ~/.config as the spec says.
func loginFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("autostart: find config directory: %w", err)
	}
	return filepath.Join(dir, "autostart", DesktopFileName), nil
}

// loginEntry is the content of the login file.
func loginEntry(exe string) string { return DesktopEntry(exe) }
