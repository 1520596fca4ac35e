package storage

import (
	"encoding/json"
	"fmt"
	"strings"
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

// uploadState is where one upload stands for account.
func uploadState(t *testing.T, s *Store, account, key string, clientID int64) UploadState {
	t.Helper()
	st, err := s.UploadStates(account, []Target{{Key: key, ClientID: clientID}})
	if err != nil {
		t.Fatal(err)
	}
	return st[0]
}

func TestPendingThenDoneSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	key := LedgerKey("<M1@x.example>")
	job := PendingJob{Key: key, ClientID: 7, Received: t0, TypeID: 4, Subject: "s", Date: t0, Note: "n", ContactIDs: []int64{1, 2}}
	if err := s.StartUploads([]PendingJob{job}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = mustOpen(t, dir)
	defer s.Close()
	jobs, err := s.PendingJobs()
	if err != nil || len(jobs) != 1 || jobs[0].Key != key || jobs[0].ClientID != 7 || len(jobs[0].ContactIDs) != 2 {
		t.Fatalf("pending after reopen = %+v, %v", jobs, err)
	}
	if st := uploadState(t, s, "", key, 7); st != Pending {
		t.Fatalf("state of a pending job = %v, want Pending", st)
	}
	if err := s.RecordUpload(jobs[0], 99, t0); err != nil {
		t.Fatal(err)
	}
	// Recording again (a retried commit) keeps the first.
	if err := s.RecordUpload(jobs[0], 100, t0); err != nil {
		t.Fatal(err)
	}
	jobs, _ = s.PendingJobs()
	if len(jobs) != 0 {
		t.Errorf("pending after done = %+v", jobs)
	}
	if st := uploadState(t, s, "", key, 7); st != Uploaded {
		t.Errorf("state after done = %v, want Uploaded", st)
	}
	if st := uploadState(t, s, "", key, 8); st != NotUploaded {
		t.Errorf("state for another client = %v, want NotUploaded", st)
	}
	if n, err := s.MessagesUploadedSince(t0); err != nil || n != 1 {
		t.Errorf("uploaded since = %d, %v", n, err)
	}
	if n, _ := s.MessagesUploadedSince(t0.Add(time.Second)); n != 0 {
		t.Errorf("uploaded since later = %d", n)
	}
}

func TestDropPending(t *testing.T) {
	s := openTest(t)
	a := PendingJob{Key: "<a@x>", ClientID: 1}
	b := PendingJob{Key: "<a@x>", ClientID: 2}
	if err := s.StartUploads([]PendingJob{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := s.DropPending(a, PendingJob{Key: "<never@x>", ClientID: 1}); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.PendingJobs()
	if err != nil || len(jobs) != 1 || jobs[0].ClientID != 2 {
		t.Fatalf("pending after drop = %+v, %v", jobs, err)
	}
}

func TestFinishPassPrunesAndMovesMeta(t *testing.T) {
	s := openTest(t)
	for i, r := range []time.Time{t0.Add(-40 * 24 * time.Hour), t0.Add(-time.Hour), t0} {
		if err := s.RecordUpload(PendingJob{Key: fmt.Sprintf("<%d@x>", i), ClientID: 1, Received: r}, int64(i), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishPass(t0.Add(-30*24*time.Hour), t0, func(m *Meta) { m.LastSuccessStart = t0 }); err != nil {
		t.Fatal(err)
	}
	for i, want := range []UploadState{NotUploaded, Uploaded, Uploaded} {
		if got := uploadState(t, s, "", fmt.Sprintf("<%d@x>", i), 1); got != want {
			t.Errorf("entry %d = %v, want %v", i, got, want)
		}
	}
	if m, err := s.Meta(); err != nil || !m.LastSuccessStart.Equal(t0) {
		t.Errorf("meta after FinishPass = %+v, %v", m, err)
	}
}

func TestPruneContacts(t *testing.T) {
	s := openTest(t)
	// A look-up by address as older versions kept it in the contacts
	// bucket.
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketContacts).Put([]byte("a@b.example"), []byte(`{"contacts":[{"id":1,"clientId":2,"email":"a@b.example"}],"expires":"2099-01-01T00:00:00Z"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveClientNames(map[int64]string{2: "Acme"}, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Finishing a pass drops the old look-up, keeps the fresh name.
	if err := s.FinishPass(time.Time{}, t0, func(*Meta) {}); err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketContacts).Get([]byte("a@b.example")) != nil {
			t.Error("an old look-up by address survived pruning")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if names, _ := s.ClientNames([]int64{2, 3}, t0); len(names) != 1 || names[2] != "Acme" {
		t.Errorf("client names = %v", names)
	}
	if names, _ := s.ClientNames([]int64{2}, t0.Add(25*time.Hour)); len(names) != 0 {
		t.Error("stale client name served")
	}
}

func TestCached(t *testing.T) {
	s := openTest(t)
	var v []string
	if _, err := s.GetCached(ExcludedFolders, &v); err != ErrNotFound {
		t.Fatalf("empty cache: %v", err)
	}
	if err := s.PutCached(ExcludedFolders, []string{"a", "b"}, t0); err != nil {
		t.Fatal(err)
	}
	at, err := s.GetCached(ExcludedFolders, &v)
	if err != nil || !at.Equal(t0) || len(v) != 2 {
		t.Errorf("cached = %v at %v, %v", v, at, err)
	}
	if _, err := s.GetCached(Profile, &v); err != ErrNotFound {
		t.Errorf("the profile shares the folders' value: %v", err)
	}
}

func TestDecisionsNewestFirstAndCapped(t *testing.T) {
	s := openTest(t)
	var recs []DecisionRecord
	for i := range 10 {
		raw, _ := json.Marshal(i)
		recs = append(recs, DecisionRecord{Received: t0.Add(time.Duration(i) * time.Minute), ID: fmt.Sprintf("<%d@x>", i), JSON: raw})
	}
	if err := s.RecordDecisions(recs, 100); err != nil {
		t.Fatal(err)
	}
	never := func([]byte) bool { return false }
	err := s.RecordDecisions([]DecisionRecord{
		// Deciding message 3 again replaces its record...
		{Received: t0.Add(3 * time.Minute), ID: "<3@x>", JSON: []byte("33")},
		// ...unless the new record says it does not replace the old one.
		{Received: t0.Add(8 * time.Minute), ID: "<8@x>", JSON: []byte("88"), Replaces: never},
		// Replaces is asked only when there is an old record.
		{Received: t0.Add(20 * time.Minute), ID: "<20@x>", JSON: []byte("20"), Replaces: never},
	}, 7)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.Decisions(func(raw []byte) bool { got = append(got, string(raw)); return true }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[20 9 8 7 6 5 4]" {
		t.Errorf("decisions = %v", got)
	}
	// Deciding message 3 again brings back a record, not the pruned one.
	if err := s.RecordDecisions([]DecisionRecord{{Received: t0.Add(3 * time.Minute), ID: "<3@x>", JSON: []byte("3b"), Replaces: never}}, 100); err != nil {
		t.Fatal(err)
	}
	got = nil
	_ = s.Decisions(func(raw []byte) bool { got = append(got, string(raw)); return true })
	if fmt.Sprint(got) != "[20 9 8 7 6 5 4 3b]" {
		t.Errorf("decisions after re-deciding a pruned one = %v", got)
	}
}

// TestLedgerKeyIsTheNoteForm: one normal form whatever white space a copy
// of the id holds: "<a b@x>" and "<ab@x>" are the same message (the note
// writes the id without white space; the ledger once folded it to one
// space, and a crash then posted it again).
func TestLedgerKeyIsTheNoteForm(t *testing.T) {
	for in, want := range map[string]string{
		" <ABC@Example.com> ":          "<abc@example.com>",
		"<a\tb@x>":                     "<ab@x>",
		"<a b@x>":                      "<ab@x>",
		"<odd  id\n with space@x.org>": "<oddidwithspace@x.org>",
		"bare@x.example":               "<bare@x.example>",
		"  ":                           "",
	} {
		if got := LedgerKey(in); got != want {
			t.Errorf("LedgerKey(%q) = %q, want %q", in, got, want)
		}
	}
	if LedgerKey("<a b@x>") != LedgerKey("<ab@x>") {
		t.Error("one message, two keys")
	}
}

// TestHugeMessageIDsAreFiled: the sender chooses the Message-ID; bbolt
// refuses keys over 32 KiB. The ledger, the pending jobs and the decisions
// file a message under a fixed-size digest, so one huge id cannot make
// every pass fail.
func TestHugeMessageIDsAreFiled(t *testing.T) {
	s := openTest(t)
	key := LedgerKey("<" + strings.Repeat("x", 40<<10) + "@x.example>")
	job := PendingJob{Account: "a", Key: key, ClientID: 7, Received: t0}
	if err := s.StartUploads([]PendingJob{job}); err != nil {
		t.Fatalf("pending: %v", err)
	}
	if st := uploadState(t, s, "a", key, 7); st != Pending {
		t.Errorf("state = %v, want Pending", st)
	}
	if err := s.RecordUpload(job, 9, t0); err != nil {
		t.Fatalf("ledger: %v", err)
	}
	if st := uploadState(t, s, "a", key, 7); st != Uploaded {
		t.Errorf("state = %v, want Uploaded", st)
	}
	if err := s.RecordDecisions([]DecisionRecord{{Received: t0, ID: key, JSON: []byte("{}")}}, 10); err != nil {
		t.Fatalf("decision: %v", err)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketLedger, bucketPending, bucketDecisions} {
			if err := tx.Bucket(b).ForEach(func(k, _ []byte) error {
				if len(k) > 100 {
					return fmt.Errorf("%s key of %d bytes", b, len(k))
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// TestLedgerIsPerAccount: client 7 of one ClientSuccess account is not
// client 7 of another.
func TestLedgerIsPerAccount(t *testing.T) {
	s := openTest(t)
	ann, bob := CRMAccount("Ann@Contoso.example"), CRMAccount("bob@fabrikam.example")
	key := LedgerKey("<m@x.example>")
	if err := s.RecordUpload(PendingJob{Account: ann, Key: key, ClientID: 7, Received: t0}, 1, t0); err != nil {
		t.Fatal(err)
	}
	if st := uploadState(t, s, ann, key, 7); st != Uploaded {
		t.Errorf("ann's upload = %v, want Uploaded", st)
	}
	if st := uploadState(t, s, CRMAccount(" ANN@contoso.example"), key, 7); st != Uploaded {
		t.Errorf("ann's upload, spelt otherwise = %v, want Uploaded", st)
	}
	if st := uploadState(t, s, bob, key, 7); st != NotUploaded {
		t.Errorf("bob's client 7 = %v, want NotUploaded", st)
	}
	if err := s.RecordUpload(PendingJob{Account: bob, Key: key, ClientID: 7, Received: t0}, 2, t0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MessagesUploadedSince(t0); err != nil || n != 1 {
		t.Errorf("messages uploaded = %d, %v; one message for two accounts is one", n, err)
	}
	// Pruning goes by received time, whoever uploaded.
	if err := s.FinishPass(t0.Add(time.Second), t0, func(*Meta) {}); err != nil {
		t.Fatal(err)
	}
	if uploadState(t, s, ann, key, 7) != NotUploaded || uploadState(t, s, bob, key, 7) != NotUploaded {
		t.Error("pruning kept an old entry")
	}
}
