package engine

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"mailsync/sync/graph"
	"mailsync/sync/sandbox"
)

// countLanded counts the interactions whose note carries messageID, over
// all clients.
func countLanded(e *env, messageID string) int {
	n := 0
	for _, ids := range landed(e.c) {
		for _, id := range ids {
			if id == messageID {
				n++
			}
		}
	}
	return n
}

// TestMovedOutOfJunkCaughtByNextPass: a message received 10 h ago that sat
// in Junk during a pass and was moved to the Inbox before the next, quiet,
// pass is copied by that pass (rule 1), not only at the daily full read,
// although the move left its lastModifiedDateTime where it was (the fake's
// default: the docs do not say): every pass lists the whole window.
func TestMovedOutOfJunkCaughtByNextPass(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	nancy := w.Contacts[0]
	const mid = "<rescued-from-junk@northwind.example>"
	from := &graph.Recipient{EmailAddress: graph.EmailAddress{Name: "Nancy", Address: nancy.Email}}
	e.g.AddMessage(graph.Message{
		ID: "AAMk-junk-rescued", InternetMessageID: mid, Subject: "Renewal signed",
		From: from, Sender: from,
		ToRecipients:     []graph.Recipient{{EmailAddress: graph.EmailAddress{Address: w.Me.Mail}}},
		ReceivedDateTime: testNow.Add(-10 * time.Hour), SentDateTime: testNow.Add(-10 * time.Hour),
		ParentFolderID:                sandbox.FolderJunk,
		SingleValueExtendedProperties: []graph.ExtendedProperty{{ID: graph.MessageClassPropertyID, Value: "IPM.Note"}, {ID: graph.SensitivityPropertyID, Value: "0"}},
	}, "The countersigned renewal is attached.")

	first := e.mustPass(testNow)
	if n := countLanded(e, mid); n != 0 {
		t.Fatalf("the message in Junk landed %d times", n)
	}

	e.clock.Set(testNow.Add(40 * time.Minute))
	if id := e.g.MoveMessage("AAMk-junk-rescued", sandbox.FolderInbox); id == "" {
		t.Fatal("no message to move")
	}
	next := e.mustPass(testNow.Add(time.Hour))
	t.Logf("listed: first %d, next %d", first.Counts.Listed, next.Counts.Listed)
	if want := inWindow(w, testNow.Add(time.Hour)) + 1; next.Counts.Listed != want {
		t.Errorf("the next pass listed %d messages, want the whole window again: %d", next.Counts.Listed, want)
	}
	if n := countLanded(e, mid); n != 1 {
		t.Errorf("the message moved out of Junk landed %d times by the next pass, want once", n)
	}
	if next.Counts.Uploads != 1 {
		t.Errorf("next pass counts = %+v, want the one upload", next.Counts)
	}
	// And not again later.
	e.mustPass(testNow.Add(2 * time.Hour))
	if n := countLanded(e, mid); n != 1 {
		t.Errorf("landed %d times after a third pass", n)
	}
}

// inWindow counts the world's messages a pass at now lists: those received
// in the 24 hours before it.
func inWindow(w *sandbox.World, now time.Time) int {
	n := 0
	for _, it := range w.Messages {
		if !it.Msg.ReceivedDateTime.Before(now.Add(-WindowOverlap)) {
			n++
		}
	}
	return n
}

// listRecorder records the ids of the messages a pass listed.
type listRecorder struct {
	Mailbox
	mu  sync.Mutex
	ids []string
}

func (r *listRecorder) ListMessages(ctx context.Context, since time.Time, fn func([]graph.Message) error) error {
	return r.Mailbox.ListMessages(ctx, since, func(page []graph.Message) error {
		r.mu.Lock()
		for _, m := range page {
			r.ids = append(r.ids, m.ID)
		}
		r.mu.Unlock()
		return fn(page)
	})
}

// TestMarkedReadRelistedNotUploadedTwice: a copied message marked read
// (lastModifiedDateTime moves, nothing else) is listed again by the next
// quiet pass, found in the ledger and not uploaded again.
func TestMarkedReadRelistedNotUploadedTwice(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	var it sandbox.Item
	for _, x := range w.Messages {
		if x.Why == sandbox.WhyFrom {
			it = x
			break
		}
	}
	if it.Msg.ID == "" {
		t.Fatal("the demo world has no message from a contact")
	}
	// Unread when the first pass sees it, as new mail is.
	e.clock.Set(testNow.Add(-time.Minute))
	e.g.SetRead(it.Msg.ID, false)
	e.mustPass(testNow)
	before := landed(e.c)
	if countLanded(e, it.Msg.InternetMessageID) != 1 {
		t.Fatalf("%q did not land once in the first pass", it.Msg.InternetMessageID)
	}
	quiet := e.mustPass(testNow.Add(time.Hour))

	e.clock.Set(testNow.Add(90 * time.Minute))
	if !e.g.SetRead(it.Msg.ID, true) {
		t.Fatal("no message to mark read")
	}
	e.clock.Set(testNow.Add(2 * time.Hour))
	rec := &listRecorder{Mailbox: e.mb}
	read, err := e.engine().Pass(context.Background(), rec, e.api, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("quiet pass %+v; after the read flag %+v, listed %q", quiet.Counts, read.Counts, rec.ids)
	// The whole window is listed; the message read since is among it,
	// found already copied.
	if read.Counts.Listed != inWindow(w, testNow.Add(2*time.Hour)) || !slices.Contains(rec.ids, it.Msg.ID) || read.Counts.Already < 1 {
		t.Errorf("after the read flag: %+v, listed %q; want %q listed again and found already copied", read.Counts, rec.ids, it.Msg.ID)
	}
	if read.Counts.Uploads != 0 {
		t.Errorf("after the read flag: %d uploads, want none", read.Counts.Uploads)
	}
	after := landed(e.c)
	for c, ids := range before {
		if !slices.Equal(after[c], ids) {
			t.Errorf("client %d: %q after, %q before", c, after[c], ids)
		}
	}
}
