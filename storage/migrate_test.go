package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openV1 copies a state file of schema version 1, as the Mail Sync of that
// layout wrote it, into a fresh data directory and opens it. Both files in
// testdata hold one message uploaded to clients 1 and 2, one to client 3
// (all received 2026-11-20 10:00 UTC), one upload to client 1 pending, the
// excluded folders cached and the rules saved with internal mail kept.
// state-v1.db is signed in to ClientSuccess as
// "Alex.Morgan@Contoso.example"; state-v1-signed-out.db was signed out.
func openV1(t *testing.T, name string) (*Store, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir)
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestMigrateV1KeepsTheLedgerUnderTheSignedInAccount(t *testing.T) {
	s, dir := openV1(t, "state-v1.db")
	alex := CRMAccount("alex.morgan@contoso.example")
	done1, done2 := LedgerKey("<done-1@northwind.example>"), LedgerKey("<done-2@fabrikam.example>")
	targets := []Target{{done1, 1}, {done1, 2}, {done2, 3}, {done2, 1}, {LedgerKey("<pending-1@northwind.example>"), 1}}

	got, err := s.UploadStates(alex, targets)
	if err != nil {
		t.Fatal(err)
	}
	want := []UploadState{Uploaded, Uploaded, Uploaded, NotUploaded, Pending}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%+v for the signed-in account = %v, want %v", targets[i], got[i], want[i])
		}
	}
	// Another account's client 1 is not the old file's client 1.
	got, err = s.UploadStates(CRMAccount("ops@other.example"), targets[:3])
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range got {
		if st != NotUploaded {
			t.Errorf("%+v for another account = %v, want NotUploaded", targets[i], st)
		}
	}

	jobs, err := s.PendingJobs()
	if err != nil || len(jobs) != 1 || jobs[0].Account != alex || jobs[0].ClientID != 1 || jobs[0].Subject != "Renewal" {
		t.Fatalf("pending after migration = %+v, %v", jobs, err)
	}
	// Recording the pending job lands in the same account's ledger.
	if err := s.RecordUpload(jobs[0], 504, time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.UploadStates(alex, targets[4:]); st[0] != Uploaded {
		t.Errorf("recorded pending job = %v, want Uploaded", st[0])
	}
	if n, err := s.MessagesUploadedSince(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)); err != nil || n != 3 {
		t.Errorf("messages uploaded = %d, %v; want 3", n, err)
	}

	// The rest of the file reads as before.
	m, err := s.Meta()
	if err != nil || m.Account == nil || m.Account.Email != "alex.morgan@contoso.example" || m.CRMUser != "Alex.Morgan@Contoso.example" {
		t.Errorf("meta after migration = %+v, %v", m, err)
	}
	rules := map[string]any{}
	if err := s.Rules(&rules); err != nil || rules["ignoreInternal"] != false {
		t.Errorf("rules after migration = %v, %v", rules, err)
	}
	var folders []map[string]string
	if _, err := s.GetCached(ExcludedFolders, &folders); err != nil || len(folders) != 1 {
		t.Errorf("excluded folders after migration = %v, %v", folders, err)
	}
	// The account that taught the contacts cache is known: another user
	// signing in forgets it, the same user does not.
	if n, err := s.SwitchCRMUser("alex.morgan@contoso.example"); err != nil || n != 0 {
		t.Errorf("same user after migration dropped %d, %v", n, err)
	}

	// The file is of the current version, and still private.
	if v := schemaOf(t, s); v != SchemaVersion {
		t.Errorf("schema after migration = %d, want %d", v, SchemaVersion)
	}
	if runtime.GOOS != "windows" {
		for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600} {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s mode = %v, %v; want %o", path, fi.Mode().Perm(), err, want)
			}
		}
	}

	// Opening again migrates nothing twice.
	s.Close()
	s2 := mustOpen(t, dir)
	defer s2.Close()
	if st, err := s2.UploadStates(alex, targets[:3]); err != nil || st[0] != Uploaded || st[2] != Uploaded {
		t.Errorf("after reopening: %v, %v", st, err)
	}
}

