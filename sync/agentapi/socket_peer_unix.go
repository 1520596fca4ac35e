//go:build linux || darwin

package agentapi

import (
	"fmt"
	"net"
	"os"
)

// checkPeer refuses a connection whose peer runs as another user: on the
// agent's side in case the socket's permissions were loosened, on the
// client's side in case someone else's program holds the socket.
func checkPeer(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("agentapi: peer credentials: %w", err)
	}
	var uid uint32
	var uidErr error
	if err := raw.Control(func(fd uintptr) { uid, uidErr = peerUID(int(fd)) }); err != nil {
		return fmt.Errorf("agentapi: peer credentials: %w", err)
	}
	if uidErr != nil {
		return fmt.Errorf("agentapi: peer credentials: %w", uidErr)
	}
	if int(uid) != os.Getuid() {
		return fmt.Errorf("agentapi: peer uid %d is not this process's uid %d", uid, os.Getuid())
	}
	return nil
}
