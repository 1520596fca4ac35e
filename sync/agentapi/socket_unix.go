//go:build !windows

package agentapi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
)

// socketName is the socket's file name in the data directory.
const socketName = "agent.sock"

// SocketPath returns the path of the agent's socket in dataDir.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, socketName) }

func address(dataDir string) string { return SocketPath(dataDir) }

func listen(dataDir string) (net.Listener, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("agentapi: create data directory: %w", err)
	}
	path := SocketPath(dataDir)
	if fi, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, dialTimeout); err == nil {
			c.Close()
			return nil, ErrAgentRunning
		}
		if fi.Mode()&fs.ModeSocket == 0 {
			// Never delete something that is not ours to delete.
			return nil, fmt.Errorf("agentapi: %s exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("agentapi: remove stale socket: %w", err)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("agentapi: listen: %w", err)
	}
	if err := restrictSocket(path); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// dialAgent connects to the socket of dataDir.
func dialAgent(ctx context.Context, dataDir string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	return d.DialContext(ctx, "unix", SocketPath(dataDir))
}

// checkLocal reports whether c came over a Unix socket and, if so, why its
// peer is refused (nil when it runs as the agent's user).
func checkLocal(c net.Conn) (bool, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return false, nil
	}
	return true, checkPeer(uc)
}
