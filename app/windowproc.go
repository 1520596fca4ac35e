package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"mailsync/app/settings"
	"mailsync/assets"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
)

// RunWindow runs the settings window process: it connects to the agent of
// cfg.DataDir, starting one if none runs, and shows the window until it is
// closed. The window holds no state; everything comes from the agent.
func RunWindow(ctx context.Context, cfg agent.Config, env Env) error {
	c, err := agentapi.Dial(cfg.DataDir)
	if errors.Is(err, agentapi.ErrNoAgent) {
		c, err = startAgent(ctx, cfg, env)
	}
	if err != nil {
		return err
	}
	defer c.Close()

	a := fyneapp.NewWithID("com.mailsync.app")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.AppIcon()))
	w := settings.New(a, c)
	w.Window().SetIcon(a.Icon())
	if cfg.Sandbox || os.Getenv("MAILSYNC_SANDBOX") == "1" {
		w.Window().SetTitle(settings.SandboxTitle)
	}
	raise := make(chan os.Signal, 1)
	if raiseSignal != nil {
		signal.Notify(raise, raiseSignal)
		defer signal.Stop(raise)
	}
	go func() {
		for {
			select {
			case <-raise:
				fyne.Do(w.Show)
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
			return nil, errors.New("Mail Sync did not start; see the log in " + cfg.DataDir)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