func TestMigrateV1SignedOutIsAdoptedByTheNextSignIn(t *testing.T) {
	s, _ := openV1(t, "state-v1-signed-out.db")
	done1 := LedgerKey("<done-1@northwind.example>")
	dana := CRMAccount("dana@contoso.example")
	if st, err := s.UploadStates(dana, []Target{{done1, 1}}); err != nil || st[0] != NotUploaded {
		t.Fatalf("before any sign-in: %v, %v", st, err)
	}
	if n, err := s.SwitchCRMUser("dana@contoso.example"); err != nil || n != 0 {
		t.Fatalf("first sign-in after migration dropped %d, %v", n, err)
	}
	if st, err := s.UploadStates(dana, []Target{{done1, 1}, {done1, 2}}); err != nil || st[0] != Uploaded || st[1] != Uploaded {
		t.Errorf("the first account to sign in did not adopt the old ledger: %v, %v", st, err)
	}
	if jobs, _ := s.PendingJobs(); len(jobs) != 1 || jobs[0].Account != dana {
		t.Errorf("pending job not adopted: %+v", jobs)
	}
	// Adopted once: the next account is another one.
	if n, err := s.SwitchCRMUser("ops@other.example"); err != nil || n != 1 {
		t.Errorf("another account dropped %d pending, %v; want 1", n, err)
	}
	if st, _ := s.UploadStates(CRMAccount("ops@other.example"), []Target{{done1, 1}}); st[0] != NotUploaded {
		t.Errorf("the second account sees the first one's ledger: %v", st[0])
	}
}

func schemaOf(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketMeta, string(keySchema), &n) }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrateV2FilesUnderDigests: a version 2 file keeps its ledger, its
// pending jobs and its decisions; keys that the old folding of white space
// kept apart from the note's form become one message, merged.
func TestMigrateV2FilesUnderDigests(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	recv := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	put := func(tx *bolt.Tx, b []byte, k string, v any) {
		raw, _ := json.Marshal(v)
		if err := tx.Bucket(b).Put([]byte(k), raw); err != nil {
			t.Fatal(err)
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketLedger, bucketPending, bucketDecisions} {
			if err := resetBucket(tx, b); err != nil {
				return err
			}
		}
		// Version 2's keys: the account, a NUL, the folded id.
		put(tx, bucketLedger, "acct\x00<a b@x>", LedgerEntry{Received: recv, Uploads: []Upload{{ClientID: 1, InteractionID: 11, At: recv}}})
		put(tx, bucketLedger, "acct\x00<ab@x>", LedgerEntry{Received: recv, Uploads: []Upload{{ClientID: 2, InteractionID: 12, At: recv}}})
		put(tx, bucketLedger, "acct\x00<plain@x>", LedgerEntry{Received: recv, Uploads: []Upload{{ClientID: 3, InteractionID: 13, At: recv}}})
		put(tx, bucketPending, "<p q@x>\x005", PendingJob{Account: "acct", Key: "<p q@x>", ClientID: 5, Subject: "Renewal", Received: recv})
		dk := make([]byte, 8)
		binary.BigEndian.PutUint64(dk, uint64(recv.UnixNano()))
		if err := tx.Bucket(bucketDecisions).Put(append(dk, "<a b@x>"...), []byte(`{"subject":"one"}`)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketDecisions).Put(append(bytes.Clone(dk), "graph:AAMkAD"...), []byte(`{"subject":"two"}`)); err != nil {
			return err
		}
		b, _ := json.Marshal(2)
		return tx.Bucket(bucketMeta).Put(keySchema, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = mustOpen(t, dir)
	defer s.Close()
	if v := schemaOf(t, s); v != SchemaVersion {
		t.Errorf("schema = %d, want %d", v, SchemaVersion)
	}
	ab := LedgerKey("<ab@x>")
	got, err := s.UploadStates("acct", []Target{{ab, 1}, {ab, 2}, {LedgerKey("<plain@x>"), 3}, {LedgerKey("<pq@x>"), 5}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []UploadState{Uploaded, Uploaded, Uploaded, Pending}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after migration = %v, want %v", got, want)
	}
	jobs, err := s.PendingJobs()
	if err != nil || len(jobs) != 1 || jobs[0].Key != "<pq@x>" || jobs[0].Subject != "Renewal" {
		t.Errorf("pending = %+v, %v", jobs, err)
	}
	var decs []string
	_ = s.Decisions(func(raw []byte) bool { decs = append(decs, string(raw)); return true })
	if len(decs) != 2 {
		t.Errorf("decisions = %v", decs)
	}
	// A decision made again replaces the migrated one.
	if err := s.RecordDecisions([]DecisionRecord{{Received: recv, ID: ab, JSON: []byte(`{"subject":"again"}`)}}, 10); err != nil {
		t.Fatal(err)
	}
	decs = nil
	_ = s.Decisions(func(raw []byte) bool { decs = append(decs, string(raw)); return true })
	if len(decs) != 2 || !strings.Contains(strings.Join(decs, " "), "again") {
		t.Errorf("decisions after deciding again = %v", decs)
	}
	s.Close()
	// The deferred Close holds the store opened before; this one is closed
	// here, or Windows refuses to remove the directory.
	s = mustOpen(t, dir)
	defer s.Close()
	if st, err := s.UploadStates("acct", []Target{{ab, 2}}); err != nil || st[0] != Uploaded {
		t.Errorf("after reopening: %v, %v", st, err)
	}
}
