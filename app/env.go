package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pkg/browser"

	"mailsync/sync/agentapi"
)

// Env is what a process of Mail Sync gets from outside: where to print,
// which executable it is, and how to open URLs.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          *os.File
	// Exe is this program, to start the agent or a window process.
	Exe string
	// OpenURL opens a URL in the person's browser.
	OpenURL func(url string) error
	// ChildEnv is added to the environment of processes this one starts.
	ChildEnv []string
}

// DefaultEnv is the environment of a real run. MAILSYNC_BROWSER, when set,
// names the command that opens sign-in URLs ("none" only prints them).
func DefaultEnv() Env {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return Env{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin, Exe: exe, OpenURL: OpenerFromEnv()}
}

// OpenerFromEnv returns the URL opener: pkg/browser, or the command named by
// MAILSYNC_BROWSER ("none": do not open, the URL is printed or shown).
func OpenerFromEnv() func(string) error {
	switch b := strings.TrimSpace(os.Getenv("MAILSYNC_BROWSER")); b {
	case "":
		return openInBackground(browser.OpenURL)
	case "none":
		return func(string) error { return errors.New("not opening a browser (MAILSYNC_BROWSER=none)") }
	default:
		return openInBackground(func(u string) error {
			parts := strings.Fields(b)
			return exec.Command(parts[0], append(parts[1:], u)...).Run()
		})
	}
}

// openInBackground does not wait for the opener: on Linux pkg/browser waits
// for xdg-open, which can wait for the whole browser.
func openInBackground(open func(string) error) func(string) error {
	return func(u string) error {
		errc := make(chan error, 1)
		go func() { errc <- open(u) }()
		t := time.NewTimer(2 * time.Second)
		defer t.Stop()
		select {
		case err := <-errc:
			if err != nil {
				return fmt.Errorf("could not open the browser: %w", err)
			}
		case <-t.C:
		}
		return nil
	}
}

// childProcess is a started window process, so a second request raises it
// instead of opening another.
type childProcess struct {
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

func (c *childProcess) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd != nil
}

func (c *childProcess) start(cmd *exec.Cmd, onExit func()) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		return nil
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	c.cmd, c.done = cmd, make(chan struct{})
	done := c.done
	go func() {
		_ = cmd.Wait()
		c.mu.Lock()
		c.cmd = nil
		c.mu.Unlock()
		close(done)
		if onExit != nil {
			onExit()
		}
	}()
	return nil
}

// close asks the window to close over the local API (every OS alike:
// Windows has no signals to ask with) and waits for it to exit, ending it
// if it has not within timeout.
func (c *childProcess) close(hub *agentapi.WindowHub, timeout time.Duration) {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	hub.Send(agentapi.WindowClose)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = cmd.Process.Kill()
		<-done
	}
}
