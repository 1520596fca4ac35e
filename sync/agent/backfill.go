package agent

import (
	"context"
	"errors"
	"slices"
	"sync"

	"mailsync/sync/engine"
	"mailsync/sync/graph"
)

// backfills is the agent's copy of older mail in flight (at most one) and
// the mailbox's budget that it shares with the passes.
type backfills struct {
	mu     sync.Mutex
	cancel context.CancelFunc // ends the backfill in flight
	done   chan struct{}      // closed when it has ended; nil when none ran

	budgetOnce sync.Once
	budget     *graph.Budget
}

// mailboxBudget is the one concurrency budget of the mailbox: every Graph
// client the agent makes counts against it, so a pass and a backfill
// together never ask Outlook for more than its four requests.
func (a *Agent) mailboxBudget() *graph.Budget {
	a.bf.budgetOnce.Do(func() { a.bf.budget = graph.NewBudget() })
	return a.bf.budget
}

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
// copy, uploading nothing.
func (a *Agent) PreviewBackfill(ctx context.Context, days int) (engine.Backfill, error) {
	if days < 1 || days > engine.MaxBackfillDays {
		return engine.Backfill{}, backfillWords(engine.ErrBackfillDays)
	}
	if err := a.canSync(ctx); err != nil {
		return engine.Backfill{}, err
	}
	mb, c, err := a.backfillRemotes(ctx)
	if err != nil {
		return engine.Backfill{}, backfillWords(err)
	}
	b, err := a.eng.PreviewBackfill(ctx, mb, c, days, nil)
	if err != nil {
		return b, backfillWords(err)
	}
	return b, nil
}

// StartBackfill implements agentapi.API: it records a backfill of days and
// starts it, returning at once; its progress is in Status.Backfill.
func (a *Agent) StartBackfill(ctx context.Context, days int) error {
	_, err := a.startBackfill(ctx, days)
	return err
}

func (a *Agent) startBackfill(ctx context.Context, days int) (<-chan struct{}, error) {
	if days < 1 || days > engine.MaxBackfillDays {
		return nil, backfillWords(engine.ErrBackfillDays)
	}
	if err := a.canSync(ctx); err != nil {
		return nil, err
	}
	a.bf.mu.Lock()
	defer a.bf.mu.Unlock()
	if a.bf.done != nil {
		select {
		case <-a.bf.done:
		default:
			return nil, problem(backfillRunningWords, nil)
		}
	}
	b, err := a.eng.StartBackfill(days)
	if err != nil {
		return nil, backfillWords(err)
	}
	a.publishBackfill(b)
	return a.runBackfillLocked(), nil
}

// Backfill implements agentapi.API: StartBackfill, then it waits for the
// backfill to end and returns its record.
func (a *Agent) Backfill(ctx context.Context, days int) (engine.Backfill, error) {
	done, err := a.startBackfill(ctx, days)
	if err != nil {
		return engine.Backfill{}, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return engine.Backfill{}, ctx.Err()
	}
	b, err := a.store.Backfill()
	if err != nil {
		return b, backfillWords(err)
	}
	if b.Error != "" {
		return b, problem(b.Error, nil)
	}
	return b, nil
}

// CancelBackfill implements agentapi.API: the backfill in flight stops and
// is not resumed; what it copied stays.
func (a *Agent) CancelBackfill(context.Context) error {
	if _, err := a.eng.CancelBackfill(); err != nil {
		return backfillWords(err)
	}
	a.stopBackfill()
	if b, err := a.store.Backfill(); err == nil {
		a.publishBackfill(b)
	}
	return nil
}

// resumeBackfill starts again a backfill a restart or a crash stopped.
func (a *Agent) resumeBackfill() {
	b, err := a.eng.RunningBackfill()
	if err != nil {
		return
	}
	a.log.Info("resuming the copy of older mail", "days", b.Days, "reached", b.Reached)
	a.publishBackfill(b)
	a.bf.mu.Lock()
	defer a.bf.mu.Unlock()
	a.runBackfillLocked()
}

// runBackfillLocked runs the recorded backfill in a goroutine until it
// ends or stopBackfill; a.bf.mu is held.
func (a *Agent) runBackfillLocked() <-chan struct{} {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	a.bf.cancel, a.bf.done = cancel, done
	go func() {
		defer close(done)
		defer cancel()
		mb, c, err := a.backfillRemotes(ctx)
		if err != nil {
			// The record stays running: it resumes when the agent
			// starts again with the accounts ready.
			a.log.Warn("copy of older mail not started", "err", err)
			if b, rerr := a.store.Backfill(); rerr == nil {
				b.Error = Words(err)
				a.publishBackfill(b)
			}
			return
		}
		b, err := a.eng.RunBackfill(ctx, mb, c, a.publishBackfill)
		if err != nil && ctx.Err() == nil {
			a.log.Warn("copy of older mail failed", "err", err)
		}
		a.publishBackfill(b)
	}()
	return done
}

// stopBackfill ends the backfill in flight, if any, and waits for it. Its
// record stays as it is: running (resumed at the next start) unless
// CancelBackfill marked it cancelled.
func (a *Agent) stopBackfill() {
	a.bf.mu.Lock()
	cancel, done := a.bf.cancel, a.bf.done
	a.bf.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
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
