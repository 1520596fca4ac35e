//go:build !windows

package agentapi

import (
	"net"
	"os"
	"testing"
)

func TestSocketIsOwnerOnly(t *testing.T) {
	a := startAgent(t)
	fi, err := os.Stat(SocketPath(a.dir))
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
	l, err := net.Listen("unix", SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(SocketPath(dir)); err != nil {
		t.Fatalf("stale socket file missing: %v", err)
	}

	l, err = Listen(dir)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer l.Close()
	c, err := net.Dial("unix", SocketPath(dir))
	if err != nil {
		t.Fatalf("dial the new socket: %v", err)
	}
	c.Close()
}

func TestListenKeepsOtherFiles(t *testing.T) {
	dir := shortDir(t)
	if err := os.WriteFile(SocketPath(dir), []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err := Listen(dir); err == nil {
		l.Close()
		t.Fatal("Listen replaced a regular file")
	}
	if b, err := os.ReadFile(SocketPath(dir)); err != nil || string(b) != "not a socket" {
		t.Fatalf("the file was changed: %q, %v", b, err)
	}
}
