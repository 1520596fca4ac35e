package storage

import (
	"errors"
	"testing"
	"time"
)

func TestBackfillRecordSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backfill(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("new state file: %v", err)
	}
	at := time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC)
	b := Backfill{Mailbox: "a@x", CRM: "crm", Days: 30, From: at.AddDate(0, 0, -30), To: at, Reached: at.AddDate(0, 0, -3),
		State: BackfillRunning, Read: 12, Emails: 2, Clients: []BackfillClient{{ID: 7, Name: "Seven", Emails: 2}}, StartedAt: at}
	if err := s.SaveBackfill(b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Backfill()
	if err != nil || got.State != BackfillRunning || !got.Reached.Equal(b.Reached) || got.Emails != 2 || len(got.Clients) != 1 || got.Clients[0].Name != "Seven" {
		t.Errorf("read back %+v, %v", got, err)
	}
}
