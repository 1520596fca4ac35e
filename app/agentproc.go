package app

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"mailsync/app/logs"
	"mailsync/app/notify"
	"mailsync/app/tray"
	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
	"mailsync/sync/words"
)

// AgentOptions tune the agent process.
type AgentOptions struct {
	// NoWindow: do not open the settings window on first run (the window
	// process started this agent and is already open).
	NoWindow bool
	// NoTray runs without a tray icon (headless machines, some tests).
	NoTray bool
	// QuitWithWindow ends the agent when the settings window it opened is
	// closed (the demo).
	QuitWithWindow bool
	// Verbose also logs to stderr.
	Verbose bool
	// Ready, if set, receives the agent once it serves the local API.
	Ready func(*agent.Agent)
}

// RunAgent runs the resident agent until ctx ends or Quit is chosen: the
// state, the scheduler, the local API and the tray. If another agent holds
// the state, it asks that one to show its window and returns
// ErrAlreadyRunning.
func RunAgent(ctx context.Context, cfg agent.Config, env Env, opt AgentOptions) (err error) {
	if err := storage.EnsureDir(cfg.DataDir); err != nil {
		return err
	}
	log, closeLog := logs.Open(cfg.DataDir, opt.Verbose)
	defer closeLog.Close()
	// A started agent has no terminal (on Windows none at all): what stops
	// it must be in the log, where the person is told to look.
	defer func() {
		if err != nil && !errors.Is(err, ErrAlreadyRunning) && !errors.Is(err, context.Canceled) {
			log.Error("Mail Sync stopped", "err", err)
		}
	}()
	defer captureStdLog(log)()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var window childProcess
	var hub agentapi.WindowHub // the window process follows it over the local API
	defer window.close(&hub, 10*time.Second)
	var onWindowExit func()
	if opt.QuitWithWindow {
		onWindowExit = cancel
	}
	hooks := desktopHooks(cfg, env)
	hooks.ShowWindow = func() error {
		// A window already follows the agent (its own child, or the
		// window that started it): bring that one forward.
		allowForeground()
		if hub.Send(agentapi.WindowRaise) > 0 {
			log.Info("asked the settings window to come forward")
			return nil
		}
		if window.running() {
			return nil // starting; it shows itself
		}
		cmd := exec.Command(env.Exe, "settings")
		cmd.Env = append(append(os.Environ(), env.ChildEnv...), "MAILSYNC_HOME="+cfg.DataDir, windowOfAgentEnv+"=1")
		cmd.Stdout, cmd.Stderr = env.Stderr, env.Stderr
		return window.start(cmd, onWindowExit)
	}
	ag, err := agent.Open(cfg, hooks, log)
	for waited := false; errors.Is(err, storage.ErrLocked); waited = true {
		if c, derr := agentapi.Dial(cfg.DataDir); derr == nil {
			defer c.Close()
			sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_ = c.ShowWindow(sctx)
			return ErrAlreadyRunning
		}
		// No agent answers: a command (an in-process sync or sign-in)
		// holds the state for a while. Start once it is done.
		if !waited {
			log.Info("waiting for another Mail Sync command to finish")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		ag, err = agent.Open(cfg, hooks, log)
	}
	if err != nil {
		return err
	}
	defer ag.Close()
	if err := ag.StartAtLoginOnFirstRun(); err != nil {
		log.Warn("could not turn on start at login", "err", err)
	}

	l, err := agentapi.Listen(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("could not open the local API: %w", err)
	}
	// Every goroutine that may touch the state ends before the state file
	// closes: the deferred Wait runs before the deferred ag.Close above.
	var group sync.WaitGroup
	defer group.Wait()
	defer cancel()
	group.Go(func() {
		if err := agentapi.Serve(ctx, l, servedAgent{ag, &hub, log, cancel}, log); err != nil && ctx.Err() == nil {
			log.Error("local API stopped", "err", err)
		}
	})
	group.Go(func() { _ = ag.Run(ctx) }) // stops the pass in flight and returns
	group.Go(func() { followNotifications(ctx, ag.Board(), log) })
	log.Info("agent started", "dataDir", cfg.DataDir, "sandbox", cfg.Sandbox)
	if opt.Ready != nil {
		opt.Ready(ag)
	}
	if !opt.NoWindow && ag.Board().Get().State == engine.SignedOut {
		if err := hooks.ShowWindow(); err != nil {
			log.Warn("could not open the settings window", "err", err)
		}
	}

	if opt.NoTray {
		<-ctx.Done()
		return nil
	}
	updates, stop := ag.Board().Subscribe()
	go func() {
		<-ctx.Done()
		stop() // closing the updates ends the tray
	}()
	bg := context.Background()
	tray.Run(updates, tray.Actions{
		SyncNow:  func() { report(log, "sync now", ag.SyncNow(bg)) },
		Pause:    func() { report(log, "pause", ag.Pause(bg)) },
		Resume:   func() { report(log, "resume", ag.Resume(bg)) },
		Settings: func() { report(log, "settings", hooks.ShowWindow()) },
		OpenLog:  func() { report(log, "open log", env.OpenURL("file://"+logs.Path(cfg.DataDir))) },
		Quit:     cancel,
	}, nil)
	cancel()
	window.close(&hub, 10*time.Second)
	log.Info("agent stopped")
	return nil
}

// servedAgent is what the local API serves: the agent, the requests to
// the settings window it started, and the way to end it.
type servedAgent struct {
	*agent.Agent
	hub  *agentapi.WindowHub
	log  *slog.Logger
	quit func() // what the tray's Quit does
}

// Quit makes servedAgent an agentapi.Quitter: `mailsync quit` and the
// uninstaller end the agent as the tray's Quit does.
func (s servedAgent) Quit(context.Context) error {
	s.quit()
	return nil
}

// WindowRequests makes servedAgent an agentapi.WindowHost.
func (s servedAgent) WindowRequests(ctx context.Context) (<-chan agentapi.WindowRequest, error) {
	s.log.Info("a settings window follows the agent")
	return s.hub.WindowRequests(ctx)
}

// ErrAlreadyRunning is returned by RunAgent when another agent runs; that
// agent was asked to show its window.
var ErrAlreadyRunning = words.New(alreadyRunning)

func report(log *slog.Logger, what string, err error) {
	if err != nil {
		log.Warn(what, "err", err)
	}
}

// followNotifications shows a desktop notification when the notify policy
// says so: when a reconnect is needed (and daily while it is), once after
// hours of failures.
func followNotifications(ctx context.Context, b *engine.Board, log *slog.Logger) {
	n := notify.New(log)
	defer n.Close()
	ch, stop := b.Subscribe()
	defer stop()
	notify.Follow(ctx, ch, engine.RealClock{}, func(nt notify.Notice) {
		if err := n.Notify(nt.Title, nt.Body); err != nil {
			log.Info("notification not shown", "err", err)
		}
	})
}

// captureStdLog sends what libraries print with the standard log package
// (the tray's icon errors among them) to the agent's log, until the
// returned function puts the previous output back.
func captureStdLog(l *slog.Logger) (restore func()) {
	out, flags, prefix := stdlog.Writer(), stdlog.Flags(), stdlog.Prefix()
	stdlog.SetOutput(stdLogWriter{l})
	stdlog.SetFlags(0)
	stdlog.SetPrefix("")
	return func() {
		stdlog.SetOutput(out)
		stdlog.SetFlags(flags)
		stdlog.SetPrefix(prefix)
	}
}

// stdLogWriter turns each standard-log line into an Info record.
type stdLogWriter struct{ l *slog.Logger }

func (w stdLogWriter) Write(p []byte) (int, error) {
	w.l.Info(strings.TrimRight(string(p), "\n"), "from", "log")
	return len(p), nil
}
