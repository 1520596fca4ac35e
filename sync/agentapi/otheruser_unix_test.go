//go:build unix

package agentapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// otherUserEnv tells a re-executed test binary to act as another user's
// client of the agent whose data directory it names.
const otherUserEnv = "MAILSYNC_TEST_OTHER_USER_DIR"

// TestOtherUserClient is the child side of TestOtherUserCannotConnect; it
// does nothing in a normal run.
func TestOtherUserClient(t *testing.T) {
	dir := os.Getenv(otherUserEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestOtherUserCannotConnect")
	}
	fmt.Printf("child uid %d\n", os.Getuid())
	c, err := Dial(dir)
	if err != nil {
		var te *transportError
		if errors.As(err, &te) {
			err = fmt.Errorf("%w: %v", err, te.err)
		}
		fmt.Printf("refused at dial: %v\n", err)
		return
	}
	defer c.Close()
	if _, err := c.Status(context.Background()); err != nil {
		fmt.Printf("refused at request: %v\n", err)
		return
	}
	fmt.Println("CONNECTED")
}

func TestOtherUserCannotConnect(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	a := startAgent(t)
	// Let the other user reach the socket through the directory, so the
	// socket's own mode (and then the uid check) is what stops it.
	if err := os.Chmod(a.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The test binary may sit in a directory only root can enter.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	binDir := shortDir(t)
	if err := os.Chmod(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(binDir, "agentapi.test")
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}

	runChild := func(t *testing.T) string {
		t.Helper()
		cmd := exec.Command(bin, "-test.run=^TestOtherUserClient$", "-test.count=1")
		cmd.Env = append(os.Environ(), otherUserEnv+"="+a.dir, "GOCOVERDIR="+binDir)
		cmd.Dir = binDir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "child uid 65534") {
			t.Fatalf("the child did not run as uid 65534:\n%s", out)
		}
		t.Logf("child:\n%s", out)
		return string(out)
	}

	t.Run("socket mode", func(t *testing.T) {
		out := runChild(t)
		if !strings.Contains(out, "refused at dial") || !strings.Contains(out, "permission denied") {
			t.Fatalf("another user's client was not refused by the socket's mode:\n%s", out)
		}
	})
	t.Run("uid check", func(t *testing.T) {
		// Were the socket's mode loosened, the peer's uid still refuses it.
		if err := os.Chmod(SocketPath(a.dir), 0o666); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(SocketPath(a.dir), 0o600)
		out := runChild(t)
		if !strings.Contains(out, "refused at request: the local API answers only its own user") {
			t.Fatalf("another user's request was not refused by the uid check:\n%s", out)
		}
		if calls := a.api.called(); len(calls) != 0 {
			t.Fatalf("another user's request reached the API: %v", calls)
		}
	})
}
