package storage

import (
	"errors"
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

	// After a disconnect, or with another mailbox, it starts fresh.
	if err := s.ForgetMailbox(); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Meta(); m.Account != nil {
		t.Fatalf("account after ForgetMailbox = %+v", m.Account)
	}
	later := t0.Add(72 * time.Hour)
	if fresh, err := s.ConnectMailbox(Account{Name: "Dana", Email: "dana@contoso.example"}, later); err != nil || !fresh {
		t.Fatalf("connect after disconnect: fresh %v, %v", fresh, err)
	}
	m, _ = s.Meta()
	if !m.ConnectedAt.Equal(later) || !m.LastSuccessStart.IsZero() || m.Account == nil || m.Account.Email != "dana@contoso.example" {
		t.Errorf("meta after a fresh connect = %+v", m)
	}
	for _, c := range []Cache{Profile, ExcludedFolders} {
		if _, err := s.GetCached(c, &v); !errors.Is(err, ErrNotFound) {
			t.Errorf("%v kept across mailboxes: %v", c, err)
		}
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

// Uploads left pending belong to the mailbox they came from: a disconnect
// drops them, and so does connecting another mailbox; the same mailbox
// signing in again keeps them.
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
	if err := s.ForgetMailbox(); err != nil || pending() != 0 {
		t.Fatalf("disconnect: %d pending, %v; want 0", pending(), err)
	}
}
