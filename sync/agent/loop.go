package agent

// The agent's serve loop.
//
// One goroutine (serve), in the manner of syncthing's folder serve loop and
// tailscale's LocalBackend, owns every fact of the agent: the account facts
// stored in storage.Meta (the accounts, Paused, LastError, FailingSince,
// NeedsReconnect), the facts kept only in memory (the pass in flight and its
// progress, the browser sign-in in flight, the keyring's silence, the
// counters), and what is kept between passes (the token source, the
// ClientSuccess client). It is the only writer of those facts in Meta and
// the only caller of Board.Update: publish builds the Status from Meta and
// the facts in memory. Reads of the status (Status, Watch, the tray) go to
// the Board, the loop's published output, and never wait for the loop.
//
// Everything reaches the loop as a message on one channel (cmds): the
// commands of agentapi.API, the scheduler's requests for a pass and its due
// time, the keyring's silence and answer, and the outcomes of the work the
// loop started. Work that can block (the keyring, the network, the browser
// sign-in, a pass) runs on goroutines the loop starts, with contexts the
// loop cancels (Disconnect, a change of ClientSuccess user, Quit); their
// outcomes come back as messages. No lock is held across that work. Close
// waits until every goroutine the loop started has reported back, so
// nothing writes the state file after it closes.
//
// The order of work, decided in one place (loopState.next):
//   - one pass at a time; a pass asked for while one runs waits for it;
//   - ops (commands that do I/O) run one at a time, in the order asked;
//   - an exclusive op (a change of account) stops the pass in flight when it
//     is asked for, starts once that pass has ended, and holds passes off
//     until it has ended, so a stream of passes cannot starve it and no pass
//     runs with half-changed accounts.
//
// # Adding a command
//
// A command that reads or changes facts and does no I/O beyond the state
// file runs on the loop:
//
//	func (a *Agent) Thing(ctx context.Context) error {
//		return a.do(ctx, func(s *loopState) error {
//			if err := s.updateMeta(func(m *storage.Meta) { ... }); err != nil {
//				return err
//			}
//			s.publish()
//			return nil
//		})
//	}
//
// f runs on the loop goroutine: it must not block (no network, no keyring,
// no hook of the desktop). A command that does such I/O is an op:
//
//	return a.runOp(ctx, op{
//		begin: func(s *loopState) bool { return false }, // on the loop, at once; true: exclusive
//		run: func(ctx context.Context) error {           // on a goroutine of its own
//			... network, keyring ...
//			return a.do(ctx, func(s *loopState) error { ...; s.publish(); return nil })
//		},
//	})
//
// run's ctx ends when the caller gives up and at Quit; run changes facts
// only through a.do. A pass is asked for with a.requestPass (PassNow and
// the scheduler) or through the scheduler (SyncNow, Sync).
//
// The copy of older mail (backfill.go) is loop state too; within the
// engine, its days and the passes take turns on the mailbox (engine.turn).

import (
	"context"
	"errors"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/remote"
	"mailsync/sync/words"
)

// errClosed is the answer to a command that reaches the agent after Close.
var errClosed = words.New(closing)

// loopState is what the loop owns. Only the loop goroutine touches it: in
// the functions given to do, in op begins, and in the outcomes of the
// goroutines it started.
type loopState struct {
	a *Agent
	// meta is the stored Meta as last read or written by the loop; reload
	// reads it again after a pass (whose bookkeeping the engine writes).
	meta storage.Meta
	// mem holds the facts kept only in memory; publish puts Meta's over
	// it (the accounts, Paused, Reconnect, LastError, and the passes'
	// records: engine.Status.RestorePasses).
	mem engine.Status

	quitting bool
	// work counts the goroutines the loop started that have not reported
	// back; the loop ends at Quit once it is 0.
	work int

	pass    *passRun   // the pass in flight, or nil
	waiting []*passReq // passes asked for, not started
	passSeq int

	op  *opRun   // the op in flight, or nil
	ops []*opRun // ops asked for, not started

	// conn is the life of the connection's token source: dropTokens ends
	// it (a renewal in flight stops, a rotated token is not saved) and
	// starts another. A token source read from the keyring under an ended
	// conn is not kept.
	conn      context.Context
	connEnd   context.CancelFunc
	tokens    *graph.TokenSource
	tokensFor string // the account email the token source belongs to
	// crmAPI is kept from pass to pass for crmFor (user and URL), so that
	// its 12-hour token is not asked for again on every pass.
	crmAPI *crm.API
	crmFor string

	signin       context.CancelFunc // the browser sign-in in flight, or nil
	signinNumber int                // the Status.SignIns the sign-in in flight ends with

	backfill *backfillRun // the copy of older mail in flight, or nil (backfill.go)
	// previews stops the backfill previews in flight, by number.
	previews   map[int]context.CancelFunc
	previewSeq int
}

