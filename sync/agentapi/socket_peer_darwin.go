package agentapi

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// checkPeer refuses a connection whose peer runs as another user
// (LOCAL_PEERCRED), in case the socket's permissions were loosened.
func checkPeer(c *net.UnixConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("agentapi: peer credentials: %w", err)
	}
	var cred *unix.Xucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	}); err != nil {
		return fmt.Errorf("agentapi: peer credentials: %w", err)
	}
	if credErr != nil {
		return fmt.Errorf("agentapi: peer credentials: %w", credErr)
	}
	if int(cred.Uid) != os.Getuid() {
		return fmt.Errorf("agentapi: peer uid %d is not the agent's uid %d", cred.Uid, os.Getuid())
	}
	return nil
}
