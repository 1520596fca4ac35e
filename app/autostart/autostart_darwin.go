package autostart

import (
	"fmt"
	"os"
	"path/filepath"
)

// plistFile is ~/Library/LaunchAgents/com.mailsync.agent.plist; launchd
// loads it at the next login.
func plistFile() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("autostart: find home directory: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", LaunchAgentLabel+".plist"), nil
}

// Enable writes the LaunchAgent for exe, which must be absolute.
func Enable(exe string) error {
	path, err := plistFile()
	if err != nil {
		return err
	}
	return installFile(path, exe, LaunchAgentPlist)
}

// Disable removes the LaunchAgent.
func Disable() error {
	path, err := plistFile()
	if err != nil {
		return err
	}
	return removeFile(path)
}

// Enabled reports whether the LaunchAgent exists.
func Enabled() (bool, error) {
	path, err := plistFile()
	if err != nil {
		return false, err
	}
	return fileExists(path)
}
