package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"mailsync/storage"
	"mailsync/sync/agentapi"
	"mailsync/sync/crm"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/match"
	"mailsync/sync/remote"
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

// Agent owns the state and answers agentapi.API. Safe for concurrent use.
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

	// accountMu serialises what changes the accounts: connect, disconnect,
	// ClientSuccess sign-in and sign-out.
	accountMu sync.Mutex
	// passMu is held for the whole of a pass, so that a change of account
	// can stop the pass in flight and wait for it to end.
	passMu sync.Mutex

	// work counts the goroutines that outlive a call (the browser
	// sign-in), so Close can wait for them before the state file closes.
	work sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	mu        sync.Mutex
	tokens    *graph.TokenSource
	tokensFor string             // account email the token source belongs to
	tokensEnd context.CancelFunc // ends the token source's renewals
	// crmAPI is kept from pass to pass for crmFor (user and URL), so that
	// its 12-hour token is not asked for again on every pass.
	crmAPI     *crm.API
	crmFor     string
	signin     context.CancelFunc // the browser sign-in in flight
	passCancel context.CancelFunc // the pass in flight
	holds      int                // stopPass calls waiting for or holding passMu
	gen        uint64             // connection generation: a token source of an older one saves nothing
	// signinNumber is the Status.SignIns the sign-in in flight (or the
	// last one) ends with.
	signinNumber int

	// bf is the copy of older mail in flight (backfill.go).
	bf backfills
}

var _ agentapi.API = (*Agent)(nil)

// Open opens the state in cfg.DataDir (storage.ErrLocked when another
// process holds it) and prepares the engine and the scheduler. log may be nil.
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
		cfg:     cfg,
		hooks:   hooks,
		store:   st,
		secrets: storage.Secrets{Service: cfg.KeyringService},
		log:     log,
		now:     time.Now,
	}
	a.keys = &keyring{secrets: a.secrets, silent: a.keyringSilent, answered: a.keyringAnswered}
	m, err := st.Meta()
	if err != nil {
		st.Close()
		return nil, err
	}
	st0 := initialStatus(m)
	st0.Sandbox = cfg.Sandbox
	a.board = engine.NewBoard(st0)
	a.eng = &engine.Engine{Store: st, Board: a.board, Log: log, PassTimeout: cfg.PassTimeout, Rules: a.applyPolicy}
	a.reportPolicy()
	a.enforceStartAtLogin(m)
	a.sched = &engine.Scheduler{
		Interval: cfg.Interval,
		Clock:    engine.RealClock{},
		Board:    a.board,
		Pass:     a.pass,
		Log:      log,
	}
	a.keys.start()
	return a, nil
}

// initialStatus is the facts the stored meta holds; the board derives the
// state from them.
func initialStatus(m storage.Meta) engine.Status {
	s := engine.Status{
		Account:   m.Account,
		CRMUser:   m.CRMUser,
		Paused:    m.Paused,
		Reconnect: m.NeedsReconnect,
		LastError: m.LastError,
	}
	s.RestorePasses(m)
	return s
}

// Run runs the scheduler until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	a.resumeBackfill()
	return a.sched.Run(ctx)
}

// Close cancels a sign-in in flight and waits for it to end, stops the
// pass in flight (PassNow) and holds off new ones, and then releases the
// state file, so nothing of the agent writes to it after. Stop the
// scheduler (cancel Run's ctx and wait for Run) before. Calls after the
// first return the first's result.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		if a.signin != nil {
			a.signin()
		}
		a.mu.Unlock()
		a.work.Wait()
		a.dropTokens()
		a.stopPass() // never resumed: the agent is closing
		a.keys.stop()
		a.closeErr = a.store.Close()
	})
	return a.closeErr
}

// Board is the agent's status board (the tray subscribes to it in-process).
func (a *Agent) Board() *engine.Board { return a.board }

// Store is the agent's state (for commands that read it).
func (a *Agent) Store() *storage.Store { return a.store }

