package storage

import (
	"slices"
	"testing"
	"time"
)

func TestLiftRule(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	if err := s.LiftRule("<a@x>", "internal only", at); err != nil {
		t.Fatal(err)
	}
	if err := s.LiftRule("<a@x>", "blocked address", at); err != nil {
		t.Fatal(err)
	}
	if err := s.LiftRule("<a@x>", "internal only", at); err != nil {
		t.Fatal(err)
	}
	if err := s.LiftRule("<b@x>", "marked Private", at); err != nil {
		t.Fatal(err)
	}
	got, err := s.LiftedRules([]string{"<a@x>", "<b@x>", "<c@x>"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got["<a@x>"], []string{"internal only", "blocked address"}) || len(got["<b@x>"]) != 1 || len(got) != 2 {
		t.Errorf("LiftedRules = %v", got)
	}
	// Kept across reopening the file.
	s.Close()
	s = mustOpen(t, dir)
	t.Cleanup(func() { s.Close() })
	if got, _ := s.LiftedRules([]string{"<b@x>"}); len(got["<b@x>"]) != 1 {
		t.Errorf("after reopening: %v", got)
	}
	// A record older than 90 days goes with the next one.
	if err := s.LiftRule("<c@x>", "internal only", at.Add(91*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LiftedRules([]string{"<a@x>", "<c@x>"}); len(got) != 1 || got["<c@x>"] == nil {
		t.Errorf("after 91 days: %v, want only the new one", got)
	}
	if err := s.LiftRule("", "internal only", at); err == nil {
		t.Error("lifting for no message is no error")
	}
}

func TestAddDirectoryContact(t *testing.T) {
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	t.Run("search", func(t *testing.T) {
		s := openTest(t)
		st := DirectoryState{Source: DirectorySearch, FullAt: at.Add(-time.Hour), LookedAt: at.Add(-time.Hour)}
		if _, err := s.ReplaceDirectory([]DirectoryContact{{ID: 1, ClientID: 7, Email: "ann@acme.example"}}, st); err != nil {
			t.Fatal(err)
		}
		if err := s.AddDirectoryContact(DirectoryContact{ID: 2, ClientID: 7, Email: "bob@acme.example"}, at); err != nil {
			t.Fatal(err)
		}
		got, err := s.LookupContacts([]string{"bob@acme.example"})
		if err != nil || len(got["bob@acme.example"]) != 1 || got["bob@acme.example"][0].ClientID != 7 {
			t.Fatalf("LookupContacts = %v, %v", got, err)
		}
		st2, _ := s.DirectoryState()
		if !st2.LookedAt.Equal(st.LookedAt) || !st2.AddedAt.Equal(at) || !st2.FullAt.Equal(st.FullAt) {
			t.Errorf("state after add = %+v: the next look must still ask from the last one", st2)
		}
		in, err := s.DirectoryContactsInDomain("ACME.example")
		if err != nil || len(in) != 2 || in[0].ID != 1 || in[1].ID != 2 {
			t.Errorf("DirectoryContactsInDomain = %v, %v", in, err)
		}
		if in, _ := s.DirectoryContactsInDomain("cme.example"); len(in) != 0 {
			t.Errorf("a domain's suffix matched: %v", in)
		}
	})
	t.Run("lookups", func(t *testing.T) {
		s := openTest(t)
		if err := s.UseAddressChecks(DirectoryState{Source: DirectoryLookups, SearchFailedAt: at}); err != nil {
			t.Fatal(err)
		}
		// A miss asked an hour ago would hide the new contact.
		if err := s.PutAddressChecks(map[string]AddressCheck{"bob@acme.example": {CheckedAt: at.Add(-time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddDirectoryContact(DirectoryContact{ID: 2, ClientID: 7, Email: "bob@acme.example"}, at); err != nil {
			t.Fatal(err)
		}
		got, err := s.AddressChecks([]string{"bob@acme.example"})
		if c := got["bob@acme.example"]; err != nil || len(c.Contacts) != 1 || c.Contacts[0].ID != 2 || !c.CheckedAt.Equal(at) {
			t.Fatalf("AddressChecks = %+v, %v", got, err)
		}
		if in, _ := s.DirectoryContactsInDomain("acme.example"); len(in) != 1 {
			t.Errorf("DirectoryContactsInDomain from look-ups = %v", in)
		}
	})
}
