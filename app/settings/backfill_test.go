package settings

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"mailsync/storage"
	"mailsync/sync/agentapi/agentapitest"
	"mailsync/sync/engine"
)

// TestCopyOlderMail walks Copy older mail…: choose how far back, see the
// preview (emails, clients) before anything is uploaded, copy, follow the
// progress the agent reports, cancel.
func TestCopyOlderMail(t *testing.T) {
	h := newHarness(t, connectedIdle())
	to := testNow.Add(-24 * time.Hour)
	h.api.Do(func(s *agentapitest.State) {
		s.Backfill = engine.Backfill{From: to.Add(-89 * 24 * time.Hour), To: to, Reached: to, Read: 1874, Emails: 23,
			State: storage.BackfillDone, Clients: []storage.BackfillClient{{ID: 1, Name: "Northwind Traders", Emails: 15}, {ID: 2, Name: "Adatum Corp", Emails: 8}}}
	})
	h.w.Select(SectionSync)
	h.settle()

	test.Tap(h.button("Copy older mail…"))
	h.settle()
	h.wantText("How far back?", "[Preview]")
	// A number of days out of range cannot be previewed.
	h.w.sync.backfill.choose.SetSelected(choiceOther)
	test.Type(h.w.sync.backfill.other, "400")
	h.settle()
	if !h.button("Preview").Disabled() {
		t.Error("Preview is enabled for 400 days")
	}
	h.w.sync.backfill.other.SetText("")
	h.w.sync.backfill.choose.SetSelected(choice90)
	h.settle()
	h.tap("Preview", "PreviewBackfill")
	h.pump("preview shown", func() bool { return h.w.sync.backfill.preview != nil })
	if d := h.w.sync.backfill.preview.Days; d != 90 {
		t.Errorf("the preview asked for %d days, want 90", d)
	}
	h.wantText("Copy would upload 23 emails of the 1874 emails", "Northwind Traders — 15 emails", "Adatum Corp — 8 emails", "[Copy]")
	if h.api.Called("StartBackfill") {
		t.Fatal("the preview started copying")
	}

	h.tap("Copy", "StartBackfill")
	if days := h.api.Snapshot().Backfills; !slices.Equal(days, []int{90}) {
		t.Errorf("Copy asked for %v days, want the 90 of the preview", days)
	}
	h.pump("progress shown", func() bool { return h.w.sync.backfill.running() })
	h.settle()
	h.wantText("Copying older mail: 1874 emails read, 0 emails copied", "[Cancel copying]")
	h.wantNoText("[Copy]")

	// The agent reports a third of the way back, with what it copied.
	st := h.w.status
	b := *st.Backfill
	b.Reached, b.Read, b.Emails = to.Add(-30*24*time.Hour), 600, 9
	b.Clients = []storage.BackfillClient{{ID: 1, Name: "Northwind Traders", Emails: 9}}
	st.Backfill = &b
	h.api.Publish(st)
	h.pump("progress moved", func() bool { return h.w.status.Backfill.Emails == 9 })
	h.settle()
	h.wantText("600 emails read, 9 emails copied to 1 client", "Northwind Traders — 9 emails copied")
	if bar := h.w.sync.backfill.bar; !bar.Visible() || bar.Value < 0.33 || bar.Value > 0.34 || bar.TextFormatter() != "34% of 90 days" {
		t.Errorf("progress bar at %v, %q; want 30 of 89 days", bar.Value, bar.TextFormatter())
	}

	h.tap("Cancel copying", "CancelBackfill")
	h.pump("cancelled shown", func() bool { return !h.w.sync.backfill.running() })
	h.settle()
	h.wantText("Copying older mail was cancelled after 9 emails", "[Copy older mail…]")
}

// TestCopyOlderMailSaysWhatItLeavesOut: the preview says how many emails
// are left out because Mail Sync cannot tell whether it copied them.
func TestCopyOlderMailSaysWhatItLeavesOut(t *testing.T) {
	h := newHarness(t, connectedIdle())
	to := testNow.Add(-24 * time.Hour)
	before := to.Add(-30 * 24 * time.Hour)
	h.api.Do(func(s *agentapitest.State) {
		s.Backfill = engine.Backfill{From: to.Add(-89 * 24 * time.Hour), To: to, Reached: to, Read: 1874, Emails: 23,
			LeftOut: 4, LeftOutBefore: before,
			State: storage.BackfillDone, Clients: []storage.BackfillClient{{ID: 1, Name: "Northwind Traders", Emails: 23}}}
	})
	h.w.Select(SectionSync)
	h.settle()
	test.Tap(h.button("Copy older mail…"))
	h.settle()
	h.w.sync.backfill.choose.SetSelected(choice90)
	h.settle()
	h.tap("Preview", "PreviewBackfill")
	h.pump("preview shown", func() bool { return h.w.sync.backfill.preview != nil })
	h.wantText("Copy would upload 23 emails of the 1874 emails",
		"4 emails from before "+before.Local().Format("2 January 2006")+" are left out because Mail Sync cannot tell whether it copied them.",
		"Northwind Traders — 23 emails", "[Copy]")
}
