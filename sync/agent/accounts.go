package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/remote"
	"mailsync/sync/words"
)

// keyringTimeout is how long the agent waits for the system keyring. The
// Secret Service may wait for the person to unlock the keyring in a prompt,
// with no timeout of its own: past this, the caller gives up (the prompt
// stays up) and the state says to unlock the keyring.
var keyringTimeout = 5 * time.Second

// errKeyringSilent is why a keyring call gave up: it did not answer in time.
var errKeyringSilent = errors.New("keyring: no answer in time")

// keyring runs the calls to storage.Secrets one at a time, in the order
// they were asked for, on a goroutine of its own, so that a caller can stop
// waiting (its context ends, or keyringTimeout passes) while the keyring
// still blocks. A call whose caller gave up before it began is skipped; one
// that had begun completes, and the calls after it still come after it: a
// delete asked for after a save always lands after that save. Safe for
// concurrent use; it holds no lock. start it before use, stop it when done.
type keyring struct {
	secrets storage.Secrets
	// silent runs (on the caller's goroutine) when a call gives up for want
	// of an answer; answered (on the keyring's goroutine) after every call
	// that answered, late says its caller had given up by then.
	silent   func()
	answered func(late bool)

	calls chan *keyringCall
	quit  chan struct{}
}

type keyringCall struct {
	do     func(storage.Secrets) (string, error)
	ctx    context.Context // the call is skipped when it ends before the call begins
	gaveUp atomic.Bool
	done   chan struct{}
	val    string
	err    error
}

// Get reads the secret of user (storage.ErrNotFound when there is none).
func (k *keyring) Get(ctx context.Context, user string) (string, error) {
	return k.call(ctx, func(s storage.Secrets) (string, error) { return s.Get(user) })
}

// Set stores value for user.
func (k *keyring) Set(ctx context.Context, user, value string) error {
	_, err := k.call(ctx, func(s storage.Secrets) (string, error) { return "", s.Set(user, value) })
	return err
}

// Delete removes the secret of user; absent is not an error.
func (k *keyring) Delete(ctx context.Context, user string) error {
	_, err := k.call(ctx, func(s storage.Secrets) (string, error) { return "", s.Delete(user) })
	return err
}

// start starts the goroutine that calls the keyring.
func (k *keyring) start() {
	k.calls = make(chan *keyringCall, 16)
	k.quit = make(chan struct{})
	go k.work()
}

// stop ends the goroutine once the call it is in, if any, returns; calls
// still queued are not made.
func (k *keyring) stop() { close(k.quit) }

// errKeyringStopped is the answer of a call made after stop.
var errKeyringStopped = errors.New("keyring: the agent is closing")

func (k *keyring) call(ctx context.Context, do func(storage.Secrets) (string, error)) (string, error) {
	c := &keyringCall{do: do, ctx: ctx, done: make(chan struct{})}
	t := time.NewTimer(keyringTimeout)
	defer t.Stop()
	select {
	case k.calls <- c:
		select {
		case <-c.done:
			return c.val, c.err
		case <-k.quit:
		case <-ctx.Done():
		case <-t.C:
		}
	case <-k.quit:
	case <-ctx.Done():
	case <-t.C:
	}
	c.gaveUp.Store(true)
	switch {
	case isClosed(k.quit):
		return "", errKeyringStopped
	case ctx.Err() != nil:
		return "", fmt.Errorf("keyring: stopped waiting: %w", ctx.Err())
	}
	if k.silent != nil {
		k.silent()
	}
	return "", problem(keyringLocked, errKeyringSilent)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// work makes the calls, one at a time, in the order they came, until stop.
func (k *keyring) work() {
	for {
		var c *keyringCall
		select {
		case c = <-k.calls:
		case <-k.quit:
			return
		}
		if isClosed(k.quit) {
			return
		}
		if c.gaveUp.Load() || c.ctx.Err() != nil {
			c.err = fmt.Errorf("keyring: call dropped: %w", context.Canceled)
			close(c.done)
			continue
		}
		c.val, c.err = c.do(k.secrets)
		close(c.done)
		if k.answered != nil {
			k.answered(c.gaveUp.Load())
		}
	}
}

// keyringSilent shows that the keyring does not answer.
func (a *Agent) keyringSilent() {
	a.post(func(s *loopState) {
		s.mem.Keyring = keyringLocked
		s.publish()
	})
}

// keyringAnswered clears what keyringSilent showed once the keyring
// answers again, and asks for the pass that could not run meanwhile.
func (a *Agent) keyringAnswered(late bool) {
	a.post(func(s *loopState) {
		if s.mem.Keyring == "" {
			return
		}
		s.mem.Keyring = ""
		s.publish()
		if late && readiness(s.meta) == nil {
			a.sched.SyncNow() // ignored while paused
		}
	})
}

// tokenSource returns the token source of email, reading its refresh token
// from the keyring (bounded by ctx and keyringTimeout, off the loop) when
// the loop keeps none yet. The source renews within the connection's life
// (loopState.conn), which the loop ends on a change of account and at Quit;
// its saves go to the keyring in order, so a disconnect's delete lands
// after any save begun before it, and none begun after it.
func (a *Agent) tokenSource(ctx context.Context, email string) (*graph.TokenSource, error) {
	var ts *graph.TokenSource
	var conn context.Context
	if err := a.do(ctx, func(s *loopState) error {
		if s.tokens != nil && s.tokensFor == email {
			ts = s.tokens
		}
		conn = s.conn
		return nil
	}); err != nil || ts != nil {
		return ts, err
	}

	key := storage.MicrosoftKey(email)
	rt, err := a.keys.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNeedsReconnect{Reason: "Mail Sync has no sign-in for " + email + " on this computer; connect again."}
	}
	if errors.Is(err, errKeyringSilent) || ctx.Err() != nil {
		return nil, err
	}
	if err != nil {
		return nil, problem(keyringUnreadable, err)
	}

	r := a.resolved()
	err = a.do(ctx, func(s *loopState) error {
		if s.conn != conn || conn.Err() != nil {
			return fmt.Errorf("agent: the account changed while its sign-in was read: %w", context.Canceled)
		}
		if s.tokens != nil && s.tokensFor == email {
			ts = s.tokens
			return nil
		}
		save := func(refresh string) error {
			if err := a.keys.Set(conn, key, refresh); err != nil {
				if conn.Err() != nil {
					return words.New(disconnectedMeanwhile)
				}
				return err
			}
			return nil
		}
		s.tokens = graph.NewTokenSource(conn, graph.OAuthConfig(r.Authority, r.ClientID), rt, save)
		s.tokensFor, ts = email, s.tokens
		return nil
	})
	return ts, err
}

