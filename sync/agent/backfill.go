package agent

import (
	"context"
	"errors"
	"slices"

	"mailsync/storage"
	"mailsync/sync/engine"
)

// backfillRemotes is remotes, for a backfill.
func (a *Agent) backfillRemotes(ctx context.Context) (engine.BackfillMailbox, engine.CRM, error) {
	mb, c, err := a.remotes(ctx)
	if err != nil {
		return nil, nil, err
	}
	bm, ok := mb.(engine.BackfillMailbox)
	if !ok {
		return nil, nil, errors.New("agent: the mailbox cannot list a range of days")
	}
	return bm, c, nil
}

// PreviewBackfill implements agentapi.API: what a backfill of days would
// copy, uploading nothing. It reads the mail on the caller's goroutine (it
// changes no fact of the agent); an account change stops it.
func (a *Agent) PreviewBackfill(ctx context.Context, days int) (engine.Backfill, error) {
	if days < 1 || days > engine.MaxBackfillDays {
		return engine.Backfill{}, backfillWords(engine.ErrBackfillDays)
	}
	pctx, cancel := within(ctx, a.life)
	defer cancel()
	var seq int
	if err := a.do(ctx, func(s *loopState) error {
		if err := readiness(s.meta); err != nil {
			return err
		}
		if s.passesHeld() {
			return problem(backfillAccountsChangingWords, nil)
		}
		if s.previews == nil {
			s.previews = map[int]context.CancelFunc{}
		}
		s.previewSeq++
		seq = s.previewSeq
		s.previews[seq] = cancel
		return nil
	}); err != nil {
		return engine.Backfill{}, err
	}
	defer a.post(func(s *loopState) { delete(s.previews, seq) })
	mb, c, err := a.backfillRemotes(pctx)
	if err != nil {
		return engine.Backfill{}, backfillWords(err)
	}
	b, err := a.eng.PreviewBackfill(pctx, mb, c, days, nil)
	if err != nil {
		return b, backfillWords(err)
	}
	return b, nil
}

// StartBackfill implements agentapi.API: it records a backfill of days and
// starts it, returning at once; its progress is in Status.Backfill.
func (a *Agent) StartBackfill(ctx context.Context, days int) error {
	return a.startBackfill(ctx, days, nil)
}

// Backfill implements agentapi.API: StartBackfill, then it waits for the
// backfill to end and returns its record.
func (a *Agent) Backfill(ctx context.Context, days int) (engine.Backfill, error) {
	done := make(chan backfillResult, 1)
	if err := a.startBackfill(ctx, days, done); err != nil {
		return engine.Backfill{}, err
	}
	select {
	case r := <-done:
		if r.err != nil {
			return r.b, r.err
		}
		if r.b.Error != "" {
			return r.b, problem(r.b.Error, nil)
		}
		return r.b, nil
	case <-ctx.Done():
		return engine.Backfill{}, ctx.Err()
	}
}

// startBackfill is the command that records a backfill and starts it on
// the loop; done, when not nil, gets its outcome.
func (a *Agent) startBackfill(ctx context.Context, days int, done chan backfillResult) error {
	if days < 1 || days > engine.MaxBackfillDays {
		return backfillWords(engine.ErrBackfillDays)
	}
	return a.do(ctx, func(s *loopState) error {
		if err := readiness(s.meta); err != nil {
			return err
		}
		if s.backfill != nil {
			return problem(backfillRunningWords, nil)
		}
		if s.passesHeld() {
			return problem(backfillAccountsChangingWords, nil)
		}
		b, err := a.eng.StartBackfill(days)
		if err != nil {
			return backfillWords(err)
		}
		s.startBackfill(b, done)
		return nil
	})
}

// CancelBackfill implements agentapi.API: the backfill in flight stops and
// is not resumed; what it copied stays. Its end comes to the status.
func (a *Agent) CancelBackfill(ctx context.Context) error {
	return a.do(ctx, func(s *loopState) error {
		b, err := a.eng.CancelBackfill()
		if err != nil {
			return backfillWords(err)
		}
		if s.backfill != nil {
			s.backfill.cancel()
		}
		s.mem.Backfill = &b
		s.publish()
		return nil
	})
}

// resumeBackfill starts again, on the loop, a backfill a restart or a
// crash stopped.
func (a *Agent) resumeBackfill() {
	_ = a.do(a.life, func(s *loopState) error {
		b, err := a.eng.RunningBackfill()
		if err != nil || s.backfill != nil {
			return nil
		}
		a.log.Info("resuming the copy of older mail", "days", b.Days, "reached", b.Reached)
		s.startBackfill(b, nil)
		return nil
	})
}

// backfillRun is the backfill in flight, which the loop owns.
type backfillRun struct {
	cancel context.CancelFunc
	done   []chan backfillResult // who waits for its end
}

// backfillResult is how a backfill ended.
type backfillResult struct {
	b   engine.Backfill
	err error
}

// startBackfill runs the backfill recorded as b on a goroutine of its own,
// until it ends, is cancelled, or an account change or Quit stops it (its
// record then stays running, to be resumed). It publishes where it stands
// after each day.
func (s *loopState) startBackfill(b engine.Backfill, done chan backfillResult) {
	ctx, cancel := context.WithCancel(s.a.life)
	run := &backfillRun{cancel: cancel}
	if done != nil {
		run.done = append(run.done, done)
	}
	s.backfill = run
	s.mem.Backfill = &b
	s.publish()
	a := s.a
	s.spawn(func() func(*loopState) {
		defer cancel()
		var rec engine.Backfill
		mb, c, err := a.backfillRemotes(ctx)
		if err == nil {
			rec, err = a.eng.RunBackfill(ctx, mb, c, a.publishBackfill)
		} else {
			// The record stays running: it resumes when the agent
			// starts again with the accounts ready.
			rec, _ = a.store.Backfill()
			rec.Error = Words(err)
		}
		if err != nil && ctx.Err() == nil {
			a.log.Warn("copy of older mail stopped", "err", err)
		}
		return func(s *loopState) {
			s.backfill = nil
			s.mem.Backfill = &rec
			s.publish()
			for _, d := range run.done {
				var werr error
				if err != nil && ctx.Err() != nil && rec.State != storage.BackfillCancelled {
					werr = engine.ErrStopped
				}
				d <- backfillResult{b: rec, err: werr}
			}
			// An account change waits for the backfill to end.
			s.next()
		}
	})
}

// publishBackfill puts where the backfill stands on the board, through
// the loop.
func (a *Agent) publishBackfill(b engine.Backfill) {
	// The engine goes on changing its record's clients: the loop gets a
	// copy of its own, made here, before this returns.
	b.Clients = slices.Clone(b.Clients)
	a.post(func(s *loopState) {
		s.mem.Backfill = &b
		s.publish()
	})
}
