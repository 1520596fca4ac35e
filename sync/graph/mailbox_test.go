package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/remote"
)

// results reads every body of ids and returns them and the per-message
// errors, by id.
func results(t *testing.T, c *graph.Client, ids []string, maxChars int) (map[string]graph.Body, map[string]error) {
	t.Helper()
	bodies, errs := map[string]graph.Body{}, map[string]error{}
	calls := 0
	err := c.Bodies(context.Background(), ids, maxChars, func(id string, b graph.Body, err error) error {
		calls++
		if err != nil {
			errs[id] = err
		} else {
			bodies[id] = b
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Bodies: %v", err)
	}
	if calls != len(ids) {
		t.Fatalf("fn called %d times for %d ids", calls, len(ids))
	}
	return bodies, errs
}

// everyBody reads every body of ids, uncut, and fails the test unless each
// was read.
func everyBody(t *testing.T, c *graph.Client, ids []string) {
	t.Helper()
	bodies, errs := results(t, c, ids, 0)
	if len(bodies) != len(ids) || len(errs) != 0 {
		t.Fatalf("%d bodies, %d failures; want %d, 0", len(bodies), len(errs), len(ids))
	}
}

// A thousand bodies, read while the list is read too, never ask Outlook for
// more than its four concurrent requests: no 429 at all.
func TestClientBodiesStayWithinMailboxBudget(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 1000)
	g.SetLatency(2 * time.Millisecond)
	c := newClient(t, g)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 3 {
			if _, err := c.Me(context.Background()); err != nil {
				t.Error(err)
			}
			if err := c.ListMessages(context.Background(), epoch.Add(-48*time.Hour), func([]graph.Message) error { return nil }); err != nil {
				t.Error(err)
			}
		}
	}()
	bodies, errs := results(t, c, ids, 0)
	wg.Wait()
	if len(bodies) != 1000 || len(errs) != 0 {
		t.Fatalf("%d bodies, %d failures; want 1000, 0", len(bodies), len(errs))
	}
	st := g.Stats()
	if st.PeakMailbox > graphtest.MailboxConcurrency || st.PeakMailbox == 0 {
		t.Errorf("peak mailbox concurrency %d, want 1..%d", st.PeakMailbox, graphtest.MailboxConcurrency)
	}
	if st.MailboxThrottled != 0 {
		t.Errorf("%d requests throttled for MailboxConcurrency", st.MailboxThrottled)
	}
}

// The fake's budget bites: four batches at once (the old way) is up to 16
// concurrent mailbox requests, and the excess steps get 429s.
func TestFakeThrottlesBatchesBeyondBudget(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 80)
	g.SetLatency(50 * time.Millisecond)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Separate clients: each keeps its own budget, as four copies
			// of an app would.
			c := newClient(t, g)
			if _, err := bodiesOf(c, context.Background(), ids[i*20:(i+1)*20]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st := g.Stats()
	if st.PeakMailbox <= graphtest.MailboxConcurrency || st.MailboxThrottled == 0 {
		t.Errorf("peak %d, throttled %d: four batches at once went unnoticed", st.PeakMailbox, st.MailboxThrottled)
	}
	if st.EarlyRetries != 0 {
		t.Errorf("%d throttled steps came back before their Retry-After", st.EarlyRetries)
	}
}

// Throttled steps are sent again after their own Retry-After; the steps that
// were answered are not sent again.
func TestClientResendsOnlyThrottledSteps(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 20)
	g.SetMailboxRetryAfter("0.3")
	g.ThrottleNext(3)
	everyBody(t, newClient(t, g), ids)
	st := g.Stats()
	if st.MailboxThrottled != 3 {
		t.Fatalf("%d steps throttled, want 3", st.MailboxThrottled)
	}
	for _, id := range ids {
		if n := st.MessageReads[id]; n != 1 {
			t.Errorf("message %s read %d times, want once", id, n)
		}
	}
	if st.BatchItems != 23 || st.ByRoute["POST /$batch"] != 2 {
		t.Errorf("%d steps in %d batches, want 23 in 2", st.BatchItems, st.ByRoute["POST /$batch"])
	}
	if st.EarlyRetries != 0 {
		t.Errorf("%d steps came back before their Retry-After", st.EarlyRetries)
	}
}