// crmPassword reads the ClientSuccess password of user from the keyring.
func (a *Agent) crmPassword(ctx context.Context, user string) (string, error) {
	pw, err := a.keys.Get(ctx, storage.CRMKey(user))
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrCRMSignedOut
	}
	return pw, err
}

// crmClient returns the ClientSuccess client of user, the same from one
// pass to the next while the user stays. It reads the password from the
// keyring whenever it signs in (within the agent's life), so a changed
// password is picked up.
func (a *Agent) crmClient(ctx context.Context, user string) (*crm.API, error) {
	base := a.resolved().CRMBase
	var c *crm.API
	err := a.do(ctx, func(s *loopState) error {
		key := user + "\x00" + base
		if s.crmAPI == nil || s.crmFor != key {
			s.crmAPI = crm.NewClient(base, user, func() (string, error) {
				return a.crmPassword(a.life, user)
			}, nil)
			s.crmFor = key
		}
		c = s.crmAPI
		return nil
	})
	return c, err
}

// keyringProblem is words for a keyring call that failed: to unlock the
// keyring when it did not answer, else what could not be done.
func keyringProblem(words string, err error) error {
	if errors.Is(err, errKeyringSilent) {
		return err
	}
	return problem(words, err)
}

// Connect implements agentapi.API: it starts the browser sign-in and
// returns its URL; the outcome arrives through the status. A sign-in in
// flight is shared: its URL is returned (and opened again when asked).
func (a *Agent) Connect(ctx context.Context, openBrowser bool) (string, error) {
	r := a.resolved()
	if r.ClientID == "" {
		return "", ErrNoClientID
	}
	open := a.hooks.OpenURL
	if !openBrowser {
		open = nil // the caller shows the URL
	}
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var inFlight string
	var cancel context.CancelFunc
	err := a.do(ctx, func(s *loopState) error {
		if s.signin != nil {
			inFlight = s.mem.SignInURL
			return nil
		}
		if s.quitting {
			return errClosed
		}
		var sctx context.Context
		sctx, cancel = context.WithCancel(a.life)
		s.signin = cancel
		s.signinNumber = s.mem.SignIns + 1
		sgn := &graph.SignIn{
			Config: graph.OAuthConfig(r.Authority, r.ClientID),
			Open:   open,
			// On the sign-in's goroutine, so that the outcome (finishConnect,
			// on the same goroutine) always comes after it on the board.
			OnURL: func(u string) {
				a.post(func(s *loopState) {
					s.mem.Connecting, s.mem.SignInURL, s.mem.SignInError, s.mem.ApprovalURL = true, u, "", ""
					s.publish()
				})
				urls <- u
			},
		}
		s.spawn(func() func(*loopState) {
			res, err := sgn.Run(sctx)
			done <- a.finishConnect(res, err)
			return nil
		})
		return nil
	})
	if err != nil {
		return "", err
	}
	if cancel == nil {
		if inFlight != "" && openBrowser && a.hooks.OpenURL != nil {
			_ = a.hooks.OpenURL(inFlight)
		}
		return inFlight, nil
	}
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

// finishConnect records the outcome of the browser sign-in, on its
// goroutine: the connection (saveConnection) or why there is none.
func (a *Agent) finishConnect(res *graph.Result, err error) error {
	msg, approval := "", ""
	if err == nil {
		err = a.saveConnection(res)
		if err != nil {
			msg = Words(err)
		}
	} else {
		msg = err.Error()
		var ae *graph.ApprovalError
		if errors.As(err, &ae) {
			approval = a.approvalURL()
			msg = approvalWords(ae.Code, approval != "")
		}
		if errors.Is(err, context.Canceled) {
			msg = ""
		}
		if msg == "" {
			msg = signInCancelled
		}
		a.log.Info("sign-in ended without connecting", "reason", msg)
	}
	a.post(func(s *loopState) {
		s.cancelSignin()
		s.signin = nil
		if err != nil {
			s.mem.Connecting, s.mem.SignInURL, s.mem.SignInError, s.mem.ApprovalURL = false, "", msg, approval
			s.mem.SignIns++
			s.publish()
		}
	})
	return err
}

// saveConnection stores the new sign-in: the refresh token in the keyring,
// the account in the state file. It is an exclusive op: whatever ran for
// the previous connection stops first (its token source saves nothing
// more, and its pass ends before the new one is recorded).
func (a *Agent) saveConnection(res *graph.Result) error {
	acct := res.Account
	if acct.Email == "" {
		return words.New(noAccountSaid)
	}
	if res.Token == nil || res.Token.RefreshToken == "" {
		return words.New(noOfflineAccess)
	}
	return a.runOp(context.Background(), op{
		begin: func(s *loopState) bool {
			s.dropTokens()
			return true
		},
		run: func(ctx context.Context) error {
			old, err := a.meta(ctx)
			if err != nil {
				return err
			}
			if err := a.keys.Set(ctx, storage.MicrosoftKey(acct.Email), res.Token.RefreshToken); err != nil {
				return keyringProblem(keyringSaveFailed, err)
			}
			if old.Account != nil && !strings.EqualFold(old.Account.Email, acct.Email) {
				_ = a.keys.Delete(ctx, storage.MicrosoftKey(old.Account.Email))
			}
			if err := a.do(ctx, func(s *loopState) error {
				// Another mailbox, or the same one after a disconnect,
				// starts fresh (mail up to 24 h old); a reconnect after the
				// token was refused keeps the connect time so the gap is
				// caught up.
				if _, err := a.store.ConnectMailbox(storage.Account{Name: acct.Name, Email: acct.Email, TenantID: acct.TenantID}, a.now()); err != nil {
					return problem(connectionNotRecorded, err)
				}
				if err := s.reload(); err != nil {
					return err
				}
				s.passAfterChange()
				s.mem.Connecting, s.mem.SignInURL, s.mem.SignInError, s.mem.ApprovalURL = false, "", "", ""
				s.mem.SignIns++
				s.publish()
				return nil
			}); err != nil {
				return err
			}
			// Off the loop: a log handler may take its time.
			a.log.Info("connected", "account", acct.Email)
			return nil
		},
	})
}

// CancelConnect implements agentapi.API.
func (a *Agent) CancelConnect(ctx context.Context) error {
	return a.do(ctx, func(s *loopState) error {
		s.cancelSignin()
		return nil
	})
}

// WaitConnected blocks until the sign-in in flight ends and returns its
// outcome: nil and the account when connected.
func (a *Agent) WaitConnected(ctx context.Context) (*engine.Account, error) {
	n := 0
	ch, stop := a.board.Subscribe()
	defer stop()
	if err := a.do(ctx, func(s *loopState) error { n = s.signinNumber; return nil }); err != nil {
		return nil, err
	}
	acct, err := WaitSignIn(ctx, ch, n)
	if ctx.Err() != nil {
		_ = a.CancelConnect(context.Background())
	}
	return acct, err
}
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
			return nil, words.New(signInCancelled)
		case s, ok := <-ch:
			switch {
			case !ok:
				return nil, words.New(stoppedDuringSignIn)
			case s.SignIns < n || s.Connecting:
				continue
			case s.SignInError != "" && s.ApprovalURL != "":
				return nil, &ApprovalNeeded{Words: s.SignInError, URL: s.ApprovalURL}
			case s.SignInError != "":
				return nil, errors.New(s.SignInError)
			case s.Account != nil:
				return s.Account, nil
			}
			return nil, words.New(signInCancelled)
		}
	}
}

