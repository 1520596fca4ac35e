package app_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsync/app/settings"
	"mailsync/sync/agentapi"
)

// lockedBuffer collects a child's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Closing the settings window from the title bar ends its process quietly:
// Fyne reports nothing (no "Fyne error: Preferences load error", which
// came from Fyne saving and re-reading a preferences file the window never
// uses), and no preferences file is left behind. Closed three times, as
// the error came from a race.
func TestSettingsWindowClosesQuietly(t *testing.T) {
	if os.Getenv("DISPLAY") == "" || os.Getenv("MAILSYNC_REAL_KEYRING") != "1" {
		t.Skip("needs an X server and a Secret Service: run under .ci/desktop-session")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := buildMailSync(t, ctx, tmp)
	home := filepath.Join(tmp, "data")
	config := filepath.Join(tmp, "config")
	env := append(os.Environ(),
		"MAILSYNC_HOME="+home,
		"MAILSYNC_KEYRING_SERVICE="+fmt.Sprintf("mailsync-window-close-%d", time.Now().UnixNano()),
		"MAILSYNC_BROWSER=none",
		"MAILSYNC_NO_WINDOW=1",
		"XDG_CONFIG_HOME="+config,
	)

	agentCmd := exec.Command(bin)
	agentCmd.Env = env
	var agentOut lockedBuffer
	agentCmd.Stdout, agentCmd.Stderr = &agentOut, &agentOut
	if err := agentCmd.Start(); err != nil {
		t.Fatalf("start the agent: %v", err)
	}
	agentDone := make(chan struct{})
	go func() { _ = agentCmd.Wait(); close(agentDone) }()
	t.Cleanup(func() {
		_ = agentCmd.Process.Kill()
		<-agentDone
	})
	waitFor(t, ctx, "the agent's local API", func() (bool, bool, error) {
		select {
		case <-agentDone:
			return false, false, fmt.Errorf("the agent exited:\n%s", agentOut.String())
		default:
		}
		c, err := agentapi.Dial(home)
		if err != nil {
			return false, false, nil
		}
		c.Close()
		return true, true, nil
	})

	// A preferences file left empty by an interrupted save, as the old
	// window's own close could leave it: a window that reads it reports
	// "Preferences load error".
	stale := filepath.Join(config, "fyne", "com.mailsync.app", "preferences.json")
	if err := os.MkdirAll(filepath.Dir(stale), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	for i := range 3 {
		win := exec.Command(bin, "settings")
		win.Env = env
		var stderr lockedBuffer
		win.Stdout, win.Stderr = &stderr, &stderr
		if err := win.Start(); err != nil {
			t.Fatalf("start the window: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- win.Wait() }()
		id := waitWindow(t, ctx, settings.Title)
		if err := closeWindow(id); err != nil {
			t.Fatalf("close the window: %v", err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("close %d: the window process ended with %v", i+1, err)
			}
		case <-ctx.Done():
			_ = win.Process.Kill()
			t.Fatalf("close %d: the window process still runs after its window was closed:\n%s", i+1, stderr.String())
		}
		if out := stderr.String(); strings.Contains(out, "Fyne error") {
			t.Errorf("close %d: the window process reported:\n%s", i+1, out)
		}
		// The next window must not find this one's.
		waitFor(t, ctx, "the closed window to go", func() (bool, bool, error) {
			out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^"+settings.Title).Output()
			return true, strings.TrimSpace(string(out)) == "", nil
		})
	}
	m, _ := filepath.Glob(filepath.Join(config, "fyne", "*", "preferences.json"))
	if fi, err := os.Stat(stale); len(m) != 1 || err != nil || fi.Size() != 0 {
		t.Errorf("the window wrote Fyne preferences: %v", m)
	}
}
