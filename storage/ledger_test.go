package storage

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)

// mustOpen opens the state in dir; the caller closes it.
func mustOpen(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openTest(t *testing.T) *Store {
	t.Helper()
	s := mustOpen(t, t.TempDir())
	t.Cleanup(func() { s.Close() })
	return s
}

func TestLedgerKey(t *testing.T) {
	if got := LedgerKey("  <AbC.1@Host.Example> "); got != "<abc.1@host.example>" {
		t.Errorf("LedgerKey = %q", got)
	}
}

func TestPendingThenDoneSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	key := LedgerKey("<M1@x.example>")
	job := PendingJob{Key: key, ClientID: 7, Received: t0, TypeID: 4, Subject: "s", Date: t0, Note: "n", ContactIDs: []int64{1, 2}}
	if err := s.DB().Update(func(tx *bolt.Tx) error { return PutPendingTx(tx, job) }); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = mustOpen(t, dir)
	defer s.Close()
	jobs, err := s.PendingJobs()
	if err != nil || len(jobs) != 1 || jobs[0].Key != key || jobs[0].ClientID != 7 || len(jobs[0].ContactIDs) != 2 {
		t.Fatalf("pending after reopen = %+v, %v", jobs, err)
	}
	if ok, _ := s.Uploaded(key, 7); ok {
		t.Fatal("pending job counted as uploaded")
	}
	err = s.DB().Update(func(tx *bolt.Tx) error {
		if err := RecordUploadTx(tx, key, t0, Upload{ClientID: 7, InteractionID: 99, At: t0}); err != nil {
			return err
		}
		// Recording again (bbolt's Batch may repeat a function) keeps one.
		return RecordUploadTx(tx, key, t0, Upload{ClientID: 7, InteractionID: 100, At: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	jobs, _ = s.PendingJobs()
	if len(jobs) != 0 {
		t.Errorf("pending after done = %+v", jobs)
	}
	err = s.DB().View(func(tx *bolt.Tx) error {
		e, ok, err := LedgerTx(tx, key)
		if err != nil || !ok || len(e.Uploads) != 1 || e.Uploads[0].InteractionID != 99 || !e.Has(7) || e.Has(8) {
			t.Errorf("ledger = %+v %v %v", e, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.MessagesUploadedSince(t0); err != nil || n != 1 {
		t.Errorf("uploaded since = %d, %v", n, err)
	}
	if n, _ := s.MessagesUploadedSince(t0.Add(time.Second)); n != 0 {
		t.Errorf("uploaded since later = %d", n)
	}
}

func TestPruneLedger(t *testing.T) {
	s := openTest(t)
	err := s.DB().Update(func(tx *bolt.Tx) error {
		for i, r := range []time.Time{t0.Add(-40 * 24 * time.Hour), t0.Add(-time.Hour), t0} {
			if err := RecordUploadTx(tx, fmt.Sprintf("<%d@x>", i), r, Upload{ClientID: 1, InteractionID: int64(i), At: r}); err != nil {
				return err
			}
		}
		n, err := PruneLedgerTx(tx, t0.Add(-30*24*time.Hour))
		if n != 1 {
			t.Errorf("pruned %d, want 1", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, true} {
		if ok, _ := s.Uploaded(fmt.Sprintf("<%d@x>", i), 1); ok != want {
			t.Errorf("entry %d kept = %v, want %v", i, ok, want)
		}
	}
}

func TestContactLookupValidity(t *testing.T) {
	s := openTest(t)
	hit := ContactLookup{Contacts: []CachedContact{{ID: 1, ClientID: 2, Email: "a@b.example"}}, Expires: t0.Add(24 * time.Hour), Pass: "p1"}
	miss := ContactLookup{Expires: t0.Add(24 * time.Hour), Pass: "p1"}
	err := s.DB().Update(func(tx *bolt.Tx) error {
		if err := PutContactLookupTx(tx, "a@b.example", hit); err != nil {
			return err
		}
		if err := PutContactLookupTx(tx, "z@b.example", miss); err != nil {
			return err
		}
		return PutClientNameTx(tx, 2, "Acme", t0.Add(24*time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		l    ContactLookup
		pass string
		at   time.Time
		want bool
	}{
		{hit, "p2", t0.Add(23 * time.Hour), true},  // hits last a day, across passes
		{hit, "p2", t0.Add(24 * time.Hour), false}, // and no longer
		{miss, "p1", t0.Add(time.Minute), true},    // misses hold within their pass
		{miss, "p2", t0.Add(time.Minute), false},   // and not in the next
	}
	for i, tt := range tests {
		if got := tt.l.Valid(tt.pass, tt.at); got != tt.want {
			t.Errorf("case %d: Valid = %v, want %v", i, got, tt.want)
		}
	}
	// Pruning after the pass drops the miss, keeps the hit and the name.
	if err := s.DB().Update(func(tx *bolt.Tx) error { return PruneContactsTx(tx, t0) }); err != nil {
		t.Fatal(err)
	}
	err = s.DB().View(func(tx *bolt.Tx) error {
		if _, ok, _ := ContactLookupTx(tx, "z@b.example"); ok {
			t.Error("miss survived pruning")
		}
		if l, ok, _ := ContactLookupTx(tx, "a@b.example"); !ok || len(l.Contacts) != 1 {
			t.Error("hit lost in pruning")
		}
		if n, ok, _ := CachedClientNameTx(tx, 2, t0); !ok || n != "Acme" {
			t.Errorf("client name = %q %v", n, ok)
		}
		if _, ok, _ := CachedClientNameTx(tx, 2, t0.Add(25*time.Hour)); ok {
			t.Error("stale client name served")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCached(t *testing.T) {
	s := openTest(t)
	var v []string
	if _, err := s.GetCached(BucketFolders, KeyExcluded, &v); err != ErrNotFound {
		t.Fatalf("empty cache: %v", err)
	}
	if err := s.PutCached(BucketFolders, KeyExcluded, []string{"a", "b"}, t0); err != nil {
		t.Fatal(err)
	}
	at, err := s.GetCached(BucketFolders, KeyExcluded, &v)
	if err != nil || !at.Equal(t0) || len(v) != 2 {
		t.Errorf("cached = %v at %v, %v", v, at, err)
	}
}

func TestDecisionsNewestFirstAndCapped(t *testing.T) {
	s := openTest(t)
	err := s.DB().Update(func(tx *bolt.Tx) error {
		for i := range 10 {
			raw, _ := json.Marshal(i)
			if err := PutDecisionTx(tx, t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("<%d@x>", i), raw); err != nil {
				return err
			}
		}
		// Deciding message 3 again replaces its record.
		if err := PutDecisionTx(tx, t0.Add(3*time.Minute), "<3@x>", []byte("33")); err != nil {
			return err
		}
		return PruneDecisionsTx(tx, 6)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.Decisions(func(raw []byte) bool { got = append(got, string(raw)); return true }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[9 8 7 6 5 4]" {
		t.Errorf("decisions = %v", got)
	}
	err = s.DB().View(func(tx *bolt.Tx) error {
		if DecisionTx(tx, t0.Add(3*time.Minute), "<3@x>") != nil {
			t.Error("pruned decision still there")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLedgerKeyFoldsLikeANoteHeader(t *testing.T) {
	for in, want := range map[string]string{
		" <ABC@Example.com> ":          "<abc@example.com>",
		"<a\tb@x>":                     "<a b@x>",
		"<odd  id\n with space@x.org>": "<odd id with space@x.org>",
	} {
		if got := LedgerKey(in); got != want {
			t.Errorf("LedgerKey(%q) = %q, want %q", in, got, want)
		}
	}
}