// passReq is a pass asked for: its outcome goes to done.
type passReq struct {
	ctx  context.Context
	done chan passResult // 1-buffered
}

type passResult struct {
	sum engine.Summary
	err error
}

// passRun is the pass in flight.
type passRun struct {
	seq    int
	cancel context.CancelFunc
	req    *passReq
}

// op is a command that does I/O.
type op struct {
	// begin runs on the loop when the op is asked for, before any op asked
	// for earlier has ended: it stops what the op replaces (a sign-in, a
	// token source). It says whether the op is exclusive: the pass in
	// flight is then stopped, the op waits for its end, and passes wait
	// for the op. nil is not exclusive.
	begin func(s *loopState) (exclusive bool)
	// run does the work on a goroutine of its own. ctx ends when the
	// caller gives up and at Quit.
	run func(ctx context.Context) error
}

type opRun struct {
	op
	exclusive bool
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan error // 1-buffered
}

// progressMsg is the position of pass seq.
type progressMsg struct {
	seq int
	p   engine.Progress
}

// serve is the loop. It returns once Quit was asked for and every
// goroutine it started has reported back.
func (a *Agent) serve(s *loopState) {
	defer close(a.loopDone)
	quit := a.quit
	for !s.quitting || s.work > 0 {
		select {
		case f := <-a.cmds:
			f(s)
		case m := <-a.progress:
			s.progressed(m)
		case <-quit:
			quit = nil
			s.stop()
		}
	}
}

// do runs f on the loop and returns its error. When ctx ends before the
// loop takes f, f does not run; once taken, it runs and do waits for it
// (the loop never blocks for long). After Close it returns errClosed.
func (a *Agent) do(ctx context.Context, f func(s *loopState) error) error {
	done := make(chan error, 1)
	cmd := func(s *loopState) {
		if err := ctx.Err(); err != nil {
			done <- err
			return
		}
		done <- f(s)
	}
	select {
	case a.cmds <- cmd:
	case <-ctx.Done():
		return ctx.Err()
	case <-a.loopDone:
		return errClosed
	}
	return <-done
}

// post hands f to the loop without waiting for it to run: the outcomes of
// the goroutines the loop started (the loop runs until they have all
// reported), and the scheduler's and the keyring's news. After the loop
// has ended, f is dropped.
func (a *Agent) post(f func(s *loopState)) {
	select {
	case a.cmds <- f:
	case <-a.loopDone:
	}
}

// spawn runs work on a goroutine of its own and then the function it
// returns (nil for none) on the loop. Close waits for it.
func (s *loopState) spawn(work func() func(*loopState)) {
	s.work++
	a := s.a
	go func() {
		then := work()
		a.post(func(s *loopState) {
			s.work--
			if then != nil {
				then(s)
			}
		})
	}()
}

// runOp asks the loop for op o and waits for its outcome, or for ctx.
func (a *Agent) runOp(ctx context.Context, o op) error {
	r := &opRun{op: o, done: make(chan error, 1)}
	err := a.do(ctx, func(s *loopState) error {
		if s.quitting {
			return errClosed
		}
		if o.begin != nil {
			r.exclusive = o.begin(s)
		}
		if r.exclusive && s.pass != nil {
			s.pass.cancel()
		}
		if r.exclusive && s.backfill != nil {
			// A backfill goes with the accounts it was started for; its
			// record stays running, resumed when they come back.
			s.backfill.cancel()
		}
		if r.exclusive {
			for _, stop := range s.previews {
				stop()
			}
		}
		r.ctx, r.cancel = within(ctx, a.life)
		s.ops = append(s.ops, r)
		s.next()
		return nil
	})
	if err != nil {
		return err
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err() // r.ctx ends with it: the op is skipped or stops
	}
}

// requestPass asks the loop for a pass and waits for its outcome, or for
// ctx. The pass's context ends with ctx, with an account change and at
// Quit.
func (a *Agent) requestPass(ctx context.Context) (engine.Summary, error) {
	r := &passReq{ctx: ctx, done: make(chan passResult, 1)}
	err := a.do(ctx, func(s *loopState) error {
		if s.quitting {
			return engine.ErrStopped
		}
		s.waiting = append(s.waiting, r)
		s.next()
		return nil
	})
	if errors.Is(err, errClosed) {
		err = engine.ErrStopped
	}
	if err != nil {
		return engine.Summary{}, err
	}
	select {
	case res := <-r.done:
		return res.sum, res.err
	case <-ctx.Done():
	}
	// The caller gave up: a pass not started yet is dropped; one in
	// flight ends with ctx, and its outcome is on the board before this
	// returns.
	_ = a.do(context.Background(), func(s *loopState) error {
		for i, w := range s.waiting {
			if w == r {
				s.waiting = append(s.waiting[:i:i], s.waiting[i+1:]...)
				r.done <- passResult{err: ctx.Err()}
				break
			}
		}
		return nil
	})
	res := <-r.done
	return res.sum, res.err
}