// Disconnect implements agentapi.API: it forgets the Microsoft sign-in. The
// ledger stays, so connecting again never uploads a message twice. The
// sign-in and the pass in flight are stopped first, and a token renewed
// meanwhile is not saved.
func (a *Agent) Disconnect(ctx context.Context) error {
	return a.runOp(ctx, op{
		begin: func(s *loopState) bool {
			s.cancelSignin()
			s.dropTokens()
			return true
		},
		run: func(ctx context.Context) error {
			m, err := a.meta(ctx)
			if err != nil {
				return err
			}
			if m.Account != nil {
				if err := a.keys.Delete(ctx, storage.MicrosoftKey(m.Account.Email)); err != nil {
					return keyringProblem(keyringRemoveFailed, err)
				}
			}
			if err := a.do(ctx, func(s *loopState) error {
				if err := a.store.ForgetMailbox(); err != nil {
					return err
				}
				if err := s.reload(); err != nil {
					return err
				}
				s.publish()
				return nil
			}); err != nil {
				return err
			}
			a.log.Info("disconnected")
			return nil
		},
	})
}

// CRMSignInTimeout bounds the check of a ClientSuccess sign-in; the
// settings window waits longer for the agent's answer.
const CRMSignInTimeout = 10 * time.Second

// CRMSignInPolicy is how a ClientSuccess sign-in retries: once, briefly.
var CRMSignInPolicy = remote.Policy{MaxAttempts: 2, BaseDelay: 300 * time.Millisecond, MaxDelay: 2 * time.Second}

