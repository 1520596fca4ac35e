package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"mailsync/storage"
	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/words"
)

// Hooks are what the agent asks of the desktop around it. Any may be nil.
type Hooks struct {
	// OpenURL opens a URL in the person's browser (pkg/browser in the app).
	OpenURL func(url string) error
	// ShowWindow opens or raises the settings window.
	ShowWindow func() error
	// Autostart turns starting at login on or off and tells whether it is on.
	SetAutostart func(on bool) error
	Autostart    func() (bool, error)
}

// Agent owns the state and answers agentapi.API. Safe for concurrent use:
// every command goes to its serve loop (loop.go), which owns the facts.
type Agent struct {
	cfg     Config
	hooks   Hooks
	store   *storage.Store
	secrets storage.Secrets
	keys    *keyring // every keyring call of the agent, with a timeout
	board   *engine.Board
	eng     *engine.Engine
	sched   *engine.Scheduler
	log     *slog.Logger
	now     func() time.Time

	// life ends at Quit (Close): every context the loop hands out ends
	// with it.
	life    context.Context
	lifeEnd context.CancelFunc

	cmds     chan func(*loopState) // to the loop
	progress chan progressMsg      // 1-buffered, the newest position only
	quit     chan struct{}         // closed by Close
	loopDone chan struct{}         // closed when the loop has ended

	closeOnce sync.Once
	closeErr  error

	// budget is the mailbox's one concurrency budget: every Graph client
	// the agent makes counts against it, so a pass and a backfill together
	// never ask Outlook for more than its four requests.
	budget *graph.Budget
}

var _ agentapi.API = (*Agent)(nil)

// Open opens the state in cfg.DataDir (storage.ErrLocked when another
// process holds it), prepares the engine and the scheduler, and starts the
// serve loop. log may be nil.
func Open(cfg Config, hooks Hooks, log *slog.Logger) (*Agent, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Hour
	}
	if cfg.KeyringService == "" {
		cfg.KeyringService = storage.DefaultService
	}
	st, err := storage.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:      cfg,
		hooks:    hooks,
		store:    st,
		secrets:  storage.Secrets{Service: cfg.KeyringService},
		log:      log,
		now:      time.Now,
		cmds:     make(chan func(*loopState)),
		progress: make(chan progressMsg, 1),
		quit:     make(chan struct{}),
		loopDone: make(chan struct{}),
		budget:   graph.NewBudget(),
	}
	a.life, a.lifeEnd = context.WithCancel(context.Background())
	a.keys = &keyring{secrets: a.secrets, silent: a.keyringSilent, answered: a.keyringAnswered}
	s := &loopState{a: a, mem: engine.Status{Sandbox: cfg.Sandbox}}
	if err := s.reload(); err != nil {
		st.Close()
		return nil, err
	}
	s.dropTokens() // the first connection's life
	a.board = engine.NewBoard(s.status())
	a.eng = &engine.Engine{Store: st, Log: log, PassTimeout: cfg.PassTimeout, Rules: a.applyPolicy}
	a.reportPolicy()
	a.enforceStartAtLogin(s.meta)
	a.sched = &engine.Scheduler{
		Interval: cfg.Interval,
		Clock:    engine.RealClock{},
		Pass:     a.requestPass,
		Next:     a.showNext,
		Log:      log,
	}
	a.sched.SetPaused(s.meta.Paused)
	a.keys.start()
	go a.serve(s)
	return a, nil
}

// Run runs the scheduler until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	a.resumeBackfill()
	return a.sched.Run(ctx)
}

// Close ends the loop: it cancels the sign-in, the ops and the pass in
// flight, refuses new commands, waits until everything the loop started
// has ended, and then releases the state file, so nothing of the agent
// writes to it after. Stop the scheduler (cancel Run's ctx and wait for
// Run) before. Calls after the first return the first's result.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		close(a.quit)
		<-a.loopDone
		a.keys.stop()
		a.closeErr = a.store.Close()
	})
	return a.closeErr
}

// Board is the agent's status board (the tray subscribes to it in-process).
// Only the loop updates it.
func (a *Agent) Board() *engine.Board { return a.board }

// Store is the agent's state (for commands that read it).
func (a *Agent) Store() *storage.Store { return a.store }

// ErrNotConnected means no Microsoft 365 account is connected.
var ErrNotConnected = words.New(notConnected)

// ErrCRMSignedOut means no ClientSuccess account is signed in.
var ErrCRMSignedOut = words.New(crmSignedOut)

// ErrNeedsReconnect wraps the reason the Microsoft sign-in must be redone.
type ErrNeedsReconnect struct{ Reason string }

func (e ErrNeedsReconnect) Error() string { return e.Reason }

// PassNow runs one pass and returns its summary (the `mailsync sync`
// command without a running agent): at once, or after the pass or account
// change in flight. Every attempt, done or failed, counts in Status.Passes
// once its outcome is on the board.
func (a *Agent) PassNow(ctx context.Context) (engine.Summary, error) {
	return a.requestPass(ctx)
}