// within is ctx that also ends when life does.
func within(ctx, life context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(life, cancel)
	return c, func() { stop(); cancel() }
}

// next starts what can start: the ops in order (an exclusive one once no
// pass is in flight), then a pass when no exclusive op runs or waits.
func (s *loopState) next() {
	for s.op == nil && len(s.ops) > 0 {
		r := s.ops[0]
		if err := r.ctx.Err(); err != nil {
			s.ops = s.ops[1:]
			r.cancel()
			r.done <- err
			continue
		}
		if r.exclusive && (s.pass != nil || s.backfill != nil) {
			return // stopped when asked for; starts when its end comes back
		}
		s.ops = s.ops[1:]
		s.op = r
		s.spawn(func() func(*loopState) {
			err := r.run(r.ctx)
			return func(s *loopState) {
				r.cancel()
				s.op = nil
				r.done <- err
				s.next()
			}
		})
	}
	for s.pass == nil && len(s.waiting) > 0 && !s.passesHeld() {
		r := s.waiting[0]
		s.waiting = s.waiting[1:]
		if err := r.ctx.Err(); err != nil {
			r.done <- passResult{err: err}
			continue
		}
		s.startPass(r)
	}
}

// passesHeld reports whether an exclusive op runs or waits.
func (s *loopState) passesHeld() bool {
	if s.op != nil && s.op.exclusive {
		return true
	}
	for _, r := range s.ops {
		if r.exclusive {
			return true
		}
	}
	return false
}

// startPass starts the pass r asked for.
func (s *loopState) startPass(r *passReq) {
	ctx, cancel := within(r.ctx, s.a.life)
	s.passSeq++
	run := &passRun{seq: s.passSeq, cancel: cancel, req: r}
	s.pass = run
	a := s.a
	s.spawn(func() func(*loopState) {
		sum, began, err := a.passWork(ctx, run.seq)
		return func(s *loopState) {
			cancel()
			s.passEnded(run, sum, err, began)
		}
	})
}

// passWork is the pass, on its goroutine: the clients from the accounts
// and the keyring, then the engine. began says the engine ran.
func (a *Agent) passWork(ctx context.Context, seq int) (sum engine.Summary, began bool, err error) {
	mb, c, err := a.remotes(ctx)
	if err != nil {
		return engine.Summary{}, false, err
	}
	sum, err = a.eng.Pass(ctx, mb, c, func(p engine.Progress) { a.sendProgress(progressMsg{seq: seq, p: p}) })
	return sum, true, err
}

// sendProgress hands the newest position to the loop without blocking:
// a position the loop has not taken yet is replaced.
func (a *Agent) sendProgress(m progressMsg) {
	for {
		select {
		case a.progress <- m:
			return
		default:
		}
		select {
		case <-a.progress:
		default:
		}
	}
}

// progressed shows the position of the pass in flight; a position of an
// earlier pass, taken after its end, is dropped.
func (s *loopState) progressed(m progressMsg) {
	if s.pass == nil || s.pass.seq != m.seq {
		return
	}
	p := m.p
	s.mem.Running, s.mem.Progress = true, &p
	s.publish()
}

// passEnded records the outcome of the pass in flight, publishes it, and
// only then answers who asked for it: every attempt counts in Passes once
// its outcome is on the board.
func (s *loopState) passEnded(run *passRun, sum engine.Summary, err error, began bool) {
	s.pass = nil
	s.mem.Running, s.mem.Progress = false, nil
	s.mem.Passes++
	s.record(sum, err, began)
	s.publish()
	run.req.done <- passResult{sum: sum, err: err}
	s.next()
}

