package storage

import (
	"maps"
	"slices"
	"testing"
	"time"
)

func TestDirectoryReplaceAndChanges(t *testing.T) {
	s := openTest(t)
	t0 := time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC)
	ann := DirectoryContact{ID: 1, ClientID: 10, Email: "ann@a.example"}
	bob := DirectoryContact{ID: 2, ClientID: 10, Email: "bob@a.example"}
	bob2 := DirectoryContact{ID: 3, ClientID: 20, Email: "bob@a.example"} // same address, another client
	st := DirectoryState{Source: DirectorySearch, FullAt: t0, LookedAt: t0, AddedAt: t0}

	added, err := s.ReplaceDirectory([]DirectoryContact{ann, bob, bob2, {ID: 4, ClientID: 10}}, st)
	if err != nil || added != 3 {
		t.Fatalf("ReplaceDirectory = %d, %v; want 3 (the contact without address is not kept)", added, err)
	}
	got, err := s.LookupContacts([]string{"ann@a.example", "bob@a.example", "nobody@a.example"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]DirectoryContact{"ann@a.example": {ann}, "bob@a.example": {bob, bob2}}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("LookupContacts = %v, want %v", got, want)
	}
	if gs, _ := s.DirectoryState(); gs != st {
		t.Errorf("DirectoryState = %+v, want %+v", gs, st)
	}

	// The changes come back by the day: unchanged ones change nothing.
	t1 := t0.Add(time.Hour)
	st.LookedAt = t1
	if added, err := s.ApplyDirectoryChanges([]DirectoryContact{ann, bob}, st); err != nil || added != 0 {
		t.Errorf("ApplyDirectoryChanges(unchanged) = %d, %v; want 0", added, err)
	}
	if gs, _ := s.DirectoryState(); !gs.AddedAt.Equal(t0) || !gs.LookedAt.Equal(t1) {
		t.Errorf("after unchanged contacts, state = %+v; want added at %v, looked at %v", gs, t0, t1)
	}
	// Ann changes address, bob2 loses his, Cy is new.
	ann2 := DirectoryContact{ID: 1, ClientID: 10, Email: "ann@b.example"}
	cy := DirectoryContact{ID: 5, ClientID: 30, Email: "cy@c.example"}
	added, err = s.ApplyDirectoryChanges([]DirectoryContact{ann2, {ID: 3, ClientID: 20}, cy}, st)
	if err != nil || added != 2 {
		t.Fatalf("ApplyDirectoryChanges = %d, %v; want 2", added, err)
	}
	if gs, _ := s.DirectoryState(); !gs.AddedAt.Equal(t1) {
		t.Errorf("after new contacts, AddedAt = %v, want %v", gs.AddedAt, t1)
	}
	got, _ = s.LookupContacts([]string{"ann@a.example", "ann@b.example", "bob@a.example", "cy@c.example"})
	want = map[string][]DirectoryContact{"ann@b.example": {ann2}, "bob@a.example": {bob}, "cy@c.example": {cy}}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after changes LookupContacts = %v, want %v", got, want)
	}
	if n, _ := s.DirectorySize(); n != 3 {
		t.Errorf("DirectorySize = %d, want 3", n)
	}

	// A full read drops what is gone.
	if added, err := s.ReplaceDirectory([]DirectoryContact{cy}, st); err != nil || added != 0 {
		t.Errorf("ReplaceDirectory(subset) = %d, %v; want 0", added, err)
	}
	got, _ = s.LookupContacts([]string{"ann@b.example", "bob@a.example", "cy@c.example"})
	if want := map[string][]DirectoryContact{"cy@c.example": {cy}}; !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after full read LookupContacts = %v, want %v", got, want)
	}

	if err := s.RemoveDirectoryContacts([]int64{5, 99}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LookupContacts([]string{"cy@c.example"}); len(got) != 0 {
		t.Errorf("after removal LookupContacts = %v, want none", got)
	}
}

