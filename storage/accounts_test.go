package storage

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConnectMailbox(t *testing.T) {
	s := openTest(t)
	alex := Account{Name: "Alex", Email: "alex@contoso.example"}
	if fresh, err := s.ConnectMailbox(alex, t0); err != nil || !fresh {
		t.Fatalf("first connect: fresh %v, %v", fresh, err)
	}
	if err := s.PutCached(Profile, "me", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCached(ExcludedFolders, []string{"junk"}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateMeta(func(m *Meta) {
		m.LastSuccessStart, m.NeedsReconnect, m.LastError = t0.Add(time.Hour), "refused", "refused"
	}); err != nil {
		t.Fatal(err)
	}

	// The same mailbox after its sign-in was refused keeps its window and
	// caches; the refusal is cleared.
	if fresh, err := s.ConnectMailbox(Account{Name: "Alex", Email: "ALEX@contoso.example"}, t0.Add(48*time.Hour)); err != nil || fresh {
		t.Fatalf("reconnect: fresh %v, %v", fresh, err)
	}
	m, _ := s.Meta()
	if !m.ConnectedAt.Equal(t0) || !m.LastSuccessStart.Equal(t0.Add(time.Hour)) || m.NeedsReconnect != "" || m.LastError != "" {
		t.Errorf("meta after reconnect = %+v", m)
	}
	var v any
	if _, err := s.GetCached(Profile, &v); err != nil {
		t.Errorf("profile lost on reconnect: %v", err)
	}

	// After a disconnect the same mailbox continues where it left off; its
	// profile and folders are read anew.
	if err := s.ForgetMailbox(); err != nil {
		t.Fatal(err)
	}
	m, _ = s.Meta()
	if m.Account != nil || m.Disconnected == nil || !strings.EqualFold(m.Disconnected.Email, alex.Email) {
		t.Fatalf("after ForgetMailbox: account %+v, disconnected %+v", m.Account, m.Disconnected)
	}
	if !m.Continues("Alex@Contoso.example") || m.Continues("dana@contoso.example") || m.Continues("") {
		t.Errorf("Continues after a disconnect: alex %v, dana %v, none %v",
			m.Continues("Alex@Contoso.example"), m.Continues("dana@contoso.example"), m.Continues(""))
	}
	if fresh, err := s.ConnectMailbox(alex, t0.Add(60*time.Hour)); err != nil || fresh {
		t.Fatalf("same mailbox after a disconnect: fresh %v, %v", fresh, err)
	}
	m, _ = s.Meta()
	if !m.ConnectedAt.Equal(t0) || !m.LastSuccessStart.Equal(t0.Add(time.Hour)) || m.Disconnected != nil {
		t.Errorf("meta after connecting again = %+v", m)
	}
	for _, c := range []Cache{Profile, ExcludedFolders} {
		if _, err := s.GetCached(c, &v); !errors.Is(err, ErrNotFound) {
			t.Errorf("%v kept across a disconnect: %v", c, err)
		}
	}

	// Another mailbox, after a disconnect or not, starts fresh.
	if err := s.ForgetMailbox(); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(72 * time.Hour)
	if fresh, err := s.ConnectMailbox(Account{Name: "Dana", Email: "dana@contoso.example"}, later); err != nil || !fresh {
		t.Fatalf("another mailbox after a disconnect: fresh %v, %v", fresh, err)
	}
	m, _ = s.Meta()
	if !m.ConnectedAt.Equal(later) || !m.LastSuccessStart.IsZero() || m.Account == nil || m.Account.Email != "dana@contoso.example" || m.Disconnected != nil {
		t.Errorf("meta after a fresh connect = %+v", m)
	}
	for _, c := range []Cache{Profile, ExcludedFolders} {
		if _, err := s.GetCached(c, &v); !errors.Is(err, ErrNotFound) {
			t.Errorf("%v kept across mailboxes: %v", c, err)
		}
	}
	// Alex, no longer the mailbox connected last, starts fresh too.
	if fresh, err := s.ConnectMailbox(alex, later.Add(time.Hour)); err != nil || !fresh {
		t.Fatalf("the mailbox before the last: fresh %v, %v", fresh, err)
	}
}

func TestSwitchCRMUserForgetsWhatAnotherAccountTaught(t *testing.T) {
	s := openTest(t)
	teach := func() {
		t.Helper()
		if _, err := s.ReplaceDirectory([]DirectoryContact{{ID: 1, ClientID: 2, Email: "a@b.example"}}, DirectoryState{Source: DirectorySearch, FullAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.StartUploads([]PendingJob{{Key: "<m@x>", ClientID: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	taught := func() (contacts, pending int) {
		t.Helper()
		l, err := s.LookupContacts([]string{"a@b.example"})
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := s.PendingJobs()
		if err != nil {
			t.Fatal(err)
		}
		return len(l), len(jobs)
	}
	if n, err := s.SwitchCRMUser("ann@contoso.example"); err != nil || n != 0 {
		t.Fatalf("first sign-in dropped %d, %v", n, err)
	}
	teach()
	// The same account again, however it is spelt, keeps everything.
	if n, err := s.SwitchCRMUser(" Ann@Contoso.example "); err != nil || n != 0 {
		t.Fatalf("same user dropped %d, %v", n, err)
	}
	if c, p := taught(); c != 1 || p != 1 {
		t.Fatalf("same user: %d contacts, %d pending kept; want 1, 1", c, p)
	}
	// Signing out and in as someone else still forgets.
	if err := s.SignOutCRM(); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Meta(); m.CRMUser != "" {
		t.Fatalf("CRMUser after sign-out = %q", m.CRMUser)
	}
	if n, err := s.SwitchCRMUser("bob@contoso.example"); err != nil || n != 1 {
		t.Fatalf("another user dropped %d, %v; want 1", n, err)
	}
	if c, p := taught(); c != 0 || p != 0 {
		t.Errorf("another user: %d contacts, %d pending kept; want none", c, p)
	}
	if m, _ := s.Meta(); m.CRMUser != "bob@contoso.example" {
		t.Errorf("CRMUser = %q", m.CRMUser)
	}
}

// Uploads left pending belong to the mailbox they came from: connecting
// another mailbox drops them; the same mailbox signing in again, after a
// refusal or a disconnect, keeps them, to be looked up before anything is
// posted again.
func TestPendingUploadsGoWithTheMailbox(t *testing.T) {
	s := openTest(t)
	alex := Account{Name: "Alex", Email: "alex@contoso.example"}
	job := PendingJob{Key: "<a@x>", ClientID: 7, Note: "n", Rules: []byte(`{"FolderID":"inbox"}`)}
	pending := func() int {
		t.Helper()
		jobs, err := s.PendingJobs()
		if err != nil {
			t.Fatal(err)
		}
		return len(jobs)
	}
	if _, err := s.ConnectMailbox(alex, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.StartUploads([]PendingJob{job}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := s.PendingJobs(); len(jobs) != 1 || string(jobs[0].Rules) != `{"FolderID":"inbox"}` {
		t.Fatalf("pending = %+v, want the job with its rules", jobs)
	}
	if _, err := s.ConnectMailbox(alex, t0.Add(time.Hour)); err != nil || pending() != 1 {
		t.Fatalf("same mailbox again: %d pending, %v; want 1", pending(), err)
	}
	if _, err := s.ConnectMailbox(Account{Email: "sam@fabrikam.example"}, t0.Add(2*time.Hour)); err != nil || pending() != 0 {
		t.Fatalf("another mailbox: %d pending, %v; want 0", pending(), err)
	}
	if err := s.StartUploads([]PendingJob{job}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetMailbox(); err != nil || pending() != 1 {
		t.Fatalf("disconnect: %d pending, %v; want 1", pending(), err)
	}
	if _, err := s.ConnectMailbox(Account{Email: "sam@fabrikam.example"}, t0.Add(3*time.Hour)); err != nil || pending() != 1 {
		t.Fatalf("same mailbox after a disconnect: %d pending, %v; want 1", pending(), err)
	}
	if err := s.ForgetMailbox(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConnectMailbox(alex, t0.Add(4*time.Hour)); err != nil || pending() != 0 {
		t.Fatalf("another mailbox after a disconnect: %d pending, %v; want 0", pending(), err)
	}
}
