//go:build !windows

package agentapi_test

import (
	"context"
	"errors"
	"mailsync/sync/agentapi"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSocketIsOwnerOnly(t *testing.T) {
	a := startAgent(t)
	fi, err := os.Stat(agentapi.SocketPath(a.dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want a socket with 0600", fi.Mode())
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	dir := shortDir(t)
	// A crashed agent leaves its socket file behind, with nobody listening.
	l, err := net.Listen("unix", agentapi.SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(agentapi.SocketPath(dir)); err != nil {
		t.Fatalf("stale socket file missing: %v", err)
	}

	l, err = agentapi.Listen(dir)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l.Close()
	c, err := net.Dial("unix", agentapi.SocketPath(dir))
	if err != nil {
		t.Fatalf("dial the new socket: %v", err)
	}
	c.Close()
}

func TestListenKeepsOtherFiles(t *testing.T) {
	dir := shortDir(t)
	if err := os.WriteFile(agentapi.SocketPath(dir), []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err := agentapi.Listen(dir); err == nil {
		l.Close()
		t.Fatal("Listen replaced a regular file")
	}
	if b, err := os.ReadFile(agentapi.SocketPath(dir)); err != nil || string(b) != "not a socket" {
		t.Fatalf("the file was changed: %q, %v", b, err)
	}
}

// TestClientRefusesAFolderOthersCanChange: whoever can write in the data
// folder can put their own socket there, so the client sends nothing.
func TestClientRefusesAFolderOthersCanChange(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o720, 0o702} {
		t.Run(mode.String(), func(t *testing.T) {
			a := startAgent(t)
			if err := os.Chmod(a.dir, mode); err != nil {
				t.Fatal(err)
			}
			_, err := agentapi.Dial(a.dir)
			assertRefused(t, err, "other users can change the data folder "+a.dir, "chmod 700")

			// A client made earlier opens no new connection either.
			c := a.client
			c.CloseIdleConnections()
			if err := c.CRMLogin(context.Background(), "ann@example.com", "pässwörd"); err == nil {
				t.Fatal("CRMLogin went through a folder others can change")
			}
			if calls := a.api.Calls(); len(calls) != 0 {
				t.Fatalf("the agent received %v", calls)
			}
		})
	}
}

func TestClientRefusesWhatIsNotASocket(t *testing.T) {
	dir := shortDir(t)
	if err := os.WriteFile(agentapi.SocketPath(dir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := agentapi.Dial(dir)
	assertRefused(t, err, agentapi.SocketPath(dir)+" is not a socket")
}

func TestClientWithoutFolderOrSocketFindsNoAgent(t *testing.T) {
	for name, dir := range map[string]string{
		"no folder": filepath.Join(shortDir(t), "missing"),
		"no socket": shortDir(t),
	} {
		if _, err := agentapi.Dial(dir); !errors.Is(err, agentapi.ErrNoAgent) {
			t.Errorf("%s: Dial = %v, want ErrNoAgent", name, err)
		}
	}
}

// TestClientRefusesAnotherUsersSocketOrFolder needs root to give files to
// another uid.
func TestClientRefusesAnotherUsersSocketOrFolder(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to hand a file to another user")
	}
	const other = 65534
	t.Run("socket", func(t *testing.T) {
		a := startAgent(t)
		if err := os.Lchown(agentapi.SocketPath(a.dir), other, other); err != nil {
			t.Fatal(err)
		}
		_, err := agentapi.Dial(a.dir)
		assertRefused(t, err, "the socket "+agentapi.SocketPath(a.dir)+" belongs to another user (uid 65534")
		if calls := a.api.Calls(); len(calls) != 0 {
			t.Fatalf("the agent received %v", calls)
		}
	})
	t.Run("folder", func(t *testing.T) {
		a := startAgent(t)
		if err := os.Chown(a.dir, other, other); err != nil {
			t.Fatal(err)
		}
		_, err := agentapi.Dial(a.dir)
		assertRefused(t, err, "the data folder "+a.dir+" belongs to another user (uid 65534")
	})
}

// assertRefused checks err is a refusal in words, not "no agent", and
// contains each of want.
func assertRefused(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("Dial succeeded")
	}
	if errors.Is(err, agentapi.ErrNoAgent) {
		t.Fatalf("refusal reported as no agent: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "the local API was refused: ") {
		t.Fatalf("error %q is not a refusal in words", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not say %q", err, w)
		}
	}
}
