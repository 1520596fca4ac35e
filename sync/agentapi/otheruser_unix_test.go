//go:build unix

package agentapi_test

import (
	"bufio"
	"context"
	"fmt"
	"mailsync/sync/agentapi"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
	// The client's own checks refuse another user's agent before a byte
	// is sent; the agent's defences are then tried with a client that
	// skips them.
	if _, err := agentapi.Dial(dir); err != nil {
		fmt.Printf("client refused: %v\n", err)
	} else {
		fmt.Println("CLIENT DIALLED")
	}
	c, err := agentapi.DialUnchecked(dir)
	if err != nil {
		if cause := agentapi.TransportCause(err); cause != nil {
			err = fmt.Errorf("%w: %v", err, cause)
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

	t.Run("client checks", func(t *testing.T) {
		out := runChild(t)
		if !strings.Contains(out, "client refused: the local API was refused: the data folder "+a.dir+" belongs to another user") {
			t.Fatalf("another user's client dialled an agent it does not own:\n%s", out)
		}
	})
	t.Run("socket mode", func(t *testing.T) {
		out := runChild(t)
		if !strings.Contains(out, "refused at dial") || !strings.Contains(out, "permission denied") {
			t.Fatalf("another user's client was not refused by the socket's mode:\n%s", out)
		}
	})
	t.Run("uid check", func(t *testing.T) {
		// Were the socket's mode loosened, the peer's uid still refuses it.
		if err := os.Chmod(agentapi.SocketPath(a.dir), 0o666); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(agentapi.SocketPath(a.dir), 0o600)
		out := runChild(t)
		if !strings.Contains(out, "refused at request: the local API answers only its own user") {
			t.Fatalf("another user's request was not refused by the uid check:\n%s", out)
		}
		if calls := a.api.Calls(); len(calls) != 0 {
			t.Fatalf("another user's request reached the API: %v", calls)
		}
	})
}

// squatterEnv tells a re-executed test binary to listen on the socket of
// the data directory it names, as another user's program would.
const squatterEnv = "MAILSYNC_TEST_SQUATTER_DIR"

// TestSquatter is the child side of TestClientRefusesAnotherUsersListener;
// it does nothing in a normal run.
func TestSquatter(t *testing.T) {
	dir := os.Getenv(squatterEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestClientRefusesAnotherUsersListener")
	}
	l, err := net.Listen("unix", agentapi.SocketPath(dir))
	if err != nil {
		fmt.Printf("listen: %v\n", err)
		return
	}
	fmt.Println("LISTENING")
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			b := make([]byte, 1)
			if n, _ := c.Read(b); n > 0 {
				fmt.Println("RECEIVED")
			}
			c.Close()
		}()
	}
}

// TestClientRefusesAnotherUsersListener: a socket file that looks like
// the user's (right owner, private folder) but is served by another user's
// program is refused by the peer's credentials.
func TestClientRefusesAnotherUsersListener(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a listener as another user")
	}
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("no peer credentials on " + runtime.GOOS)
	}
	dir := shortDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
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
	cmd := exec.Command(bin, "-test.run=^TestSquatter$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), squatterEnv+"="+dir, "GOCOVERDIR="+binDir)
	cmd.Dir = binDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var out strings.Builder
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if lines.Text() == "LISTENING" {
			break
		}
	}
	if !strings.Contains(out.String(), "LISTENING") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the listener did not start:\n%s", out.String())
	}
	// Make the place look like the user's own.
	if err := os.Lchown(agentapi.SocketPath(dir), 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, dialErr := agentapi.Dial(dir)

	cmd.Process.Kill()
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
	}
	cmd.Wait()
	assertRefused(t, dialErr, "the program listening on "+agentapi.SocketPath(dir)+" does not run as you")
	if strings.Contains(out.String(), "RECEIVED") {
		t.Fatalf("the listener received bytes:\n%s", out.String())
	}
}
