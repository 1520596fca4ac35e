package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"mailsync/app/settings"
	"mailsync/assets"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/words"
)

// RunWindow runs the settings window process: it connects to the agent of
// cfg.DataDir, starting one if none runs, and shows the window until it is
// closed. The window holds no state; everything comes from the agent.
func RunWindow(ctx context.Context, cfg agent.Config, env Env) error {
	c, err := agentapi.Dial(cfg.DataDir)
	if errors.Is(err, agentapi.ErrNoAgent) {
		if os.Getenv(windowOfAgentEnv) == "1" {
			// The agent that started this window has quit before the
			// window reached it (Quit clicked right after Settings…):
			// starting another would bring back what the person ended.
			return nil
		}
		c, err = startAgent(ctx, cfg, env)
	}
	if err != nil {
		return err
	}
	defer c.Close()

	// No unique ID: the window keeps nothing of its own (settings live in
	// the agent), and with an ID Fyne keeps a preferences file that it
	// rewrites on every close while watching it, re-reads it half written
	// and prints "Fyne error: Preferences load error". Without one, its
	// preferences stay in memory. Nothing here may call Preferences(),
	// Storage() or the file dialogs, which want an ID.
	a := fyneapp.NewWithID("")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.AppIcon()))
	w := settings.New(a, c)
	w.Window().SetIcon(a.Icon())
	if cfg.Sandbox || os.Getenv("MAILSYNC_SANDBOX") == "1" {
		w.Window().SetTitle(settings.SandboxTitle)
	}
	// The agent asks its window to come forward or to close over the local
	// API; the stream ending (the agent quit or died) closes it too.
	reqs, err := c.WindowRequests(ctx)
	if err != nil {
		reqs = nil // an agent that offers none: the window lives on its own
	}
	go func() {
		if reqs == nil {
			<-ctx.Done()
			fyne.Do(a.Quit)
			return
		}
		for {
			select {
			case r, ok := <-reqs:
				switch {
				case !ok || r == agentapi.WindowClose:
					fyne.Do(a.Quit)
					return
				case r == agentapi.WindowRaise:
					fyne.Do(func() {
						w.Show()
						w.Window().RequestFocus()
					})
				}
			case <-ctx.Done():
				fyne.Do(a.Quit)
				return
			}
		}
	}()
	w.Show()
	a.Run()
	return nil
}

// windowOfAgentEnv marks a window process the agent started for itself: such
// a window follows that agent and never starts one of its own.
const windowOfAgentEnv = "MAILSYNC_WINDOW_OF_AGENT"

// startAgent starts the agent as a process of its own (it outlives this
// window) and waits for its local API.
func startAgent(ctx context.Context, cfg agent.Config, env Env) (*agentapi.Client, error) {
	cmd := exec.Command(env.Exe)
	cmd.Env = append(append(os.Environ(), env.ChildEnv...), "MAILSYNC_HOME="+cfg.DataDir, "MAILSYNC_NO_WINDOW=1")
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("could not start Mail Sync: %w", err)
	}
	_ = cmd.Process.Release()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := agentapi.Dial(cfg.DataDir)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, words.New(fmt.Sprintf(windowNoAgent, cfg.DataDir))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
