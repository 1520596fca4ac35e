package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/crmtest"
	"mailsync/sync/remote"
	"mailsync/sync/sandbox"
)

// boundaryCRM ends the pass at one boundary of create number k, like a
// kill there: before it is sent (the job recorded as pending, nothing
// posted), or after ClientSuccess applied it and before the answer was
// recorded (the interaction exists, the job is still pending).
type boundaryCRM struct {
	CRM
	mu     sync.Mutex
	n, k   int
	after  bool
	cancel context.CancelFunc
}

func (b *boundaryCRM) CreateInteraction(ctx context.Context, clientID int64, in crm.Interaction) (crm.Interaction, error) {
	b.mu.Lock()
	b.n++
	hit := b.n == b.k
	b.mu.Unlock()
	if hit && !b.after {
		b.cancel()
		return crm.Interaction{}, &remote.Error{Service: "crm", Op: "create interaction", Kind: remote.Transient,
			Message: "stopped before ClientSuccess answered", Err: context.Canceled}
	}
	out, err := b.CRM.CreateInteraction(ctx, clientID, in)
	if hit && b.after && err == nil {
		b.cancel()
		return crm.Interaction{}, &remote.Error{Service: "crm", Op: "create interaction", Kind: remote.Transient,
			Message: "stopped before ClientSuccess answered", Err: fmt.Errorf("%w: %w", crm.ErrAmbiguous, context.Canceled)}
	}
	return out, err
}

