package agent_test

import (
	"strings"
	"testing"
	"time"
)

// TestDisconnectTellsWhereConnectingAgainContinues: after a disconnect the
// status names the mailbox that would continue, and from where, for the
// window to say before the person connects; connecting it again continues
// (no fresh 24-hour window) and no email is copied twice.
func TestDisconnectTellsWhereConnectingAgainContinues(t *testing.T) {
	f := newFixture(t)
	f.ready(t)
	acct := f.connect(t)
	ctx := ctxFor(t)
	first, err := f.ag.PassNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	copied := total(f.svc.CRM.MessageIDs())
	if err := f.ag.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	st := f.ag.Board().Get()
	prev, from := st.Continues(time.Now())
	if st.Account != nil || prev == nil || !strings.EqualFold(prev.Email, acct.Email) || from.IsZero() {
		t.Fatalf("after Disconnect: account %v, continues %v from %v", st.Account, prev, from)
	}
	if !st.LastSuccess.Equal(first.Start) {
		t.Errorf("LastSuccess = %v, want the start of the last pass %v", st.LastSuccess, first.Start)
	}

	f.connect(t)
	st = f.ag.Board().Get()
	if st.Previous != nil || !st.ConnectedAt.Before(first.Start.Add(time.Second)) || !st.LastSuccess.Equal(first.Start) {
		t.Errorf("connected again: previous %v, connected at %v, last success %v; want the first connection's", st.Previous, st.ConnectedAt, st.LastSuccess)
	}
	if _, err := f.ag.PassNow(ctx); err != nil {
		t.Fatal(err)
	}
	if n := total(f.svc.CRM.MessageIDs()); n != copied {
		t.Errorf("connecting again copied %d more interactions, want none", n-copied)
	}
}
