package engine

import (
	"context"
	"slices"
	"sync"
)

// turn lets one piece of work at a time use the mailbox and the ledger: a
// pass, or one day of a backfill. Passes come first: when the turn is given
// up, a pass waiting for it gets it before any backfill does, so a Sync now
// waits at most for the backfill day in flight. Safe for concurrent use;
// the zero value is free.
type turn struct {
	mu     sync.Mutex
	held   bool
	passes []chan struct{} // waiting passes, first come first
	others []chan struct{} // waiting backfill days
}

// acquire waits for the turn, or for ctx. pass says the work is a pass.
func (t *turn) acquire(ctx context.Context, pass bool) error {
	t.mu.Lock()
	if !t.held {
		t.held = true
		t.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if pass {
		t.passes = append(t.passes, ch)
	} else {
		t.others = append(t.others, ch)
	}
	t.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	select {
	case <-ch:
		// Handed over while ctx ended: hand it on.
		t.mu.Unlock()
		t.release()
	default:
		t.passes = slices.DeleteFunc(t.passes, func(c chan struct{}) bool { return c == ch })
		t.others = slices.DeleteFunc(t.others, func(c chan struct{}) bool { return c == ch })
		t.mu.Unlock()
	}
	return ctx.Err()
}

// release gives the turn to the first pass waiting, else to the first
// other work waiting, else frees it.
func (t *turn) release() {
	t.mu.Lock()
	defer t.mu.Unlock()
	var next chan struct{}
	switch {
	case len(t.passes) > 0:
		next, t.passes = t.passes[0], t.passes[1:]
	case len(t.others) > 0:
		next, t.others = t.others[0], t.others[1:]
	default:
		t.held = false
		return
	}
	close(next)
}
