package engine

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"mailsync/sync/graphtest"
	"mailsync/sync/sandbox"
)

// A thousand matching messages in one page of the list all reach
// ClientSuccess, while the client never asks Outlook for more than its four
// concurrent requests and every throttled request is answered.
func TestPassThousandMatchingInOnePage(t *testing.T) {
	w := sandbox.Generate(sandbox.Options{Now: testNow, Seed: 7, Messages: 1000, MatchRate: 1})
	e := newEnv(t, w)
	e.g.SetLatency(time.Millisecond)
	s := e.mustPass(testNow)
	want := w.Expected()
	if countUploads(want) < 1000 {
		t.Fatalf("the world expects %d uploads, want at least 1000", countUploads(want))
	}
	sameLanding(t, landed(e.c), want)
	if s.Counts.Uploads != countUploads(want) {
		t.Errorf("uploads = %d, want %d", s.Counts.Uploads, countUploads(want))
	}
	st := e.g.Stats()
	if st.ByRoute["GET /me/messages"] != 1 {
		t.Errorf("the list took %d pages, want one", st.ByRoute["GET /me/messages"])
	}
	if st.PeakMailbox > graphtest.MailboxConcurrency {
		t.Errorf("peak mailbox concurrency %d, above Outlook's %d", st.PeakMailbox, graphtest.MailboxConcurrency)
	}
	if st.EarlyRetries != 0 {
		t.Errorf("%d throttled requests came back before their Retry-After", st.EarlyRetries)
	}
	t.Logf("peak mailbox concurrency %d, %d throttled", st.PeakMailbox, st.MailboxThrottled)
}

// A message Microsoft 365 will not give the text of is skipped with the
// reason while every other message lands; once it reads again, the next
// pass takes it.
func TestPassSkipsPoisonedMessage(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	var poisoned sandbox.Item
	for _, it := range w.Messages {
		if len(it.Expect) == 1 {
			poisoned = it
			break
		}
	}
	e.g.PoisonMessage(poisoned.Msg.ID, http.StatusForbidden)
	e.mustPass(testNow)

	want := w.Expected()
	without := map[int64][]string{}
	for c, ids := range maps.All(want) {
		for _, id := range ids {
			if id != poisoned.Msg.InternetMessageID {
				without[c] = append(without[c], id)
			}
		}
	}
	sameLanding(t, landed(e.c), without)
	ds, err := e.engine().Decisions("", 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range ds {
		if d.MessageID == poisoned.Msg.InternetMessageID {
			found = true
			if d.Synced || !strings.HasPrefix(d.Reason, "Microsoft 365 would not give its text: ") || !strings.Contains(d.Reason, "ErrorAccessDenied") {
				t.Errorf("decision for the poisoned message: %+v", d)
			}
		}
	}
	if !found {
		t.Error("no Activity entry for the poisoned message")
	}

	e.g.PoisonMessage(poisoned.Msg.ID, 0)
	e.mustPass(testNow.Add(time.Hour))
	sameLanding(t, landed(e.c), want)
}

// A body batch answered 424, then 200, loses nothing.
func TestPassBatch424LosesNothing(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.g.FailBatches(1)
	e.mustPass(testNow)
	if n := e.g.Stats().Batches424; n != 1 {
		t.Fatalf("%d body batches answered 424, want 1", n)
	}
	sameLanding(t, landed(e.c), w.Expected())
}
