package graphtest_test

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// batchOf is a $batch payload reading the body of each id.
func batchOf(ids ...string) map[string]any {
	var reqs []map[string]any
	for i, id := range ids {
		reqs = append(reqs, map[string]any{"id": string(rune('a' + i)), "method": "GET", "url": "/me/messages/" + id + "?$select=body"})
	}
	return map[string]any{"requests": reqs}
}

// steps returns a batch answer's steps by id.
func steps(t *testing.T, body map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	list, _ := body["responses"].([]any)
	for _, r := range list {
		m := r.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out
}

// Two batches in flight at once ask Outlook for eight slots: the second is
// granted none, and each of its steps is a 429 ApplicationThrottled with a
// fractional Retry-After in its own headers, inside a 200 batch.
func TestMailboxConcurrencyInsideBatches(t *testing.T) {
	g := newMailbox(t)
	g.SetLatency(300 * time.Millisecond)
	g.SetMailboxRetryAfter("2.128")
	type answer struct {
		status int
		body   map[string]any
	}
	answers := make(chan answer, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			st, _, body := call(t, http.MethodPost, g.URL+"/$batch", batchOf("AAMkA", "AAMkB", "AAMkA", "AAMkB"), nil)
			answers <- answer{st, body}
		})
	}
	wg.Wait()
	close(answers)
	throttled := 0
	for a := range answers {
		if a.status != http.StatusOK {
			t.Fatalf("batch status %d, want 200 even with failed steps", a.status)
		}
		for _, s := range steps(t, a.body) {
			if s["status"].(float64) != http.StatusTooManyRequests {
				continue
			}
			throttled++
			h := s["headers"].(map[string]any)
			if h["Retry-After"] != "2.128" {
				t.Errorf("throttled step headers %v, want Retry-After 2.128", h)
			}
			e := s["body"].(map[string]any)["error"].(map[string]any)
			if e["code"] != "ApplicationThrottled" {
				t.Errorf("throttled step error %v", e)
			}
		}
	}
	st := g.Stats()
	if throttled != 4 || st.MailboxThrottled != 4 || st.PeakMailbox != 8 {
		t.Errorf("throttled %d (stats %d), peak %d; want 4, 4, 8", throttled, st.MailboxThrottled, st.PeakMailbox)
	}
}

// A lone request beyond the budget is a 429 with Retry-After; GET /me uses
// no mailbox slot.
func TestMailboxConcurrencyRequests(t *testing.T) {
	g := newMailbox(t)
	g.SetLatency(300 * time.Millisecond)
	statuses := make(chan int, 6)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			st, _, _ := call(t, http.MethodGet, g.URL+"/me/messages/AAMkA", nil, nil)
			statuses <- st
		})
	}
	wg.Go(func() {
		st, _, _ := call(t, http.MethodGet, g.URL+"/me", nil, nil)
		statuses <- st
	})
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusOK] != 5 || count[http.StatusTooManyRequests] != 1 {
		t.Errorf("statuses %v, want five 200 and one 429", count)
	}
	if st := g.Stats(); st.PeakMailbox != 5 {
		t.Errorf("peak %d, want 5", st.PeakMailbox)
	}
}

// A poisoned message fails its step every time, alone or in a batch, and the
// other steps are served; a batch answered 424 serves no step.
func TestPoisonAndFailedBatch(t *testing.T) {
	g := newMailbox(t)
	g.PoisonMessage("AAMkA", http.StatusInternalServerError)
	for range 2 {
		st, _, body := call(t, http.MethodPost, g.URL+"/$batch", batchOf("AAMkA", "AAMkB"), nil)
		s := steps(t, body)
		if st != http.StatusOK || s["a"]["status"].(float64) != 500 || s["b"]["status"].(float64) != 200 {
			t.Fatalf("batch %d: steps %v", st, s)
		}
	}
	if st, _, _ := call(t, http.MethodGet, g.URL+"/me/messages/AAMkA", nil, nil); st != 500 {
		t.Errorf("poisoned read alone: %d", st)
	}
	g.FailBatches(1)
	if st, _, body := call(t, http.MethodPost, g.URL+"/$batch", batchOf("AAMkB"), nil); st != http.StatusFailedDependency {
		t.Errorf("failed batch: %d %v", st, body)
	}
	if st, _, _ := call(t, http.MethodPost, g.URL+"/$batch", batchOf("AAMkB"), nil); st != http.StatusOK {
		t.Errorf("batch after the failed one: %d", st)
	}
	if n := g.Stats().MessageReads["AAMkB"]; n != 3 {
		t.Errorf("AAMkB read %d times, want 3 (the 424 batch served nothing)", n)
	}
}
