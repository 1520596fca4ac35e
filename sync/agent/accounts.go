package agent

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
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
	a.board.Update(func(s *engine.Status) { s.Keyring = keyringLocked })
}

// keyringAnswered clears what keyringSilent showed once the keyring
// answers again, and asks for the pass that could not run meanwhile.
func (a *Agent) keyringAnswered(late bool) {
	if a.board.Get().Keyring == "" {
		return
	}
	a.board.Update(func(s *engine.Status) { s.Keyring = "" })
	if late {
		if m, err := a.store.Meta(); err == nil && readiness(m) == nil {
			a.sched.SyncNow() // ignored while paused
		}
	}
}

// dropTokens stops the token source in use: a renewal in flight ends, and
// a refresh token it renews is not saved.
func (a *Agent) dropTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	if a.tokensEnd != nil {
		a.tokensEnd()
	}
	a.tokens, a.tokensFor, a.tokensEnd = nil, "", nil
}

// tokenSource returns the token source of email, reading its refresh token
// from the keyring (bounded by ctx and keyringTimeout, without a.mu) when
// there is none yet. The source renews within a context of its own, which
// dropTokens ends; its saves go to the keyring in order, so a disconnect's
// delete lands after any save begun before it, and none begun after it.
func (a *Agent) tokenSource(ctx context.Context, email string) (*graph.TokenSource, error) {
	a.mu.Lock()
	if a.tokens != nil && a.tokensFor == email {
		ts := a.tokens
		a.mu.Unlock()
		return ts, nil
	}
	gen := a.gen
	a.mu.Unlock()

	key := storage.MicrosoftKey(email)
	rt, err := a.keys.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNeedsReconnect{Reason: "Mail Sync has no sign-in for " + email + " on this computer; connect again."}
	}
	if errors.Is(err, errKeyringSilent) || ctx.Err() != nil {
		return nil, err
	}
	if err != nil {
		return nil, problem("Mail Sync could not read its sign-in from the system keyring.", err)
	}

	r := a.resolved() // a read of the state: before the lock
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen != gen {
		return nil, fmt.Errorf("agent: the account changed while its sign-in was read: %w", context.Canceled)
	}
	if a.tokens != nil && a.tokensFor == email {
		return a.tokens, nil
	}
	life, end := context.WithCancel(context.Background())
	save := func(refresh string) error {
		if err := a.keys.Set(life, key, refresh); err != nil {
			if life.Err() != nil {
				return errors.New("Mail Sync was disconnected from this account")
			}
			return err
		}
		return nil
	}
	a.tokens = graph.NewTokenSource(life, graph.OAuthConfig(r.Authority, r.ClientID), rt, save)
	a.tokensFor, a.tokensEnd = email, end
	return a.tokens, nil
}

// crmPassword reads the ClientSuccess password of user from the keyring.
func (a *Agent) crmPassword(ctx context.Context, user string) (string, error) {
	pw, err := a.keys.Get(ctx, storage.CRMKey(user))
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrCRMSignedOut
	}
	return pw, err
}

// forgetCRMClient drops the kept ClientSuccess client and its token.
func (a *Agent) forgetCRMClient() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.crmAPI, a.crmFor = nil, ""
}

// crmClient returns the ClientSuccess client of user, the same from one
// pass to the next while the user stays. It reads the password from the
// keyring whenever it signs in, so a changed password is picked up.
func (a *Agent) crmClient(user string) *crm.API {
	base := a.resolved().CRMBase // a read of the state: before the lock
	a.mu.Lock()
	defer a.mu.Unlock()
	key := user + "\x00" + base
	if a.crmAPI != nil && a.crmFor == key {
		return a.crmAPI
	}
	a.crmAPI = crm.NewClient(base, user, func() (string, error) {
		return a.crmPassword(context.Background(), user)
	}, nil)
	a.crmFor = key
	return a.crmAPI
}

// keyringProblem is words for a keyring call that failed: to unlock the
// keyring when it did not answer, else what could not be done.
func keyringProblem(words string, err error) error {
	if errors.Is(err, errKeyringSilent) {
		return err
	}
	return problem(words, err)
}
