package agentapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// currentUser is the SID of the user this process runs as, looked up once.
var currentUser = sync.OnceValues(func() (*windows.SID, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("agentapi: who is the current user: %w", err)
	}
	return u.User.Sid.Copy()
})

// address is the agent's pipe: its name carries the user's SID, so every
// user of the PC has their own, and a hash of the data directory, so a
// sandbox or test agent with MAILSYNC_HOME elsewhere never meets the real one.
func address(dataDir string) string {
	sid := "unknown"
	if u, err := currentUser(); err == nil {
		sid = u.String()
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(abs))))
	return `\\.\pipe\Mail Sync ` + sid + " " + hex.EncodeToString(sum[:8])
}

// pipeSDDL is the pipe's security descriptor: owned by the user, and a
// protected DACL (nothing inherited) with one entry, full access for the user.
// Everyone else, administrators and SYSTEM included, is refused at open.
func pipeSDDL(user *windows.SID) string {
	return fmt.Sprintf("O:%[1]sD:P(A;;GA;;;%[1]s)", user)
}

func listen(dataDir string) (net.Listener, error) {
	user, err := currentUser()
	if err != nil {
		return nil, err
	}
	name := address(dataDir)
	// Look first: a live agent answers, and a pipe someone else created
	// is refused by the check in dialAgent.
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	c, err := dialAgent(ctx, dataDir)
	var refused *refusedEndpointError
	switch {
	case err == nil:
		c.Close()
		return nil, ErrAgentRunning
	case errors.As(err, &refused):
		return nil, fmt.Errorf("agentapi: listen: %w", refused)
	case !errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
		return nil, fmt.Errorf("agentapi: listen: %s exists and does not answer: %w", name, err)
	}
	// go-winio creates the first instance with FILE_CREATE, so that on
	// Windows this also fails if someone created the name since we looked.
	l, err := winio.ListenPipe(name, &winio.PipeConfig{SecurityDescriptor: pipeSDDL(user)})
	if err != nil {
		return nil, fmt.Errorf("agentapi: listen on %s: %w", name, err)
	}
	return &pipeListener{l}, nil
}

// dialAgent connects to the pipe of dataDir and checks it is this user's
// agent's: owned by the user, with a DACL that admits no one else. A pipe
// someone else created first fails that check and is refused before a
// byte is sent.
func dialAgent(ctx context.Context, dataDir string) (net.Conn, error) {
	c, err := winio.DialPipeContext(ctx, address(dataDir))
	if err != nil {
		return nil, err
	}
	if err := verifyPipe(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// verifyPipe reads the security descriptor of the pipe c is connected to.
func verifyPipe(c net.Conn) error {
	f, ok := c.(interface{ Fd() uintptr })
	if !ok {
		return &refusedEndpointError{reason: fmt.Sprintf("cannot read the security of a %T", c)}
	}
	user, err := currentUser()
	if err != nil {
		return err
	}
	sd, err := windows.GetSecurityInfo(windows.Handle(f.Fd()), windows.SE_KERNEL_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return &refusedEndpointError{reason: fmt.Sprintf("cannot read the pipe's security: %v", err)}
	}
	return checkPipeSecurity(sd, user)
}

// checkPipeSecurity accepts sd only if user owns it and its DACL allows
// user and no one else.
func checkPipeSecurity(sd *windows.SECURITY_DESCRIPTOR, user *windows.SID) error {
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return &refusedEndpointError{reason: "the pipe has no owner"}
	}
	if !owner.Equals(user) {
		return &refusedEndpointError{reason: "the pipe belongs to " + owner.String() + ", not to the current user"}
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		return &refusedEndpointError{reason: "the pipe admits everyone (no DACL)"}
	}
	grantsUser := false
	for i := range uint32(dacl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return &refusedEndpointError{reason: fmt.Sprintf("cannot read the pipe's DACL: %v", err)}
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE {
			continue // deny entries take access away; they never admit anyone
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if !sid.Equals(user) {
			return &refusedEndpointError{reason: "the pipe also admits " + sid.String()}
		}
		grantsUser = true
	}
	if !grantsUser {
		// An agent's pipe names its user; one that does not was made by
		// someone else (Wine reports a missing DACL this way too).
		return &refusedEndpointError{reason: "the pipe's DACL does not name the current user"}
	}
	return nil
}

// pipeListener marks the connections it accepts as the agent's own pipe's.
type pipeListener struct{ net.Listener }

func (l *pipeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &pipeConn{c}, nil
}

// pipeConn is a connection accepted on the agent's pipe. The pipe's DACL
// has already refused every other user at open.
type pipeConn struct{ net.Conn }

// checkLocal reports whether c came over the agent's pipe.
func checkLocal(c net.Conn) (bool, error) {
	_, ok := c.(*pipeConn)
	return ok, nil
}
