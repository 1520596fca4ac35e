package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/sandbox"
)

// backfillAt is when the backfill tests ask for one: after the first pass.
var backfillAt = testNow.Add(10 * time.Minute)

// olderUploads counts the uploads a backfill back to from must make.
func olderUploads(w *sandbox.World, from time.Time) int {
	n := 0
	for _, it := range w.Messages {
		if !it.Msg.ReceivedDateTime.Before(from) {
			n += len(it.Older)
		}
	}
	return n
}

// olderEmails counts the messages a backfill back to from must copy.
func olderEmails(w *sandbox.World, from time.Time) int {
	n := 0
	for _, it := range w.Messages {
		if !it.Msg.ReceivedDateTime.Before(from) && len(it.Older) > 0 {
			n++
		}
	}
	return n
}

// newBackfillEnv is newEnv with the mailbox recorded as connected, as the
// agent records it.
func newBackfillEnv(t *testing.T, w *sandbox.World) *env {
	t.Helper()
	e := newEnv(t, w)
	if err := e.store.UpdateMeta(func(m *storage.Meta) {
		m.Account = &storage.Account{Name: "Alex Morgan", Email: w.Me.Mail}
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) backfill(days int) storage.Backfill {
	e.t.Helper()
	e.clock.Set(backfillAt)
	if _, err := e.engine().StartBackfill(days); err != nil {
		e.t.Fatal(err)
	}
	b, err := e.engine().RunBackfill(context.Background(), e.mb, e.api, nil)
	if err != nil {
		e.t.Fatalf("backfill: %v", err)
	}
	return b
}

func TestBackfillCopiesOlderMailByThePassRules(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newBackfillEnv(t, w)
	e.mustPass(testNow)

	for _, days := range []int{30, 365} {
		from := backfillAt.Add(-time.Duration(days) * 24 * time.Hour)
		b := e.backfill(days)
		if b.State != storage.BackfillDone {
			t.Fatalf("%d days: state %v", days, b.State)
		}
		sameLanding(t, landed(e.c), w.ExpectedAfterBackfill(from))
		if days == 30 && b.Emails != olderEmails(w, from) {
			t.Errorf("30 days: Emails = %d, want %d", b.Emails, olderEmails(w, from))
		}
		if !b.Reached.Equal(b.From) || !b.From.Equal(from) {
			t.Errorf("%d days: reached %v, from %v; want %v", days, b.Reached, b.From, from)
		}
	}
	// The same again, after a pass (which prunes the ledger): nothing.
	e.mustPass(testNow.Add(time.Hour))
	e.reopen()
	b := e.backfill(365)
	if b.Emails != 0 || len(b.Clients) != 0 {
		t.Errorf("second backfill copied %d emails to %v", b.Emails, b.Clients)
	}
	sameLanding(t, landed(e.c), w.ExpectedAfterBackfill(backfillAt.Add(-365*24*time.Hour)))

	// Activity shows what it decided, copied and skipped.
	ds, err := e.engine().Decisions("Northwind: first order", 10)
	if err != nil || len(ds) != 1 || !ds[0].Synced {
		t.Errorf("decision of the oldest copied message: %+v, %v", ds, err)
	}
	ds, err = e.engine().Decisions("Personal: thank you", 10)
	if err != nil || len(ds) != 1 || ds[0].Synced || ds[0].Reason == "" {
		t.Errorf("decision of the old private message: %+v, %v", ds, err)
	}
}

func TestBackfillPreviewUploadsNothing(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newBackfillEnv(t, w)
	e.mustPass(testNow)
	before := e.c.Stats().ByRoute["POST /clients/{id}/interactions"]
	e.clock.Set(backfillAt)
	from := backfillAt.Add(-365 * 24 * time.Hour)
	p, err := e.engine().PreviewBackfill(context.Background(), e.mb, e.api, 365, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Emails != olderEmails(w, from) {
		t.Errorf("preview: %d emails, want %d", p.Emails, olderEmails(w, from))
	}
	want := map[int64]int{}
	for _, ids := range []map[int64][]string{w.ExpectedAfterBackfill(from)} {
		for c, l := range ids {
			want[c] = len(l) - len(w.Expected()[c])
		}
	}
	got := map[int64]int{}
	for _, c := range p.Clients {
		got[c.ID] = c.Emails
		if c.Name == "" {
			t.Errorf("client %d has no name", c.ID)
		}
	}
	for c, n := range want {
		if n > 0 && got[c] != n {
			t.Errorf("preview: client %d gets %d, want %d", c, got[c], n)
		}
	}
	if e.c.Stats().ByRoute["POST /clients/{id}/interactions"] != before {
		t.Error("the preview uploaded")
	}
	if pend, _ := e.store.PendingJobs(); len(pend) != 0 {
		t.Errorf("the preview left pending uploads: %v", pend)
	}
	if _, err := e.store.Backfill(); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the preview recorded a backfill: %v", err)
	}
	sameLanding(t, landed(e.c), w.Expected())
}

func TestBackfillDays(t *testing.T) {
	e := newBackfillEnv(t, sandbox.Demo(testNow))
	for _, d := range []int{-1, 0, MaxBackfillDays + 1} {
		if _, err := e.engine().StartBackfill(d); !errors.Is(err, ErrBackfillDays) {
			t.Errorf("%d days: %v", d, err)
		}
	}
}

// TestBackfillCrashAtEveryBoundary kills a backfill at each boundary of
// each of its uploads (before it is sent; after ClientSuccess applied it,
// before it was recorded) and after each day's record, restarts from the
// state file, and resumes: every message lands once.
func TestBackfillCrashAtEveryBoundary(t *testing.T) {
	w := sandbox.Demo(testNow)
	from := backfillAt.Add(-365 * 24 * time.Hour)
	n := olderUploads(w, from)
	want := w.ExpectedAfterBackfill(from)
	resume := func(t *testing.T, e *env) {
		t.Helper()
		e.reopen()
		e.clock.Set(backfillAt.Add(time.Minute))
		b, err := e.engine().RunBackfill(context.Background(), e.mb, e.api, nil)
		if err != nil || b.State != storage.BackfillDone {
			t.Fatalf("resume: %v, %v", b.State, err)
		}
		sameLanding(t, landed(e.c), want)
		if pend, err := e.store.PendingJobs(); err != nil || len(pend) != 0 {
			t.Errorf("pending after the resumed backfill: %+v, %v", pend, err)
		}
	}
	for k := 1; k <= n; k++ {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("create %d, after %v", k, after), func(t *testing.T) {
				e := newBackfillEnv(t, sandbox.Demo(testNow))
				e.mustPass(testNow)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				wrap := &boundaryCRM{CRM: e.api, k: k, after: after, cancel: cancel}
				e.clock.Set(backfillAt)
				if _, err := e.engine().StartBackfill(365); err != nil {
					t.Fatal(err)
				}
				if _, err := e.engine().RunBackfill(ctx, e.mb, wrap, nil); err == nil {
					t.Fatal("the backfill went on after the crash")
				}
				resume(t, e)
			})
		}
	}
	for day := 1; day < 365; day += 40 {
		t.Run(fmt.Sprintf("after day %d", day), func(t *testing.T) {
			e := newBackfillEnv(t, sandbox.Demo(testNow))
			e.mustPass(testNow)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e.clock.Set(backfillAt)
			if _, err := e.engine().StartBackfill(365); err != nil {
				t.Fatal(err)
			}
			days := 0
			var reached time.Time
			_, err := e.engine().RunBackfill(ctx, e.mb, e.api, func(b storage.Backfill) {
				if days++; days == day {
					reached = b.Reached
					cancel()
				}
			})
			if err == nil {
				t.Fatal("the backfill went on after the crash")
			}
			rec, err := e.store.Backfill()
			if err != nil || rec.State != storage.BackfillRunning || !rec.Reached.Equal(reached) {
				t.Fatalf("record after the crash: %+v, %v; want running at %v", rec, err, reached)
			}
			resume(t, e)
		})
	}
}

