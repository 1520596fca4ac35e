package agent_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/engine"
)

// waitBackfill waits until the status's backfill satisfies ok, and returns
// it.
func waitBackfill(t *testing.T, ag *agent.Agent, ok func(*engine.Backfill) bool) engine.Backfill {
	t.Helper()
	ctx := ctxFor(t)
	ch, err := ag.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case st, open := <-ch:
			if !open {
				t.Fatal("the status stream ended")
			}
			if st.Backfill != nil && ok(st.Backfill) {
				return *st.Backfill
			}
		case <-ctx.Done():
			t.Fatal("the backfill never reached the state wanted")
		}
	}
}

// runAgent runs the agent's loop until the test ends (before it closes).
func runAgent(t *testing.T, ag *agent.Agent) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = ag.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		ag.Close()
	})
}

// TestBackfillResumesAfterRestart: an agent that stops while it copies
// older mail resumes at its next start where it stopped, and every
// message lands once.
func TestBackfillResumesAfterRestart(t *testing.T) {
	f := newFixture(t)
	f.connect(t)
	f.ready(t)
	if _, err := f.ag.PassNow(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	f.svc.Graph.SetLatency(10 * time.Millisecond)
	if err := f.ag.StartBackfill(ctxFor(t), 365); err != nil {
		t.Fatal(err)
	}
	started := waitBackfill(t, f.ag, func(b *engine.Backfill) bool { return b.Reached.Before(b.To) })
	if err := f.ag.Close(); err != nil {
		t.Fatal(err)
	}
	f.svc.Graph.SetLatency(0)

	f.open(t)
	rec, err := f.ag.Store().Backfill()
	if err != nil || rec.State != storage.BackfillRunning || !rec.Reached.After(rec.From) || rec.Reached.After(started.Reached) {
		t.Fatalf("record after the stop: %+v, %v", rec, err)
	}
	runAgent(t, f.ag)
	done := waitBackfill(t, f.ag, func(b *engine.Backfill) bool { return b.State != storage.BackfillRunning })
	if done.State != storage.BackfillDone || done.Emails == 0 {
		t.Fatalf("resumed backfill ended %v with %d emails", done.State, done.Emails)
	}
	want := f.svc.World.ExpectedAfterBackfill(done.From)
	if got := f.svc.CRM.MessageIDs(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ClientSuccess after the resumed backfill:\n got %v\nwant %v", got, want)
	}
}

// TestBackfillCancelStaysCancelled: a cancelled backfill stops, keeps
// what it copied, and is not resumed at the next start; a second start
// while one runs, or a number of days out of range, is refused in words.
func TestBackfillCancelStaysCancelled(t *testing.T) {
	f := newFixture(t)
	f.connect(t)
	f.ready(t)
	ctx := ctxFor(t)
	for _, d := range []int{0, 366} {
		if err := f.ag.StartBackfill(ctx, d); err == nil || agent.Words(err) != "Choose how far back to copy: 1 to 365 days." {
			t.Errorf("StartBackfill(%d): %v", d, err)
		}
	}
	if err := f.ag.CancelBackfill(ctx); err == nil || agent.Words(err) != agent.NoBackfillRunning {
		t.Errorf("CancelBackfill with none running: %v", err)
	}
	f.svc.Graph.SetLatency(10 * time.Millisecond)
	if err := f.ag.StartBackfill(ctx, 365); err != nil {
		t.Fatal(err)
	}
	if err := f.ag.StartBackfill(ctx, 30); err == nil {
		t.Error("a second backfill started while one ran")
	}
	waitBackfill(t, f.ag, func(b *engine.Backfill) bool { return b.Reached.Before(b.To) })
	if err := f.ag.CancelBackfill(ctx); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.ag.Status(ctx); b.Backfill == nil || b.Backfill.State != storage.BackfillCancelled {
		t.Fatalf("status after cancel: %+v", b.Backfill)
	}
	if err := f.ag.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	runAgent(t, f.ag)
	if rec, err := f.ag.Store().Backfill(); err != nil || rec.State != storage.BackfillCancelled {
		t.Errorf("record after restart: %+v, %v", rec, err)
	}
	if st, _ := f.ag.Status(ctx); st.Backfill != nil {
		t.Errorf("a cancelled backfill was resumed: %+v", st.Backfill)
	}
}