// ErrNotConnected means no Microsoft 365 account is connected.
var ErrNotConnected = errors.New("Mail Sync is not connected to Office 365: run `mailsync connect` or use Connect Office 365 in Settings.")

// ErrCRMSignedOut means no ClientSuccess account is signed in.
var ErrCRMSignedOut = errors.New("Sign in to ClientSuccess to start syncing: run `mailsync crm login` or use Settings.")

// ErrNeedsReconnect wraps the reason the Microsoft sign-in must be redone.
type ErrNeedsReconnect struct{ Reason string }

func (e ErrNeedsReconnect) Error() string { return e.Reason }

// PassNow runs one pass at once and returns its summary (the `mailsync
// sync` command without a running agent). Every attempt, done or failed,
// counts in Status.Passes once its outcome is on the board.
func (a *Agent) PassNow(ctx context.Context) (engine.Summary, error) {
	a.passMu.Lock()
	defer a.passMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.mu.Lock()
	if a.holds > 0 {
		// An account change waits for the pass lock: let it have it
		// rather than start a pass it would only stop.
		a.mu.Unlock()
		return engine.Summary{}, errHeldOff
	}
	a.passCancel = cancel
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.passCancel = nil
		a.mu.Unlock()
	}()

	sum, err := a.passOnce(ctx)
	a.board.Update(func(s *engine.Status) { s.Passes++ })
	return sum, err
}

func (a *Agent) passOnce(ctx context.Context) (engine.Summary, error) {
	mb, c, err := a.remotes(ctx)
	if err != nil {
		a.showRemoteError(err)
		return engine.Summary{}, err
	}
	sum, err := a.eng.Pass(ctx, mb, c)
	a.afterPass(err)
	return sum, err
}

// errHeldOff is the outcome of a pass asked for while an account change
// holds passes off: it was stopped before it began, which is no failure.
var errHeldOff = fmt.Errorf("agent: pass held off by an account change: %w", context.Canceled)

// stopPass cancels the pass in flight, if any, and holds off new ones until
// the returned function is called. Passes asked for meanwhile return at
// once (errHeldOff), so a stream of passes cannot starve the change.
func (a *Agent) stopPass() (resume func()) {
	// A backfill goes with the accounts it was started for.
	a.stopBackfill()
	a.mu.Lock()
	a.holds++
	if a.passCancel != nil {
		a.passCancel()
	}
	a.mu.Unlock()
	a.passMu.Lock()
	return func() {
		a.mu.Lock()
		a.holds--
		a.mu.Unlock()
		a.passMu.Unlock()
	}
}

// pass is the scheduler's pass.
func (a *Agent) pass(ctx context.Context) (engine.Summary, error) {
	return a.PassNow(ctx)
}

func (a *Agent) afterPass(err error) {
	if err != nil && remote.IsNeedsReconnect(err) {
		// The engine recorded the reason; stop using the refused token.
		a.dropTokens()
	}
}

// showRemoteError puts on the board why no pass could start. A missing
// account or ClientSuccess sign-in is already a fact on the board; a
// refused Microsoft sign-in and any other trouble become facts here.
func (a *Agent) showRemoteError(err error) {
	var nr ErrNeedsReconnect
	switch {
	case errors.Is(err, ErrNotConnected), errors.Is(err, ErrCRMSignedOut), errors.Is(err, errKeyringSilent),
		errors.Is(err, context.Canceled):
		return // the keyring's silence is a fact of its own (keyringSilent); a stopped pass did not fail
	case errors.As(err, &nr):
		a.board.Update(func(s *engine.Status) { s.Reconnect = nr.Reason })
	default:
		words := Words(err)
		a.board.Update(func(s *engine.Status) { s.LastError = words })
	}
}

// remotes builds the Graph and ClientSuccess clients from the stored account
// and keyring secrets.
func (a *Agent) remotes(ctx context.Context) (engine.Mailbox, engine.CRM, error) {
	m, err := a.store.Meta()
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
	gc := graph.NewClient(a.cfg.GraphURL, ts.Client(ctx))
	gc.ShareBudget(a.mailboxBudget())
	gc.SetInvalidate(ts.Invalidate)
	return gc, a.crmClient(m.CRMUser), nil
}

