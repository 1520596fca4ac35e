package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/match"
	"mailsync/sync/sandbox"
)

// demoItem returns the demo world's message labelled why.
func demoItem(t *testing.T, w *sandbox.World, why string) sandbox.Item {
	t.Helper()
	for _, it := range w.Messages {
		if it.Why == why {
			return it
		}
	}
	t.Fatalf("no demo message %q", why)
	return sandbox.Item{}
}

// decisionOf returns the recorded decision of the message with key.
func decisionOf(t *testing.T, e *env, key string) Decision {
	t.Helper()
	ds, err := e.engine().Decisions("", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Key == key {
			return d
		}
	}
	t.Fatalf("no decision for %s", key)
	return Decision{}
}

// A rule the person lifted for one message ("Copy this one anyway") holds
// on every later pass: the message is copied once and stays copied. Rules
// that are not the person's choice are never lifted.
func TestCopyAnywaySurvivesLaterPasses(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.mustPass(testNow)
	priv := demoItem(t, w, sandbox.WhyPrivate)
	blocked := demoItem(t, w, sandbox.WhyBlocked)
	junk := demoItem(t, w, sandbox.WhyJunk)
	key := func(it sandbox.Item) string { return storage.LedgerKey(it.Msg.InternetMessageID) }
	for _, tc := range []struct {
		it     sandbox.Item
		reason match.Reason
	}{{priv, match.Private}, {blocked, match.Blocked}, {junk, match.JunkFolder}} {
		if d := decisionOf(t, e, key(tc.it)); d.Synced || d.Reason != string(tc.reason) {
			t.Fatalf("%s before: %+v", tc.it.Msg.Subject, d)
		}
		if err := e.store.LiftRule(key(tc.it), string(tc.reason), testNow); err != nil {
			t.Fatal(err)
		}
	}
	before := len(e.c.AllInteractions())
	e.mustPass(testNow.Add(5 * time.Minute))
	posted := e.c.AllInteractions()[before:]
	if len(posted) != 2 {
		t.Fatalf("%d interactions after lifting, want 2 (private to Adatum, blocked to Northwind)", len(posted))
	}
	for _, tc := range []struct {
		it     sandbox.Item
		client int64
	}{{priv, sandbox.ClientAdatum}, {blocked, sandbox.ClientNorthwind}} {
		d := decisionOf(t, e, key(tc.it))
		if !d.Synced || len(d.Copies) != 1 || d.Copies[0].ClientID != tc.client || d.Copies[0].InteractionID == 0 || len(d.Lifted) != 1 {
			t.Errorf("%s after lifting: %+v", tc.it.Msg.Subject, d)
		}
		lifted := slices.ContainsFunc(d.Verdicts, func(v match.Verdict) bool { return v.Lifted && v.Passed })
		if !lifted {
			t.Errorf("%s: no lifted verdict in %+v", tc.it.Msg.Subject, d.Verdicts)
		}
	}
	if d := decisionOf(t, e, key(junk)); d.Synced || d.Reason != string(match.JunkFolder) || d.Folder != string(match.JunkFolder) {
		t.Errorf("junk after lifting its folder: %+v, want still skipped", d)
	}
	// Later passes, a restart among them, neither undo nor repeat it.
	e.mustPass(testNow.Add(65 * time.Minute))
	e.reopen()
	e.mustPass(testNow.Add(125 * time.Minute))
	if n := len(e.c.AllInteractions()) - before; n != 2 {
		t.Errorf("%d interactions after three passes, want the 2", n)
	}
	if d := decisionOf(t, e, key(priv)); !d.Synced {
		t.Errorf("private message after later passes: %+v", d)
	}
}

// A decision records what Activity's details show: participants, the
// verdict of every rule, and once copied the interaction and client.
func TestDecisionDetails(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.mustPass(testNow)
	from := demoItem(t, w, sandbox.WhyFrom)
	d := decisionOf(t, e, storage.LedgerKey(from.Msg.InternetMessageID))
	ins := e.c.Interactions(sandbox.ClientNorthwind)
	if !d.Synced || len(d.Copies) != 1 || d.Copies[0].Client != "Northwind Traders" ||
		!slices.ContainsFunc(ins, func(in crm.Interaction) bool { return in.ID == d.Copies[0].InteractionID }) {
		t.Errorf("copies = %+v, want the Northwind interaction", d.Copies)
	}
	if len(d.Verdicts) != 9 || slices.ContainsFunc(d.Verdicts, func(v match.Verdict) bool { return !v.Passed }) {
		t.Errorf("verdicts of a copied message: %+v", d.Verdicts)
	}
	if len(d.Participants) != 2 || d.Participants[0].Role != "From" || !d.Participants[0].Contact || d.Participants[0].Name == "" ||
		!d.Participants[1].You {
		t.Errorf("participants = %+v", d.Participants)
	}
	late := demoItem(t, w, sandbox.WhyLate)
	d = decisionOf(t, e, storage.LedgerKey(late.Msg.InternetMessageID))
	if d.Synced || d.Reason != string(match.NoContact) || d.Verdicts[8].Passed ||
		!slices.ContainsFunc(d.Participants, func(p match.Participant) bool { return !p.Internal && !p.Contact }) {
		t.Errorf("late contact's message: %+v", d)
	}
}

func TestKeptParticipants(t *testing.T) {
	var ps []match.Participant
	for i := range ParticipantsKept + 30 {
		ps = append(ps, match.Participant{Role: "To", Address: fmt.Sprintf("colleague%d@contoso.example", i), Internal: true})
	}
	ps = append(ps, match.Participant{Role: "Cc", Address: "olivia@tailspin.example"})
	got := keptParticipants(ps)
	if len(got) != ParticipantsKept || got[len(got)-1].Address != "olivia@tailspin.example" || got[0].Address != "colleague0@contoso.example" {
		t.Errorf("kept %d, first %v, last %v", len(got), got[0], got[len(got)-1])
	}
	if short := ps[:3]; len(keptParticipants(short)) != 3 {
		t.Error("a short list is cut")
	}
}