func TestBackfillCancelled(t *testing.T) {
	e := newBackfillEnv(t, sandbox.Demo(testNow))
	e.mustPass(testNow)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.clock.Set(backfillAt)
	if _, err := e.engine().StartBackfill(365); err != nil {
		t.Fatal(err)
	}
	b, err := e.engine().RunBackfill(ctx, e.mb, e.api, func(storage.Backfill) {
		if _, err := e.engine().CancelBackfill(); err != nil {
			t.Error(err)
		}
		cancel()
	})
	if err == nil || b.State != storage.BackfillCancelled {
		t.Fatalf("cancelled backfill: %v, %v", b.State, err)
	}
	if _, err := e.engine().RunningBackfill(); !errors.Is(err, ErrNoBackfill) {
		t.Errorf("a cancelled backfill would resume: %v", err)
	}
}

// passWatch records, when a pass starts listing, how many backfill days
// had ended.
type passWatch struct {
	Mailbox
	days    *atomic.Int32
	started chan int32
}

func (p *passWatch) ListMessages(ctx context.Context, since time.Time, fn func([]graph.Message) error) error {
	select {
	case p.started <- p.days.Load():
	default:
	}
	return p.Mailbox.ListMessages(ctx, since, fn)
}

// TestBackfillYieldsToPass: a pass asked for while a backfill runs starts
// after the backfill's day in flight, and both stay within the mailbox's
// budget.
func TestBackfillYieldsToPass(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newBackfillEnv(t, w)
	e.mustPass(testNow)
	e.g.SetLatency(2 * time.Millisecond)
	e.clock.Set(backfillAt)
	if _, err := e.engine().StartBackfill(365); err != nil {
		t.Fatal(err)
	}
	var days atomic.Int32
	askAt := make(chan int32, 1)
	watch := &passWatch{Mailbox: e.mb, days: &days, started: make(chan int32, 1)}
	var wg sync.WaitGroup
	passErr := make(chan error, 1)
	_, err := e.engine().RunBackfill(context.Background(), e.mb, e.api, func(b storage.Backfill) {
		if days.Add(1) != 5 {
			return
		}
		// Asked while the backfill goes on: the pass waits for the turn.
		askAt <- days.Load()
		wg.Go(func() {
			_, err := e.engine().Pass(context.Background(), watch, e.api, nil)
			passErr <- err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := <-passErr; err != nil {
		t.Fatal(err)
	}
	asked, started := <-askAt, <-watch.started
	if started > asked+1 {
		t.Errorf("the pass asked for after day %d started after day %d", asked, started)
	}
	st := e.g.Stats()
	if st.PeakMailbox > graphtest.MailboxConcurrency || st.MailboxThrottled > 0 {
		t.Errorf("peak mailbox %d, throttled %d", st.PeakMailbox, st.MailboxThrottled)
	}
	sameLanding(t, landed(e.c), w.ExpectedAfterBackfill(backfillAt.Add(-365*24*time.Hour)))
}
