package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/graph"
	"mailsync/sync/sandbox"
)

// TestBackfillLeavesOutWhatAnOlderLedgerForgot: a state file from a version
// that pruned the ledger a month before its window without recording it,
// connected 60 days ago. A message of 45 days ago was copied then, and its
// record is gone. After the upgraded app's first pass (which prunes and
// records its own cutoff), a 90-day backfill (and its preview) leaves it out and
// says so, and still copies what is older than the first window (never
// copied) and what the ledger vouches for.
func TestBackfillLeavesOutWhatAnOlderLedgerForgot(t *testing.T) {
	const nancy = "nancy.davolio@northwind.example"
	day := 24 * time.Hour
	w := sandbox.Demo(testNow)
	e := newBackfillEnv(t, w)
	last := testNow.Add(-10 * day)
	forgot := last.Add(-legacyLedgerKept) // day X, 40 days ago
	copied := histMessage(1, forgot.Add(-5*day), nancy, []string{histUser}, "0")
	never := histMessage(2, testNow.Add(-75*day), nancy, []string{histUser}, "0")
	vouched := histMessage(3, testNow.Add(-20*day), nancy, []string{histUser}, "0")
	for _, m := range []graph.Message{copied, never, vouched} {
		e.g.AddMessage(m, "Hello")
	}
	// What the older version did: it copied the message, then pruned the
	// ledger; the state file has no entry and no record of the pruning.
	body := graph.Body{ContentType: "text", Content: "Hello"}
	if _, err := e.api.CreateInteraction(context.Background(), histClient, crm.Interaction{
		InteractionTypeID: crm.InteractionTypeEmail, Subject: copied.Subject, InteractionDate: copied.SentDateTime,
		Note: buildNote(&copied, body, DefaultNoteLimit, time.UTC),
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.UpdateMeta(func(m *storage.Meta) {
		m.ConnectedAt, m.LastSuccessStart = testNow.Add(-60*day), last
	}); err != nil {
		t.Fatal(err)
	}
	if _, known, err := e.store.LedgerForgotBefore(); err != nil || known {
		t.Fatalf("the older state file records where the ledger forgot: %v, %v", known, err)
	}
	// The upgraded app's first pass records its own pruning.
	e.mustPass(testNow)
	if at, known, err := e.store.LedgerForgotBefore(); err != nil || !known || !at.Equal(forgot) {
		t.Fatalf("after the first pass the ledger forgot before %v (%v, %v), want %v", at, known, err, forgot)
	}
	count := func() map[string]int {
		n := map[string]int{}
		for _, id := range histLanded(e) {
			n[id]++
		}
		return n
	}

	e.clock.Set(backfillAt)
	p, err := e.engine().PreviewBackfill(context.Background(), e.mb, e.api, 90, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := e.backfill(90)
	got := count()
	for _, m := range []graph.Message{copied, never, vouched} {
		if got[m.InternetMessageID] != 1 {
			t.Errorf("%s (%s) is in ClientSuccess %d times, want once", m.Subject, m.ReceivedDateTime, got[m.InternetMessageID])
		}
	}
	if b.LeftOut < 1 || p.LeftOut != b.LeftOut || !b.LeftOutBefore.Equal(forgot) || !p.LeftOutBefore.Equal(forgot) {
		t.Errorf("left out: backfill %d before %v, preview %d before %v; want the same, at least 1, before %v",
			b.LeftOut, b.LeftOutBefore, p.LeftOut, p.LeftOutBefore, forgot)
	}
	words := BackfillLeftOut(p)
	if want := "from before " + forgot.Local().Format("2 January 2006") + " "; !strings.Contains(words, want) ||
		!strings.Contains(words, "cannot tell whether it copied") {
		t.Errorf("preview says %q, want the emails left out, from before %q, and why", words, want)
	}
	ds, err := e.engine().Decisions(copied.Subject, 10)
	if err != nil || len(ds) != 1 || ds[0].Synced || ds[0].Reason != string(reasonDoubt) {
		t.Errorf("Activity for the message left out: %+v, %v; want skipped: %q", ds, err, reasonDoubt)
	}
	// A second backfill, after passes that record their own pruning,
	// still leaves it out.
	e.mustPass(backfillAt.Add(time.Hour))
	e.clock.Set(backfillAt.Add(2 * time.Hour))
	if _, err := e.engine().StartBackfill(90); err != nil {
		t.Fatal(err)
	}
	if b, err = e.engine().RunBackfill(context.Background(), e.mb, e.api, nil); err != nil {
		t.Fatal(err)
	}
	if n := count()[copied.InternetMessageID]; n != 1 || b.LeftOut < 1 {
		t.Errorf("after a pass: in ClientSuccess %d times, left out %d; want once, and left out", n, b.LeftOut)
	}
}
