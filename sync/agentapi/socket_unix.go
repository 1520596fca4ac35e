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
	"syscall"
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

// dialAgent connects to the socket of dataDir and checks, before a byte is
// sent, that it is this user's agent's: the data folder is the user's and
// no one else can change it, the socket file is the user's, and (Linux,
// macOS) the process listening runs as the user. Whoever could put their
// own socket at that path would otherwise receive what the command line
// sends, the ClientSuccess password among it. A missing folder or socket is
// no agent; anything else wrong is a refusedEndpointError.
func dialAgent(ctx context.Context, dataDir string) (net.Conn, error) {
	if err := checkDataDir(dataDir); err != nil {
		return nil, err
	}
	path := SocketPath(dataDir)
	if err := checkSocketFile(path); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	if uc, ok := c.(*net.UnixConn); ok {
		if err := checkPeer(uc); err != nil {
			c.Close()
			return nil, &refusedEndpointError{reason: "the program listening on " + path + " does not run as you (" + err.Error() + ")"}
		}
	}
	return c, nil
}

// checkDataDir refuses a data folder that is not the user's or that other
// users can change (they could replace the socket in it).
func checkDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &refusedEndpointError{reason: fmt.Sprintf("the data folder %s is not a folder", dir)}
	}
	uid, ok := ownerUID(fi)
	if !ok {
		return &refusedEndpointError{reason: fmt.Sprintf("the owner of the data folder %s cannot be read", dir)}
	}
	if me := os.Getuid(); uid != me {
		return &refusedEndpointError{reason: fmt.Sprintf("the data folder %s belongs to another user (uid %d, you are uid %d)", dir, uid, me)}
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return &refusedEndpointError{reason: fmt.Sprintf("other users can change the data folder %s (mode %04o); make it private with: chmod 700 %q", dir, perm, dir)}
	}
	return nil
}

// checkSocketFile refuses a socket path that holds something else or a
// socket of another user.
func checkSocketFile(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return &refusedEndpointError{reason: fmt.Sprintf("%s is not a socket", path)}
	}
	uid, ok := ownerUID(fi)
	if !ok {
		return &refusedEndpointError{reason: fmt.Sprintf("the owner of the socket %s cannot be read", path)}
	}
	if me := os.Getuid(); uid != me {
		return &refusedEndpointError{reason: fmt.Sprintf("the socket %s belongs to another user (uid %d, you are uid %d)", path, uid, me)}
	}
	return nil
}

// ownerUID is the uid that owns the file fi describes.
func ownerUID(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
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
