package autostart

import (
	"fmt"
	"os"
	"path/filepath"
)

// loginFile is ~/Library/LaunchAgents/com.mailsync.agent.plist; launchd
// loads it at the next login.
func loginFile() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("autostart: find home directory: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents", LaunchAgentLabel+".plist"), nil
}

// loginEntry is the content of the login file.
func loginEntry(exe string) string { return LaunchAgentPlist(exe) }