// remotes builds the Graph and ClientSuccess clients from the stored account
// and keyring secrets.
func (a *Agent) remotes(ctx context.Context) (engine.Mailbox, engine.CRM, error) {
	m, err := a.meta(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := readiness(m); err != nil {
		return nil, nil, err
	}
	ts, err := a.tokenSource(ctx, m.Account.Email)
	if err != nil {
		return nil, nil, err
	}
	c, err := a.crmClient(ctx, m.CRMUser)
	if err != nil {
		return nil, nil, err
	}
	gc := graph.NewClient(a.cfg.GraphURL, ts.Client(ctx))
	gc.ShareBudget(a.budget)
	gc.SetInvalidate(ts.Invalidate)
	return gc, c, nil
}

// Status implements agentapi.API: the board, which the loop keeps.
func (a *Agent) Status(context.Context) (engine.Status, error) { return a.board.Get(), nil }

// Watch implements agentapi.API.
func (a *Agent) Watch(ctx context.Context) (<-chan engine.Status, error) {
	ch, stop := a.board.Subscribe()
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ch, nil
}

// ErrPaused is the answer to a sync asked for while paused.
var ErrPaused = words.New(pausedFirst)

// SyncNow implements agentapi.API: it asks the scheduler for a pass and
// returns at once.
func (a *Agent) SyncNow(ctx context.Context) error {
	if err := a.canSync(ctx); err != nil {
		return err
	}
	if r, _ := a.sched.Request(); r == nil {
		return ErrPaused
	}
	return nil
}

// Sync implements agentapi.API: it asks the scheduler for a pass, or joins
// the one in flight, and returns that pass's outcome once it has ended.
func (a *Agent) Sync(ctx context.Context) (agentapi.PassResult, error) {
	if err := a.canSync(ctx); err != nil {
		return agentapi.PassResult{}, err
	}
	r, joined := a.sched.Request()
	if r == nil {
		return agentapi.PassResult{}, ErrPaused
	}
	select {
	case <-r.Done():
	case <-ctx.Done():
		return agentapi.PassResult{}, ctx.Err()
	}
	sum, err := r.Result()
	if err != nil {
		return agentapi.PassResult{}, errors.New(Words(err))
	}
	return agentapi.ResultOf(sum, joined), nil
}

func (a *Agent) canSync(ctx context.Context) error {
	m, err := a.meta(ctx)
	if err != nil {
		return err
	}
	return readiness(m)
}

// readiness says in words why the accounts in m cannot sync, or nil.
func readiness(m storage.Meta) error {
	switch {
	case m.Account == nil:
		return ErrNotConnected
	case m.NeedsReconnect != "":
		return ErrNeedsReconnect{Reason: m.NeedsReconnect}
	case m.CRMUser == "":
		return ErrCRMSignedOut
	}
	return nil
}

// Pause implements agentapi.API. A pass in flight finishes.
func (a *Agent) Pause(ctx context.Context) error {
	return a.do(ctx, func(s *loopState) error {
		if err := s.updateMeta(func(m *storage.Meta) { m.Paused = true }); err != nil {
			return err
		}
		a.sched.Pause()
		s.publish()
		return nil
	})
}

// Resume implements agentapi.API: a pass follows when one can run.
func (a *Agent) Resume(ctx context.Context) error {
	return a.do(ctx, func(s *loopState) error {
		if err := s.updateMeta(func(m *storage.Meta) { m.Paused = false }); err != nil {
			return err
		}
		a.sched.Resume()
		if readiness(s.meta) == nil {
			a.sched.SyncNow()
		}
		s.publish()
		return nil
	})
}

// Decisions implements agentapi.API.
func (a *Agent) Decisions(_ context.Context, query string, limit int) ([]engine.Decision, error) {
	return a.eng.Decisions(query, limit)
}

// Unsure implements agentapi.API.
func (a *Agent) Unsure(context.Context) ([]engine.UnsureUpload, error) {
	return a.eng.UnsureUploads(a.now())
}

// DecideUnsure implements agentapi.API: a copy made again goes on the next
// pass, asked for at once when one can run.
func (a *Agent) DecideUnsure(ctx context.Context, id string, copyAgain bool) error {
	if err := a.eng.DecideUnsure(id, copyAgain); err != nil {
		a.log.Warn("decide an unsure upload", "err", err)
		return words.New(choiceNotRecorded)
	}
	if copyAgain {
		// The choice is recorded: the next pass copies it, whenever it
		// runs; asking for one now only makes that sooner.
		if err := a.SyncNow(ctx); err != nil {
			a.log.Debug("no pass asked for after copying an unsure upload again", "err", err)
		}
	}
	return nil
}

// ShowWindow implements agentapi.API.
func (a *Agent) ShowWindow(context.Context) error {
	if a.hooks.ShowWindow == nil {
		return errors.New("this Mail Sync cannot open windows")
	}
	return a.hooks.ShowWindow()
}
