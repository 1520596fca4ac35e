package agent_test

import (
	"testing"

	"mailsync/sync/agentapi"
	"mailsync/sync/sandbox"
)

// TestChangingOptionsDecidesActivityAgainAtOnce: saving the options
// decides Activity's rows again before any sync: a message the private
// option skipped waits for the next sync once the option is off.
func TestChangingOptionsDecidesActivityAgainAtOnce(t *testing.T) {
	f := newFixture(t)
	f.ready(t)
	f.connect(t)
	ctx := ctxFor(t)
	if _, err := f.ag.PassNow(ctx); err != nil {
		t.Fatal(err)
	}
	passes := f.ag.Board().Get().Passes
	rows, err := f.ag.Decisions(ctx, "marked Private", 0)
	if err != nil || len(rows) == 0 {
		t.Fatalf("rows skipped as private: %+v, %v", rows, err)
	}
	id := rows[0].MessageID
	rules := sandbox.Settings()
	rules.SkipPrivate = false
	if err := f.ag.SetSettings(ctx, agentapi.Settings{Rules: rules}); err != nil {
		t.Fatal(err)
	}
	rows, err = f.ag.Decisions(ctx, "waiting", 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range rows {
		found = found || d.MessageID == id && d.Waiting
	}
	if !found {
		t.Errorf("after turning the private option off, rows waiting: %+v; want %s among them", rows, id)
	}
	if n := f.ag.Board().Get().Passes; n != passes {
		t.Errorf("saving the options ran %d passes", n-passes)
	}
}
