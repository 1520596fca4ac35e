package app

import (
	"bytes"
	"strings"
	"testing"

	"mailsync/sync/engine"
)

// TestSyncSummaryCountsEmails checks that `mailsync sync` says what a pass
// did in the words the window and the tray use (emails, one unit), and
// keeps the interactions on a line of their own.
func TestSyncSummaryCountsEmails(t *testing.T) {
	sum := SyncSummary{Listed: 33, Synced: 14, Uploads: 15, Already: 1, DurationSeconds: 0.5,
		Skipped: map[string]int{"no ClientSuccess contact": 4, "draft": 1}}
	var b bytes.Buffer
	printSummary(&b, sum)
	lines := strings.Split(b.String(), "\n")
	want := engine.PassCounts{Listed: 33, Synced: 14, Uploads: 15, Already: 1, Skipped: sum.Skipped}.Words()
	if want != "14 emails copied (1 already copied before) · 5 skipped" {
		t.Fatalf("the window's words are %q; this test's expectation is out of date", want)
	}
	if !strings.HasPrefix(lines[0], want+";") || strings.Contains(lines[0], "interaction") {
		t.Errorf("first line %q, want it to start with the window's %q and count only emails", lines[0], want)
	}
	if len(lines) < 2 || lines[1] != "ClientSuccess interactions created: 15 (one per client an email went to)" {
		t.Errorf("want the interactions on the second line, got:\n%s", b.String())
	}

	b.Reset()
	printSummary(&b, SyncSummary{Skipped: map[string]int{}})
	if got := b.String(); !strings.HasPrefix(got, "0 emails copied · 0 skipped;") || strings.Contains(got, "interaction") {
		t.Errorf("a pass that did nothing printed %q", got)
	}
}
