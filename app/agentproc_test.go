//go:build !windows

package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mailsync/app/logs"
	"mailsync/sync/agent"
)

// TestAgentLogsWhatStopsIt: a started agent has no terminal, so the error
// that ends it must be in its log, where the person is told to look.
func TestAgentLogsWhatStopsIt(t *testing.T) {
	dir, err := os.MkdirTemp("", "ms") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Something that is not a socket sits where the local API's socket goes.
	if err := os.WriteFile(filepath.Join(dir, "agent.sock"), []byte("not a socket"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := agent.Config{DataDir: dir, KeyringService: "mailsync-test-unused"}
	env := Env{Stdout: io.Discard, Stderr: io.Discard, Exe: "/nonexistent", OpenURL: func(string) error { return nil }}
	err = RunAgent(context.Background(), cfg, env, AgentOptions{NoTray: true, NoWindow: true})
	if err == nil {
		t.Fatal("the agent started over a file that is not its socket")
	}
	b, rerr := os.ReadFile(logs.Path(dir))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if !strings.Contains(string(b), `msg="Mail Sync stopped"`) || !strings.Contains(string(b), "is not a socket") {
		t.Fatalf("the log does not say what stopped the agent (%v):\n%s", err, b)
	}
}
