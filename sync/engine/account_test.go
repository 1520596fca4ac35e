package engine

import (
	"context"
	"testing"
	"time"

	"mailsync/sync/crm"
	"mailsync/sync/crmtest"
	"mailsync/sync/sandbox"
)

// TestLedgerIsPerClientSuccessAccount: client ids are numbers each
// ClientSuccess account hands out, so another account whose clients carry
// the same ids gets its own uploads, and the first account's ledger stays
// for when it signs in again.
func TestLedgerIsPerClientSuccessAccount(t *testing.T) {
	e := newEnv(t, sandbox.Demo(testNow))
	first := e.mustPass(testNow.Add(time.Minute))
	want := landed(e.c)
	if first.Counts.Uploads == 0 || countUploads(want) != first.Counts.Uploads {
		t.Fatalf("first pass uploaded %d (%d landed); the check below would prove nothing", first.Counts.Uploads, countUploads(want))
	}

	// Another ClientSuccess account, numbering its clients the same way.
	other := crmtest.NewCRM()
	t.Cleanup(other.Close)
	w2 := *e.world
	w2.CRMUser, w2.CRMPassword = "ops@other-tenant.example", "other-password"
	w2.Load(nil, other)
	if _, err := e.store.SwitchCRMUser(w2.CRMUser); err != nil {
		t.Fatal(err)
	}
	api := crm.NewClient(other.URL, w2.CRMUser, func() (string, error) { return w2.CRMPassword, nil }, nil)
	api.Policy = fastPolicy
	e.clock.Set(testNow.Add(2 * time.Minute))
	s, err := e.engine().Pass(context.Background(), e.mb, api, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Everything the first account got that is still in the window.
	wantOther := map[int64][]string{}
	for c, ids := range want {
		for _, id := range ids {
			if it, ok := e.world.Item(id); ok && !it.Msg.ReceivedDateTime.Before(s.WindowStart) {
				wantOther[c] = append(wantOther[c], id)
			}
		}
	}
	if n := countUploads(wantOther); n == 0 || s.Counts.Uploads != n {
		t.Errorf("the other account got %d uploads, want %d: its clients were mistaken for the first account's", s.Counts.Uploads, n)
	}
	sameLanding(t, landed(other), wantOther)

	// Back to the first account: everything it got is still known.
	if _, err := e.store.SwitchCRMUser(e.world.CRMUser); err != nil {
		t.Fatal(err)
	}
	if s := e.mustPass(testNow.Add(3 * time.Minute)); s.Counts.Uploads != 0 {
		t.Errorf("the first account got %d uploads again", s.Counts.Uploads)
	}
	sameLanding(t, landed(e.c), want)
}