// record writes what the outcome of a pass means into Meta. A pass that
// was stopped, or that could not start for a reason that is a fact of its
// own (no account, no ClientSuccess sign-in, the keyring's silence), leaves
// the facts as they were.
func (s *loopState) record(sum engine.Summary, err error, began bool) {
	if err := s.reload(); err != nil {
		s.a.log.Warn("read the state after a pass", "err", err)
	}
	var nr ErrNeedsReconnect
	var upd func(m *storage.Meta)
	switch {
	case err == nil:
		// The pass recorded its end and counts in Meta (RestorePasses).
		s.mem.SyncedToday = sum.SyncedToday
		upd = func(m *storage.Meta) { m.LastError, m.FailingSince, m.NeedsReconnect = "", time.Time{}, "" }
	case errors.Is(err, context.Canceled), errors.Is(err, ErrNotConnected), errors.Is(err, ErrCRMSignedOut), errors.Is(err, errKeyringSilent):
		return
	case !began && errors.As(err, &nr):
		s.dropTokens()
		upd = func(m *storage.Meta) { m.NeedsReconnect = nr.Reason }
	case !began:
		words := Words(err)
		upd = func(m *storage.Meta) { m.LastError = words }
	default:
		o := engine.OutcomeOf(err)
		if o.Stopped {
			return
		}
		if remote.IsNeedsReconnect(err) {
			s.dropTokens() // stop using the refused token
		}
		start := sum.Start
		upd = func(m *storage.Meta) {
			m.LastError = o.Words
			if m.FailingSince.IsZero() {
				m.FailingSince = start
			}
			if o.Reconnect {
				m.NeedsReconnect = o.Words
			}
		}
	}
	if err := s.updateMeta(upd); err != nil {
		s.a.log.Warn("record the outcome of a pass", "err", err)
	}
}

// reload reads Meta again.
func (s *loopState) reload() error {
	m, err := s.a.store.Meta()
	if err != nil {
		return err
	}
	s.meta = m
	return nil
}

// updateMeta changes Meta and keeps the loop's copy.
func (s *loopState) updateMeta(f func(m *storage.Meta)) error {
	var out storage.Meta
	if err := s.a.store.UpdateMeta(func(m *storage.Meta) { f(m); out = *m }); err != nil {
		return err
	}
	s.meta = out
	return nil
}

// status is the Status the facts make: Meta's over those in memory.
func (s *loopState) status() engine.Status {
	st := s.mem
	m := s.meta
	st.Account = nil
	if m.Account != nil {
		acct := *m.Account
		st.Account = &acct
	}
	st.CRMUser, st.Paused, st.Reconnect, st.LastError = m.CRMUser, m.Paused, m.NeedsReconnect, m.LastError
	// The last pass, what it counted, the last that copied an email, the
	// mailbox disconnected last and where the next pass lists from.
	st.RestorePasses(m)
	if st.Progress != nil {
		p := *st.Progress
		st.Progress = &p
	}
	if st.Backfill != nil {
		b := *st.Backfill
		st.Backfill = &b
	}
	if st.Paused {
		st.NextPass = time.Time{}
	}
	return st
}

// publish puts the status on the board: the only Board.Update of the agent.
func (s *loopState) publish() {
	st := s.status()
	s.a.board.Update(func(b *engine.Status) { *b = st })
}

// stop begins the end (Quit): everything in flight is cancelled, nothing
// waiting starts, and the loop ends once what it started has reported.
func (s *loopState) stop() {
	s.quitting = true
	s.a.lifeEnd()
	for _, r := range s.ops {
		r.cancel()
		r.done <- errClosed
	}
	s.ops = nil
	for _, r := range s.waiting {
		r.done <- passResult{err: engine.ErrStopped}
	}
	s.waiting = nil
}

// dropTokens stops the token source in use: a renewal in flight ends, and
// a refresh token it renews is not saved.
func (s *loopState) dropTokens() {
	if s.connEnd != nil {
		s.connEnd()
	}
	s.conn, s.connEnd = context.WithCancel(s.a.life)
	s.tokens, s.tokensFor = nil, ""
}

// passAfterChange asks the scheduler for the pass that follows a change
// of account, from an exclusive op: it starts once the op has ended. Asked
// for before the change is on the board, so that whoever sees it there and
// asks for a pass (Sync) shares this one. A pass already waiting for the
// op (the scheduler's, asked for during the change) runs with the changed
// accounts: it is joined. Otherwise the scheduler's pass in flight, if
// any, is the one the change stopped, and a pass follows it. Ignored while
// paused.
func (s *loopState) passAfterChange() {
	if len(s.waiting) > 0 {
		s.a.sched.Request()
		return
	}
	s.a.sched.SyncNow()
}

// cancelSignin ends the browser sign-in in flight, if any.
func (s *loopState) cancelSignin() {
	if s.signin != nil {
		s.signin()
	}
}

// meta is Meta as the loop has it.
func (a *Agent) meta(ctx context.Context) (storage.Meta, error) {
	var m storage.Meta
	err := a.do(ctx, func(s *loopState) error { m = s.meta; return nil })
	return m, err
}

// showNext is the scheduler's Next: the due time of the next pass.
func (a *Agent) showNext(due time.Time) {
	a.post(func(s *loopState) {
		s.mem.NextPass = due
		s.publish()
	})
}