// CRMLogin implements agentapi.API: it checks the credentials against
// ClientSuccess and stores the password in the keyring only. Signing in as
// another ClientSuccess user stops the pass in flight (nothing more is sent
// as the previous user) and forgets what was learnt from the previous one
// (its contacts and client ids, and uploads not yet confirmed by it).
func (a *Agent) CRMLogin(ctx context.Context, username, password string) error {
	username = strings.TrimSpace(username)
	if username == "" || password == "" {
		return words.New(enterCRMCredentials)
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
	switched := false
	return a.runOp(ctx, op{
		begin: func(s *loopState) bool {
			switched = s.meta.CRMUser != "" && !strings.EqualFold(s.meta.CRMUser, username)
			return switched
		},
		run: func(ctx context.Context) error {
			old, err := a.meta(ctx)
			if err != nil {
				return err
			}
			if err := a.keys.Set(ctx, storage.CRMKey(username), password); err != nil {
				return keyringProblem(passwordSaveFailed, err)
			}
			if old.CRMUser != "" && !strings.EqualFold(old.CRMUser, username) {
				_ = a.keys.Delete(ctx, storage.CRMKey(old.CRMUser))
			}
			if err := a.do(ctx, func(s *loopState) error { return s.signedInCRM(username, switched) }); err != nil {
				return err
			}
			a.log.Info("signed in to ClientSuccess", "user", username)
			return nil
		},
	})
}

// signedInCRM records a ClientSuccess sign-in whose password is saved.
func (s *loopState) signedInCRM(username string, switched bool) error {
	a := s.a
	// A sign-in starts from the new password, not a token of the old one.
	s.crmAPI, s.crmFor = nil, ""
	dropped, err := a.store.SwitchCRMUser(username)
	if err == nil {
		// The last pass's error was met with the old sign-in; the pass
		// that follows says whether there is still one.
		err = s.updateMeta(func(m *storage.Meta) { m.LastError = "" })
	}
	if err != nil {
		return problem(crmSignInNotRecorded, err)
	}
	if dropped > 0 {
		a.log.Warn("dropped uploads not confirmed by the previous ClientSuccess user", "count", dropped)
	}
	if readiness(s.meta) == nil {
		if switched {
			s.passAfterChange()
		} else {
			// Passes were not held off: one in flight may have started
			// with the old password, so one more follows it.
			a.sched.SyncNow() // ignored while paused
		}
	}
	s.publish()
	return nil
}

// CRMLogout implements agentapi.API. The pass in flight is stopped first:
// nothing more is sent as the user signing out.
func (a *Agent) CRMLogout(ctx context.Context) error {
	return a.runOp(ctx, op{
		begin: func(*loopState) bool { return true },
		run: func(ctx context.Context) error {
			m, err := a.meta(ctx)
			if err != nil {
				return err
			}
			if m.CRMUser != "" {
				if err := a.keys.Delete(ctx, storage.CRMKey(m.CRMUser)); err != nil {
					return keyringProblem(passwordRemoveFailed, err)
				}
			}
			return a.do(ctx, func(s *loopState) error {
				if err := a.store.SignOutCRM(); err != nil {
					return err
				}
				s.crmAPI, s.crmFor = nil, ""
				if err := s.reload(); err != nil {
					return err
				}
				s.publish()
				return nil
			})
		},
	})
}