// Status implements agentapi.API.
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
var ErrPaused = errors.New("Syncing is paused; resume it first.")

// SyncNow implements agentapi.API: it asks the scheduler for a pass and
// returns at once.
func (a *Agent) SyncNow(context.Context) error {
	if err := a.canSync(); err != nil {
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
	if err := a.canSync(); err != nil {
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

func (a *Agent) canSync() error {
	m, err := a.store.Meta()
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

// Pause implements agentapi.API.
func (a *Agent) Pause(context.Context) error {
	if err := a.store.UpdateMeta(func(m *storage.Meta) { m.Paused = true }); err != nil {
		return err
	}
	a.sched.Pause()
	return nil
}

// Resume implements agentapi.API.
func (a *Agent) Resume(context.Context) error {
	var m storage.Meta
	if err := a.store.UpdateMeta(func(mm *storage.Meta) { mm.Paused = false; m = *mm }); err != nil {
		return err
	}
	a.sched.Resume()
	if readiness(m) == nil {
		a.sched.SyncNow()
	}
	return nil
}

// Connect implements agentapi.API: it starts the browser sign-in and
// returns its URL; the outcome arrives through the status.
func (a *Agent) Connect(ctx context.Context, openBrowser bool) (string, error) {
	r := a.resolved()
	if r.ClientID == "" {
		return "", ErrNoClientID
	}
	a.mu.Lock()
	if a.signin != nil {
		url := a.board.Get().SignInURL
		a.mu.Unlock()
		if url != "" && openBrowser && a.hooks.OpenURL != nil {
			_ = a.hooks.OpenURL(url)
		}
		return url, nil
	}
	open := a.hooks.OpenURL
	if !openBrowser {
		open = nil // the caller shows the URL
	}
	sctx, cancel := context.WithCancel(context.Background())
	a.signin = cancel
	a.signinNumber = a.board.Get().SignIns + 1
	a.mu.Unlock()

	urls := make(chan string, 1)
	s := &graph.SignIn{
		Config: graph.OAuthConfig(r.Authority, r.ClientID),
		Open:   open,
		// On the sign-in's goroutine, so that the outcome (finishConnect,
		// on the same goroutine) always comes after it on the board.
		OnURL: func(u string) {
			a.board.Update(func(st *engine.Status) {
				st.Connecting, st.SignInURL, st.SignInError, st.ApprovalURL = true, u, "", ""
			})
			urls <- u
		},
	}
	done := make(chan error, 1)
	a.work.Go(func() {
		res, err := s.Run(sctx)
		err = a.finishConnect(res, err)
		done <- err
	})
	select {
	case u := <-urls:
		return u, nil
	case err := <-done:
		// A sign-in that ended at once (the browser came straight back
		// with a refusal) still gave its URL first; its outcome is on the
		// board, as every other's.
		select {
		case u := <-urls:
			return u, nil
		default:
		}
		return "", err
	case <-ctx.Done():
		cancel()
		return "", ctx.Err()
	}
}

func (a *Agent) finishConnect(res *graph.Result, err error) error {
	a.mu.Lock()
	if a.signin != nil {
		a.signin()
	}
	a.signin = nil
	a.mu.Unlock()
	if err != nil {
		msg := err.Error()
		approval := ""
		var ae *graph.ApprovalError
		if errors.As(err, &ae) {
			approval = a.approvalURL()
			msg = approvalWords(ae.Code, approval != "")
		}
		if errors.Is(err, context.Canceled) {
			msg = ""
		}
		if msg == "" {
			msg = "Sign-in was cancelled; nothing was changed."
		}
		a.board.Update(func(s *engine.Status) {
			s.Connecting, s.SignInURL, s.SignInError, s.ApprovalURL = false, "", msg, approval
			s.SignIns++
		})
		a.log.Info("sign-in ended without connecting", "reason", msg)
		return err
	}
	if err := a.saveConnection(res); err != nil {
		a.board.Update(func(s *engine.Status) {
			s.Connecting, s.SignInURL, s.SignInError = false, "", err.Error()
			s.SignIns++
		})
		return err
	}
	return nil
}

// saveConnection stores the new sign-in: the refresh token in the keyring,
// the account in the state file.
func (a *Agent) saveConnection(res *graph.Result) error {
	acct := res.Account
	if acct.Email == "" {
		return errors.New("Microsoft did not say which account signed in; try again.")
	}
	if res.Token == nil || res.Token.RefreshToken == "" {
		return errors.New("Microsoft did not grant offline access, so Mail Sync could not stay connected; try again and accept all permissions.")
	}
	a.accountMu.Lock()
	defer a.accountMu.Unlock()
	old, err := a.store.Meta()
	if err != nil {
		return err
	}
	// Whatever ran for the previous connection stops: its token source
	// saves nothing more, and its pass ends before the new one is recorded.
	a.dropTokens()
	resume := a.stopPass()
	defer resume()

	if err := a.keys.Set(context.Background(), storage.MicrosoftKey(acct.Email), res.Token.RefreshToken); err != nil {
		return keyringProblem("Mail Sync could not save its sign-in in the system keyring.", err)
	}
	if old.Account != nil && !strings.EqualFold(old.Account.Email, acct.Email) {
		_ = a.keys.Delete(context.Background(), storage.MicrosoftKey(old.Account.Email))
	}
	// Another mailbox starts fresh (mail up to 24 h old); the mailbox
	// connected last, after its sign-in was refused or a disconnect, keeps
	// its connect time and last pass so the gap is caught up.
	if _, err := a.store.ConnectMailbox(storage.Account{Name: acct.Name, Email: acct.Email, TenantID: acct.TenantID}, a.now()); err != nil {
		return problem("Mail Sync could not record the connection.", err)
	}
	m, err := a.store.Meta()
	if err != nil {
		return problem("Mail Sync could not record the connection.", err)
	}
	a.askPassHeld()
	a.board.Update(func(s *engine.Status) {
		s.RestorePasses(m)
		s.Connecting, s.SignInURL, s.SignInError, s.ApprovalURL = false, "", "", ""
		s.SignIns++
		s.Account = &engine.Account{Name: acct.Name, Email: acct.Email, TenantID: acct.TenantID}
		s.Reconnect, s.LastError = "", ""
	})
	a.log.Info("connected", "account", acct.Email)
	return nil
}

// askPassHeld asks the scheduler for a pass after an account change, while
// the change holds passes off (stopPass). Any pass the scheduler has
// started is then still waiting for the pass lock, so it reads the changed
// accounts and serves the request: it is joined, not followed by another
// (SyncNow would queue one more). Called before the change is on the board,
// so that whoever sees it there and asks for a pass (Sync) shares this one.
// Ignored while paused.
func (a *Agent) askPassHeld() { a.sched.Request() }

// CancelConnect implements agentapi.API.
func (a *Agent) CancelConnect(context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.signin != nil {
		a.signin()
	}
	return nil
}

// WaitConnected blocks until the sign-in in flight ends and returns its
// outcome: nil and the account when connected.
func (a *Agent) WaitConnected(ctx context.Context) (*engine.Account, error) {
	a.mu.Lock()
	n := a.signinNumber
	a.mu.Unlock()
	ch, stop := a.board.Subscribe()
	defer stop()
	acct, err := WaitSignIn(ctx, ch, n)
	if ctx.Err() != nil {
		_ = a.CancelConnect(context.Background())
	}
	return acct, err
}

// approvalURL is the admin-consent link for the configured app and
// directory (graph.AdminConsentURL), with the tenant of an account that
// connected before when the directory is "organizations" or "common"; ""
// when there is none to give.
func (a *Agent) approvalURL() string {
	hint := ""
	if m, err := a.store.Meta(); err == nil && m.Account != nil {
		hint = m.Account.TenantID
	}
	r := a.resolved()
	u, _ := graph.AdminConsentURL(r.Authority, r.ClientID, a.cfg.GraphURL, hint)
	return u
}

// ApprovalNeeded is what WaitSignIn returns when the sign-in ended in a
// consent problem: the words for the person, and the admin-consent link for
// their IT admin.
type ApprovalNeeded struct {
	Words string
	URL   string
}

func (e *ApprovalNeeded) Error() string { return e.Words }

// WaitSignIn follows statuses (from Board.Subscribe or agentapi's Watch)
// until sign-in number n has finished (Status.SignIns reaches n): the
// account when it connected, else the reason in words.
func WaitSignIn(ctx context.Context, ch <-chan engine.Status, n int) (*engine.Account, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, errors.New("Sign-in was cancelled; nothing was changed.")
		case s, ok := <-ch:
			switch {
			case !ok:
				return nil, errors.New("Mail Sync stopped during the sign-in")
			case s.SignIns < n || s.Connecting:
				continue
			case s.SignInError != "" && s.ApprovalURL != "":
				return nil, &ApprovalNeeded{Words: s.SignInError, URL: s.ApprovalURL}
			case s.SignInError != "":
				return nil, errors.New(s.SignInError)
			case s.Account != nil:
				return s.Account, nil
			}
			return nil, errors.New("Sign-in was cancelled; nothing was changed.")
		}
	}
}

// Disconnect implements agentapi.API: it forgets the Microsoft sign-in. The
// ledger stays, so connecting again never uploads a message twice. A pass
// in flight is stopped first, and a token it renews meanwhile is not saved.
func (a *Agent) Disconnect(ctx context.Context) error {
	_ = a.CancelConnect(context.Background())
	a.accountMu.Lock()
	defer a.accountMu.Unlock()
	a.dropTokens()
	resume := a.stopPass()
	defer resume()

	m, err := a.store.Meta()
	if err != nil {
		return err
	}
	if m.Account != nil {
		if err := a.keys.Delete(ctx, storage.MicrosoftKey(m.Account.Email)); err != nil {
			return keyringProblem("Mail Sync could not remove its sign-in from the system keyring.", err)
		}
	}
	if err := a.store.ForgetMailbox(); err != nil {
		return err
	}
	if m, err = a.store.Meta(); err != nil {
		return err
	}
	a.board.Update(func(s *engine.Status) {
		s.RestorePasses(m)
		s.Account, s.Reconnect, s.LastError, s.Progress = nil, "", "", nil
	})
	a.log.Info("disconnected")
	return nil
}

// CRMSignInTimeout bounds the check of a ClientSuccess sign-in; the
// settings window waits longer for the agent's answer.
const CRMSignInTimeout = 10 * time.Second

// CRMSignInPolicy is how a ClientSuccess sign-in retries: once, briefly.
var CRMSignInPolicy = remote.Policy{MaxAttempts: 2, BaseDelay: 300 * time.Millisecond, MaxDelay: 2 * time.Second}

// CRMLogin implements agentapi.API: it checks the credentials against
// ClientSuccess and stores the password in the keyring only. Signing in as
// another ClientSuccess user forgets what was learnt from the previous one
// (its contacts and client ids, and uploads not yet confirmed by it).
func (a *Agent) CRMLogin(ctx context.Context, username, password string) error {
	username = strings.TrimSpace(username)
	if username == "" || password == "" {
		return errors.New("Enter your ClientSuccess username and password.")
	}
	c := crm.NewClient(a.resolved().CRMBase, username, func() (string, error) { return password, nil }, nil)
	// A person waits for this answer: one quick retry, and a bound shorter
	// than the window's wait for the agent, so that no network ends in
	// words rather than in the caller's own timeout.
	c.Policy = CRMSignInPolicy
	lctx, cancel := context.WithTimeout(ctx, CRMSignInTimeout)
	err := c.Login(lctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(lctx.Err(), context.DeadlineExceeded) {
			return problem(CRMUnreachable, err)
		}
		return personWords(err)
	}
	a.accountMu.Lock()
	defer a.accountMu.Unlock()
	old, err := a.store.Meta()
	if err != nil {
		return err
	}
	switched := old.CRMUser != "" && !strings.EqualFold(old.CRMUser, username)
	if switched {
		resume := a.stopPass()
		defer resume()
	}
	if err := a.keys.Set(ctx, storage.CRMKey(username), password); err != nil {
		return keyringProblem("Mail Sync could not save the password in the system keyring.", err)
	}
	if switched {
		_ = a.keys.Delete(ctx, storage.CRMKey(old.CRMUser))
	}
	// A sign-in starts from the new password, not a token of the old one.
	a.forgetCRMClient()
	dropped, err := a.store.SwitchCRMUser(username)
	if err == nil {
		// The last pass's error was met with the old sign-in; the pass
		// that follows says whether there is still one.
		err = a.store.UpdateMeta(func(m *storage.Meta) { m.LastError = "" })
	}
	if err != nil {
		return problem("Mail Sync could not record the ClientSuccess sign-in.", err)
	}
	if dropped > 0 {
		a.log.Warn("dropped uploads not confirmed by the previous ClientSuccess user", "count", dropped)
	}
	m, _ := a.store.Meta()
	if switched && readiness(m) == nil {
		a.askPassHeld()
	}
	// The last pass's error was met with the old sign-in; the pass that
	// follows says whether there is still one.
	a.board.Update(func(s *engine.Status) { s.CRMUser, s.LastError = username, "" })
	a.log.Info("signed in to ClientSuccess", "user", username)
	if !switched && readiness(m) == nil {
		// Passes were not held off: one in flight may have started with
		// the old password, so one more follows it. After the board
		// update, so that the error it may show is not cleared by it.
		a.sched.SyncNow() // ignored while paused
	}
	return nil
}

// CRMLogout implements agentapi.API. A pass in flight is stopped first:
// nothing more is sent as the user signing out.
func (a *Agent) CRMLogout(ctx context.Context) error {
	a.accountMu.Lock()
	defer a.accountMu.Unlock()
	resume := a.stopPass()
	defer resume()
	m, err := a.store.Meta()
	if err != nil {
		return err
	}
	if m.CRMUser != "" {
		if err := a.keys.Delete(ctx, storage.CRMKey(m.CRMUser)); err != nil {
			return keyringProblem("Mail Sync could not remove the password from the system keyring.", err)
		}
	}
	if err := a.store.SignOutCRM(); err != nil {
		return err
	}
	a.forgetCRMClient()
	a.board.Update(func(s *engine.Status) { s.CRMUser = "" })
	return nil
}

// storedAppSettings is what the person chose for the app (start at login
// is on unless turned off), whatever is installed right now.
func (a *Agent) storedAppSettings() (storage.AppSettings, error) {
	return a.store.AppSettings()
}

// Settings implements agentapi.API: the options in force (a policy's
// lock shows its value) and the person's own blocklist, with what the
// policy sets apart.
func (a *Agent) Settings(context.Context) (agentapi.Settings, error) {
	rules := match.DefaultSettings()
	if err := a.store.Rules(&rules); err != nil {
		return agentapi.Settings{}, err
	}
	app, err := a.storedAppSettings()
	if err != nil {
		return agentapi.Settings{}, err
	}
	// What the box shows is what is installed, at every moment: before
	// the first run turned it on, and after the person removed the login
	// item by other means, it is off.
	if a.hooks.Autostart != nil {
		if on, err := a.hooks.Autostart(); err == nil {
			app.StartAtLogin = on
		}
	}
	p := a.cfg.Policy
	if p.IgnoreInternal != nil {
		rules.IgnoreInternal = *p.IgnoreInternal
	}
	if p.HistoryDays != nil {
		rules.HistoryDays = *p.HistoryDays
	}
	if p.StartAtLogin != nil {
		app.StartAtLogin = *p.StartAtLogin
	}
	return agentapi.Settings{Rules: rules, StartAtLogin: app.StartAtLogin, Policy: a.policyRules()}, nil
}

// StartAtLoginOnFirstRun installs the login item on the first run of the
// agent, before anyone chose (start at login is on by default), and records
// the choice, so that from the first moment the Options box is ticked only
// when Mail Sync does start at login. Later runs leave the person's choice
// alone. The agent process calls it once when it starts; commands that run
// in-process do not install anything.
func (a *Agent) StartAtLoginOnFirstRun() error {
	if a.hooks.SetAutostart == nil {
		return nil
	}
	chosen, err := a.store.AppSettingsChosen()
	if err != nil || chosen {
		return err
	}
	rules := match.DefaultSettings()
	if err := a.store.Rules(&rules); err != nil {
		return err
	}
	if err := a.hooks.SetAutostart(true); err != nil {
		return problem("Mail Sync could not turn on start at login.", err)
	}
	return a.store.SaveSettings(rules, storage.AppSettings{StartAtLogin: true})
}

// SetSettings implements agentapi.API. The blocklist is checked first: a
// line that is neither an address nor @domain is refused with its text, and
// nothing is saved. An option the policy locks keeps the person's own
// stored choice (it applies again should the policy go); s.Policy is
// ignored.
func (a *Agent) SetSettings(ctx context.Context, s agentapi.Settings) error {
	list, err := CleanBlocklist(s.Rules.Blocklist)
	if err != nil {
		return err
	}
	s.Rules.Blocklist = list
	if d := s.Rules.HistoryDays; d < 0 || d > match.MaxHistoryDays {
		return problem(fmt.Sprintf("The mail of a contact added later can be copied from up to %d days back.", match.MaxHistoryDays), nil)
	}
	if strings.TrimSpace(s.Rules.PrivateCategory) == "" {
		s.Rules.PrivateCategory = match.DefaultSettings().PrivateCategory
	}
	before, err := a.Settings(ctx)
	if err != nil {
		return err
	}
	p := a.cfg.Policy
	if p.IgnoreInternal != nil || p.StartAtLogin != nil || p.HistoryDays != nil {
		own := match.DefaultSettings()
		if err := a.store.Rules(&own); err != nil {
			return err
		}
		app, err := a.storedAppSettings()
		if err != nil {
			return err
		}
		if p.IgnoreInternal != nil {
			s.Rules.IgnoreInternal = own.IgnoreInternal
		}
		if p.HistoryDays != nil {
			s.Rules.HistoryDays = own.HistoryDays
		}
		if p.StartAtLogin != nil {
			s.StartAtLogin, before.StartAtLogin = app.StartAtLogin, app.StartAtLogin
		}
	}
	if s.StartAtLogin != before.StartAtLogin && a.hooks.SetAutostart != nil {
		if err := a.hooks.SetAutostart(s.StartAtLogin); err != nil {
			return problem("Mail Sync could not change start at login.", err)
		}
	}
	if err := a.store.SaveSettings(s.Rules, storage.AppSettings{StartAtLogin: s.StartAtLogin}); err != nil {
		return err
	}
	a.redecide()
	return nil
}

// CleanBlocklist reads blocklist entries with match.CleanBlocklist,
// dropping blanks and duplicates. An entry that is neither an address nor
// @domain is an error naming it.
func CleanBlocklist(in []string) ([]string, error) {
	out, badLines := match.CleanBlocklist(in)
	if len(badLines) > 0 {
		bad := make([]string, len(badLines))
		for i, b := range badLines {
			bad[i] = b.Text
		}
		return nil, fmt.Errorf("These blocklist lines are not an email address or @domain: %s", strings.Join(bad, ", "))
	}
	return out, nil
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
		return errors.New("Mail Sync could not record the choice; try again")
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