func TestDirectoryAddressChecks(t *testing.T) {
	s := openTest(t)
	t0 := time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC)
	ann := DirectoryContact{ID: 1, ClientID: 10, Email: "ann@a.example"}
	if _, err := s.ReplaceDirectory([]DirectoryContact{ann}, DirectoryState{Source: DirectorySearch}); err != nil {
		t.Fatal(err)
	}
	st := DirectoryState{Source: DirectoryLookups, SearchFailedAt: t0, Why: "not found"}
	if err := s.UseAddressChecks(st); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LookupContacts([]string{"ann@a.example"}); len(got) != 0 {
		t.Errorf("search contacts kept after switching to look-ups: %v", got)
	}
	checks := map[string]AddressCheck{
		"ann@a.example":  {Contacts: []DirectoryContact{ann}, CheckedAt: t0},
		"miss@a.example": {CheckedAt: t0.Add(-7 * time.Hour)},
	}
	if err := s.PutAddressChecks(checks); err != nil {
		t.Fatal(err)
	}
	got, err := s.AddressChecks([]string{"ann@a.example", "miss@a.example", "never@a.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got["miss@a.example"].CheckedAt.Equal(t0.Add(-7*time.Hour)) || !slices.Equal(got["ann@a.example"].Contacts, []DirectoryContact{ann}) {
		t.Errorf("AddressChecks = %+v", got)
	}
	if byID, _ := s.DirectoryContactsByID([]int64{1, 2}); len(byID) != 1 || byID[1] != ann {
		t.Errorf("DirectoryContactsByID = %v, want ann from the checks", byID)
	}
	if err := s.RemoveDirectoryContacts([]int64{1}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AddressChecks([]string{"ann@a.example"}); len(got["ann@a.example"].Contacts) != 0 {
		t.Errorf("removed contact still in its address check: %+v", got)
	}
	if err := s.PruneAddressChecks(t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AddressChecks([]string{"ann@a.example", "miss@a.example"}); len(got) != 1 {
		t.Errorf("after prune AddressChecks = %+v, want only ann's", got)
	}
	if gs, _ := s.DirectoryState(); gs != st {
		t.Errorf("DirectoryState = %+v, want %+v", gs, st)
	}
}

// TestDirectoryNewcomers: the first fill of the directory has no
// newcomers; contacts added or changed afterwards are kept until dropped,
// and a newcomer that changed again after it was read is not dropped.
func TestDirectoryNewcomers(t *testing.T) {
	s := openTest(t)
	t0 := time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC)
	ann := DirectoryContact{ID: 1, ClientID: 10, Email: "ann@a.example"}
	bob := DirectoryContact{ID: 2, ClientID: 10, Email: "bob@a.example"}
	cy := DirectoryContact{ID: 3, ClientID: 20, Email: "cy@c.example"}
	st := DirectoryState{Source: DirectorySearch, FullAt: t0, LookedAt: t0}
	if _, err := s.ReplaceDirectory([]DirectoryContact{ann, bob}, st); err != nil {
		t.Fatal(err)
	}
	if ns, err := s.Newcomers(); err != nil || len(ns) != 0 {
		t.Fatalf("Newcomers after the first fill = %v, %v; want none", ns, err)
	}

	t1 := t0.Add(time.Hour)
	st.LookedAt = t1
	if _, err := s.ApplyDirectoryChanges([]DirectoryContact{ann, cy}, st); err != nil {
		t.Fatal(err)
	}
	t2 := t1.Add(time.Hour)
	st.LookedAt, st.FullAt = t2, t2
	bobMoved := DirectoryContact{ID: 2, ClientID: 30, Email: "bob@a.example"}
	if _, err := s.ReplaceDirectory([]DirectoryContact{ann, bobMoved, cy}, st); err != nil {
		t.Fatal(err)
	}
	ns, err := s.Newcomers()
	want := []Newcomer{{Contact: bobMoved, AddedAt: t2}, {Contact: cy, AddedAt: t1}}
	if err != nil || !slices.EqualFunc(ns, want, func(a, b Newcomer) bool { return a.Contact == b.Contact && a.AddedAt.Equal(b.AddedAt) }) {
		t.Fatalf("Newcomers = %v, %v; want %v", ns, err, want)
	}

	// Bob changes again after the newcomers were read: dropping what was
	// read keeps his newer entry.
	t3 := t2.Add(time.Hour)
	st.LookedAt = t3
	bobAgain := DirectoryContact{ID: 2, ClientID: 30, Email: "robert@a.example"}
	if _, err := s.ApplyDirectoryChanges([]DirectoryContact{bobAgain}, st); err != nil {
		t.Fatal(err)
	}
	if err := s.DropNewcomers(ns); err != nil {
		t.Fatal(err)
	}
	ns, err = s.Newcomers()
	if err != nil || len(ns) != 1 || ns[0].Contact != bobAgain || !ns[0].AddedAt.Equal(t3) {
		t.Fatalf("Newcomers after the drop = %v, %v; want only %v at %v", ns, err, bobAgain, t3)
	}
}
