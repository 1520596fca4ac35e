//go:build !windows

package agentapi

import (
	"fmt"
	"os"
)

// restrictSocket makes the socket file reachable by its owner only. It runs
// right after bind, so the socket is briefly subject to the umask; the data
// directory is 0700 and the peer check (Linux, macOS) covers that moment.
func restrictSocket(path string) error {
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("agentapi: restrict socket: %w", err)
	}
	return nil
}
