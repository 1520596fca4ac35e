package app

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/agent"
)

// TestQuitEndsTheRunningAgent: `mailsync quit` (what the uninstaller runs)
// ends the agent as the tray's Quit does, and returns only once the agent
// has let go of its state.
func TestQuitEndsTheRunningAgent(t *testing.T) {
	dir, err := os.MkdirTemp("", "ms") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	cfg := agent.Config{DataDir: dir, KeyringService: "mailsync-test-unused", Interval: time.Hour}
	env := Env{Stdout: io.Discard, Stderr: io.Discard, Exe: "/nonexistent", OpenURL: func(string) error { return nil }}
	ready := make(chan struct{})
	ended := make(chan error, 1)
	go func() {
		ended <- RunAgent(context.Background(), cfg, env, AgentOptions{NoTray: true, NoWindow: true,
			Ready: func(*agent.Agent) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-ended:
		t.Fatalf("the agent did not start: %v", err)
	}

	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Quit(ctx, cfg, Env{Stdout: &out, Stderr: io.Discard}); err != nil {
		t.Fatalf("Quit: %v", err)
	}
	if !strings.Contains(out.String(), "Mail Sync has quit.") {
		t.Errorf("Quit printed %q", out.String())
	}
	// The state is free the moment Quit returns: nothing else holds it.
	st, err := storage.Open(dir)
	if err != nil {
		t.Fatalf("the state is still held after Quit returned: %v", err)
	}
	st.Close()
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("the agent ended with %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the agent did not end after Quit")
	}

	// With none running, quit says so and succeeds.
	out.Reset()
	if err := Quit(ctx, cfg, Env{Stdout: &out, Stderr: io.Discard}); err != nil || !strings.Contains(out.String(), "not running") {
		t.Fatalf("Quit with no agent: %v, printed %q; want it to say Mail Sync is not running", err, out.String())
	}
}