// Retry-After: 2.128 (the throttling docs' example) waits at least 2.128 s.
func TestClientWaitsFractionalRetryAfter(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 2)
	g.SetMailboxRetryAfter("2.128")
	g.ThrottleNext(1)
	start := time.Now()
	everyBody(t, newClient(t, g), ids)
	elapsed := time.Since(start)
	if elapsed < 2128*time.Millisecond {
		t.Errorf("the throttled step came back after %v, before the 2.128 s asked for", elapsed)
	}
	if st := g.Stats(); st.MailboxThrottled != 1 || st.EarlyRetries != 0 {
		t.Errorf("throttled %d, early %d; want 1, 0", st.MailboxThrottled, st.EarlyRetries)
	}
}

// A message whose read always fails (403, 500) is given its error; every
// other message of its batch is read, once.
func TestClientPoisonedMessagesSkipOnlyThemselves(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 30)
	g.PoisonMessage(ids[5], http.StatusForbidden)
	g.PoisonMessage(ids[22], http.StatusInternalServerError)
	bodies, errs := results(t, newClient(t, g), ids, 0)
	if len(bodies) != 28 || len(errs) != 2 {
		t.Fatalf("%d bodies, %d failures; want 28, 2", len(bodies), len(errs))
	}
	var re *remote.Error
	if !errors.As(errs[ids[5]], &re) || re.Code != "ErrorAccessDenied" || re.Kind != remote.Permanent {
		t.Errorf("403 message: %v", errs[ids[5]])
	}
	if !errors.As(errs[ids[22]], &re) || re.Status != http.StatusInternalServerError {
		t.Errorf("500 message: %v", errs[ids[22]])
	}
	st := g.Stats()
	for _, id := range ids {
		if id != ids[5] && id != ids[22] && st.MessageReads[id] != 1 {
			t.Errorf("message %s read %d times, want once", id, st.MessageReads[id])
		}
	}
}

// A whole batch answered 424 is tried again and loses nothing.
func TestClientRetriesBatch424(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 25)
	g.FailBatches(2)
	everyBody(t, newClient(t, g), ids)
	if n := g.Stats().ByRoute["POST /$batch"]; n != 4 {
		t.Errorf("%d batch requests, want 4 (two answered 424)", n)
	}
}

// Bodies are cut as they are read: a 5 MB body comes back as its first
// maxChars characters and how many more there were.
func TestClientCutsBodiesAsTheyArrive(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 3)
	big := strings.Repeat("é\"x\n", 5<<20/5)
	g.DeleteMessage(ids[1])
	g.AddMessage(graph.Message{ID: ids[1], InternetMessageID: "<big@x>", ReceivedDateTime: epoch, ParentFolderID: "inbox-id-0000000000000001"}, big)
	bodies, errs := results(t, newClient(t, g), ids, 1000)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	b := bodies[ids[1]]
	total := utf8.RuneCountInString(big)
	if n := utf8.RuneCountInString(b.Content); n != 1000 || b.Omitted != total-1000 {
		t.Errorf("kept %d characters and omitted %d, want 1000 and %d", n, b.Omitted, total-1000)
	}
	if !strings.HasPrefix(big, b.Content) {
		t.Error("the kept part is not the start of the body")
	}
	if small := bodies[ids[0]]; small.Omitted != 0 || small.Content != fmt.Sprintf("Hello %d,\nthe renewal is due.", 0) {
		t.Errorf("a short body changed: %+v", small)
	}
}

// Clients of one mailbox that share a Budget (a pass's and a backfill's)
// stay within Outlook's four requests together: the batches that, each
// with a budget of its own, went over it above.
func TestSharedBudgetHoldsAcrossClients(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 80)
	g.SetLatency(20 * time.Millisecond)
	budget := graph.NewBudget()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			c := newClient(t, g)
			c.ShareBudget(budget)
			if _, err := bodiesOf(c, context.Background(), ids[i*20:(i+1)*20]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st := g.Stats()
	if st.PeakMailbox > graphtest.MailboxConcurrency || st.MailboxThrottled != 0 {
		t.Errorf("peak %d, throttled %d with one shared budget", st.PeakMailbox, st.MailboxThrottled)
	}
}
