package engine

import (
	"testing"

	"mailsync/sync/sandbox"
)

// TestDecisionsSearchTheResult: searching Activity for the result word a
// row shows ("copied", "skipped", or "synced" as a person may call it)
// finds exactly the rows with that result.
func TestDecisionsSearchTheResult(t *testing.T) {
	e := newEnv(t, sandbox.Demo(testNow))
	e.mustPass(testNow)
	all, err := e.engine().Decisions("", 0)
	if err != nil {
		t.Fatal(err)
	}
	copied := 0
	for _, d := range all {
		if d.Synced {
			copied++
		}
	}
	if copied == 0 || copied == len(all) {
		t.Fatalf("%d of %d decisions copied; the demo has both", copied, len(all))
	}
	for _, tt := range []struct {
		q      string
		synced bool
		want   int
	}{
		{"copied", true, copied}, {"COPIED TO", true, copied}, {"synced", true, copied},
		{"Skipped", false, len(all) - copied}, {"skipped:", false, len(all) - copied},
	} {
		got, err := e.engine().Decisions(tt.q, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("search %q: %d rows, want %d", tt.q, len(got), tt.want)
		}
		for _, d := range got {
			if d.Synced != tt.synced {
				t.Errorf("search %q found %q (copied %v): %q", tt.q, d.Subject, d.Synced, d.Result())
			}
		}
	}
}
