package app

import (
	"strings"
	"testing"
	"time"
)

// TestPrintBackfillSaysWhatItLeavesOut: the words of a backfill end with
// what it left out, also when it copied nothing.
func TestPrintBackfillSaysWhatItLeavesOut(t *testing.T) {
	to := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	why := "2 emails from before 1 February 2026 are left out because Mail Sync cannot tell whether it copied them."
	for _, emails := range []int{0, 3} {
		var b strings.Builder
		printBackfill(&b, BackfillSummary{Days: 90, Emails: emails, Read: 40, From: to.Add(-89 * 24 * time.Hour), To: to,
			LeftOut: 2, LeftOutWhy: why})
		if got := b.String(); !strings.HasSuffix(got, why+"\n") {
			t.Errorf("%d emails copied: printed %q, want it to end with %q", emails, got, why)
		}
	}
}
