package engine

import (
	"slices"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/sandbox"
)

func clockWords(t time.Time) string { return t.UTC().Format("15:04") }

func TestPassLines(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 9, h, 2, 0, 0, time.UTC) }
	busy := PassCounts{Listed: 20, Synced: 14, Skipped: map[string]int{"no contact": 3}}
	tests := []struct {
		name string
		s    Status
		want []string
	}{
		{"no pass yet", Status{}, nil},
		{"the last pass copied", Status{LastPass: at(14), LastCounts: busy, LastCopy: &PassRecord{End: at(14), Counts: busy}},
			[]string{"14:02 · 14 emails copied · 3 skipped"}},
		{"a quiet pass keeps the last that copied",
			Status{LastPass: at(15), LastCounts: PassCounts{Listed: 20, Already: 14, Skipped: map[string]int{"no contact": 3}}, LastCopy: &PassRecord{End: at(14), Counts: busy}},
			[]string{"14:02 · 14 emails copied · 3 skipped", "Checked 15:02, nothing new to copy"}},
		{"quiet, none copied ever, nothing skipped", Status{LastPass: at(15)},
			[]string{"Checked 15:02, nothing new to copy"}},
		{"none copied yet, some skipped: the skips show",
			Status{LastPass: at(15), LastCounts: PassCounts{Skipped: map[string]int{"no contact": 3}}},
			[]string{"15:02 · 0 emails copied · 3 skipped"}},
	}
	for _, tt := range tests {
		if got := tt.s.PassLines(clockWords); !slices.Equal(got, tt.want) {
			t.Errorf("%s: PassLines = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestQuietPassKeepsTheLastCopy: after a pass that copied nothing the
// status still shows the last one that did, and so does a restart.
func TestQuietPassKeepsTheLastCopy(t *testing.T) {
	e := newEnv(t, sandbox.Demo(testNow))
	first := e.mustPass(testNow)
	if first.Counts.Quiet() {
		t.Fatalf("the first pass copied nothing: %+v", first.Counts)
	}
	if s := e.mustPass(testNow.Add(time.Hour)); !s.Counts.Quiet() {
		t.Fatalf("the second pass copied %d", s.Counts.Synced)
	}
	want := []string{"15:00 · " + first.Counts.Words(), "Checked 16:00, nothing new to copy"}
	// What the pass recorded is what the agent's status is built from.
	m, err := e.store.Meta()
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	st.RestorePasses(m)
	if got := st.PassLines(clockWords); !slices.Equal(got, want) {
		t.Errorf("after a quiet pass: %q, want %q", got, want)
	}
	if !st.LastSuccess.Equal(testNow.Add(time.Hour)) {
		t.Errorf("LastSuccess = %v", st.LastSuccess)
	}
	e.reopen()
	m, err = e.store.Meta()
	if err != nil {
		t.Fatal(err)
	}
	var restored Status
	restored.RestorePasses(m)
	if got := restored.PassLines(clockWords); !slices.Equal(got, want) {
		t.Errorf("after a restart: %q, want %q", got, want)
	}
	// Another mailbox does not show this one's passes.
	if _, err := e.store.ConnectMailbox(storage.Account{Email: "bo@example.com"}, testNow.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	m, _ = e.store.Meta()
	restored.RestorePasses(m)
	if got := restored.PassLines(clockWords); got != nil {
		t.Errorf("another mailbox shows %q", got)
	}
}
