//go:build !windows

package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// A window the agent started for itself, reaching no agent (Quit was
// clicked right after Settings…), ends instead of starting a new agent that
// would bring back what the person quit.
func TestWindowOfAQuitAgentStartsNoAgent(t *testing.T) {
	t.Setenv(windowOfAgentEnv, "1")
	dir := t.TempDir()
	started := filepath.Join(t.TempDir(), "started")
	// Were an agent started, this "executable" would leave a mark.
	exe := filepath.Join(t.TempDir(), "mailsync")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\ntouch '"+started+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := RunWindow(ctx, agent.Config{DataDir: dir}, Env{Stdout: io.Discard, Stderr: io.Discard, Exe: exe}); err != nil {
		t.Fatalf("RunWindow with no agent to follow: %v, want it to end quietly", err)
	}
	if _, err := os.Stat(started); err == nil {
		t.Fatal("the window of a quit agent started a new agent")
	}
}