// adverseWorld is the demo world with a Message-ID holding white space
// and capitals (the note and the ledger must agree on it), and every
// client's timeline already holding more notes than the note search gives
// on one page, so that what a crash left behind is never on the first.
func adverseWorld(t *testing.T) (*sandbox.World, *env) {
	t.Helper()
	w := sandbox.Demo(testNow)
	var odd string
	for _, it := range w.Messages {
		if len(it.Expect) > 0 {
			odd = it.Msg.InternetMessageID
			break
		}
	}
	for i := range w.Messages {
		if w.Messages[i].Msg.InternetMessageID == odd {
			w.Messages[i].Msg.InternetMessageID = "<Odd Id " + strings.Trim(odd, "<>") + ">"
		}
	}
	e := newEnv(t, w)
	for c := range w.Expected() {
		for i := range 60 {
			if _, err := e.api.CreateInteraction(context.Background(), c, crm.Interaction{
				InteractionTypeID: crm.InteractionTypeEmail, Subject: "older", InteractionDate: testNow,
				Note: fmt.Sprintf("<p>From: x<br>Message-ID: &lt;older-%d@x&gt;</p>", i),
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w, e
}

// landedNormal is landed without the older notes, every Message-ID in its
// normal form, duplicates kept.
func landedNormal(c *crmtest.CRM) map[int64][]string {
	out := map[int64][]string{}
	for cl, ids := range c.MessageIDs() {
		for _, id := range ids {
			if !strings.HasPrefix(id, "<older-") {
				out[cl] = append(out[cl], storage.LedgerKey(id))
			}
		}
		slices.Sort(out[cl])
	}
	return out
}

func expectedNormal(w *sandbox.World) map[int64][]string {
	out := map[int64][]string{}
	for cl, ids := range w.Expected() {
		for _, id := range ids {
			out[cl] = append(out[cl], storage.LedgerKey(id))
		}
		slices.Sort(out[cl])
	}
	return out
}

// TestReconcileCrashAtEveryBoundary kills the first pass at each boundary
// of each upload (before it is sent, after it was applied and before it was
// recorded), with the fakes adverse (notes in mixed forms, the note search
// in pages of 50 oldest first, v1 ignoring ?page=, creates answered every
// way, a Message-ID with white space), restarts from the state file, and
// lets the next pass finish: every expected interaction exists exactly
// once, and nothing is left pending.
func TestReconcileCrashAtEveryBoundary(t *testing.T) {
	n := countUploads(sandbox.Demo(testNow).Expected())
	for k := 1; k <= n; k++ {
		for _, after := range []bool{false, true} {
			t.Run(fmt.Sprintf("create %d, after %v", k, after), func(t *testing.T) {
				w, e := adverseWorld(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				wrap := &boundaryCRM{CRM: e.api, k: k, after: after, cancel: cancel}
				e.clock.Set(testNow)
				if _, err := e.engine().Pass(ctx, e.mb, wrap, nil); err == nil {
					t.Fatal("the pass went on after the crash")
				}
				pend, err := e.store.PendingJobs()
				if err != nil || len(pend) == 0 {
					t.Fatalf("pending after the crash: %v, %v", pend, err)
				}
				e.reopen()
				s := e.mustPass(testNow.Add(10 * time.Minute))
				sameLanding(t, landedNormal(e.c), expectedNormal(w))
				if pend, err := e.store.PendingJobs(); err != nil || len(pend) != 0 {
					t.Errorf("pending after the clean pass: %+v, %v", pend, err)
				}
				if after && s.Pending == 0 {
					t.Error("the applied upload was not found and recorded")
				}
			})
		}
	}
}

// lieOnce makes the first create fail as ambiguous after ClientSuccess
// applied it.
type lieOnce struct {
	CRM
	mu   sync.Mutex
	done bool
}

func (l *lieOnce) CreateInteraction(ctx context.Context, clientID int64, in crm.Interaction) (crm.Interaction, error) {
	out, err := l.CRM.CreateInteraction(ctx, clientID, in)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && !l.done {
		l.done = true
		return crm.Interaction{}, &remote.Error{Service: "crm", Op: "create interaction", Kind: remote.Transient,
			Message: "the connection to ClientSuccess broke before it confirmed the change", Err: crm.ErrAmbiguous}
	}
	return out, err
}

// unconfirmed runs a first pass whose first upload is applied but
// unconfirmed, and returns the job left pending.
func unconfirmed(t *testing.T, e *env) storage.PendingJob {
	t.Helper()
	e.clock.Set(testNow)
	if _, err := e.engine().Pass(context.Background(), e.mb, &lieOnce{CRM: e.api}, nil); !crm.IsAmbiguous(err) {
		t.Fatalf("pass error = %v, want an ambiguous create", err)
	}
	pend, err := e.store.PendingJobs()
	if err != nil || len(pend) != 1 {
		t.Fatalf("pending = %v, %v", pend, err)
	}
	return pend[0]
}

// TestReconcileNeverGuesses: when the client's timeline cannot be read in
// full (an answer that is not a page, the page parameter ignored), the
// upload is neither dropped nor posted again: it stays pending, and after
// a day the person is asked. Once the timeline reads again, it is found.
func TestReconcileNeverGuesses(t *testing.T) {
	for _, mode := range []crmtest.NoteSearch{crmtest.NotesUnreadable, crmtest.NotesIgnorePage} {
		t.Run(fmt.Sprint("mode ", int(mode)), func(t *testing.T) {
			w, e := adverseWorld(t)
			job := unconfirmed(t, e)
			e.c.SetNoteSearch(mode)
			before := len(e.c.AllInteractions())
			for h := 1; h <= 26; h += 5 {
				e.mustPass(testNow.Add(time.Duration(h) * time.Hour))
			}
			if got := len(e.c.AllInteractions()); got != before {
				t.Errorf("%d interactions posted while the timeline could not be read", got-before)
			}
			pend, err := e.store.PendingJobs()
			if err != nil || len(pend) != 1 || pend[0].ID() != job.ID() || pend[0].UnsureSince.IsZero() || pend[0].Unsure == "" {
				t.Fatalf("pending = %+v, %v; want the job kept, marked unsure", pend, err)
			}
			if u, err := e.engine().UnsureUploads(pend[0].UnsureSince.Add(UnsureAfter - time.Minute)); err != nil || len(u) != 0 {
				t.Errorf("unsure before a day: %+v, %v", u, err)
			}
			u, err := e.engine().UnsureUploads(pend[0].UnsureSince.Add(UnsureAfter))
			if err != nil || len(u) != 1 || u[0].ID != job.ID() || u[0].Subject != job.Subject || u[0].Why == "" || u[0].Client == "" {
				t.Fatalf("unsure after a day: %+v, %v", u, err)
			}
			e.c.SetNoteSearch(crmtest.NotesPaged)
			s := e.mustPass(testNow.Add(30 * time.Hour))
			if s.Pending != 1 {
				t.Errorf("Pending = %d, want the one found", s.Pending)
			}
			sameLanding(t, landedNormal(e.c), expectedNormal(w))
		})
	}
}

// notFoundCRM answers the note search 404, and GetClient 404 when gone.
type notFoundCRM struct {
	CRM
	gone bool
}

func (n *notFoundCRM) EachNote(context.Context, int64, func(crm.Interaction) bool) error {
	return &remote.Error{Service: "crm", Op: "search notes", Kind: remote.Permanent, Status: 404, Message: "ClientSuccess does not know it"}
}

func (n *notFoundCRM) GetClient(ctx context.Context, id int64) (crm.Client, error) {
	if n.gone {
		return crm.Client{}, &remote.Error{Service: "crm", Op: "get client", Kind: remote.Permanent, Status: 404, Message: "ClientSuccess does not know it"}
	}
	return n.CRM.GetClient(ctx, id)
}

// TestReconcileOnlyA404OnTheClientDrops: a 404 from the note search is not
// "client deleted" unless ClientSuccess says so of the client itself.
func TestReconcileOnlyA404OnTheClientDrops(t *testing.T) {
	for _, gone := range []bool{false, true} {
		t.Run(fmt.Sprint("gone ", gone), func(t *testing.T) {
			_, e := adverseWorld(t)
			unconfirmed(t, e)
			before := len(e.c.AllInteractions())
			e.clock.Set(testNow.Add(time.Hour))
			if _, err := e.engine().Pass(context.Background(), e.mb, &notFoundCRM{CRM: e.api, gone: gone}, nil); err != nil {
				t.Fatal(err)
			}
			pend, _ := e.store.PendingJobs()
			if gone && len(pend) != 0 || !gone && len(pend) != 1 {
				t.Errorf("gone %v: pending %d", gone, len(pend))
			}
			// (A client the wrapper calls gone still exists in the fake,
			// so the message listed again may be posted to it.)
			if got := len(e.c.AllInteractions()); !gone && got != before {
				t.Errorf("%d posted", got-before)
			}
		})
	}
}

// TestDecideUnsure: the person's choice for an unsure upload. Copy again
// posts it once more on the next pass without looking; Don't copy drops it.
func TestDecideUnsure(t *testing.T) {
	for _, again := range []bool{true, false} {
		t.Run(fmt.Sprint("copy again ", again), func(t *testing.T) {
			_, e := adverseWorld(t)
			job := unconfirmed(t, e)
			e.c.SetNoteSearch(crmtest.NotesUnreadable)
			e.mustPass(testNow.Add(time.Hour))
			before := len(e.c.AllInteractions())
			if err := e.engine().DecideUnsure(job.ID(), again); err != nil {
				t.Fatal(err)
			}
			if u, _ := e.engine().UnsureUploads(testNow.Add(48 * time.Hour)); len(u) != 0 {
				t.Errorf("still asked about after deciding: %+v", u)
			}
			e.mustPass(testNow.Add(2 * time.Hour))
			want := before
			if again {
				want++
			}
			if got := len(e.c.AllInteractions()); got != want {
				t.Errorf("%d interactions, want %d", got, want)
			}
			if pend, _ := e.store.PendingJobs(); len(pend) != 0 {
				t.Errorf("pending = %+v", pend)
			}
			if err := e.engine().DecideUnsure(job.ID(), again); err != nil {
				t.Errorf("deciding again: %v", err)
			}
		})
	}
}
