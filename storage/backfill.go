package storage

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A backfill copies mail older than the pass window, on the person's
// request, from the newest day back to the oldest. Its record says where it
// stands, so that after a restart or a crash it resumes at the day it had
// not finished (the uploads of that day are in the ledger or pending, so
// nothing is copied twice).

// BackfillState is where a backfill stands. Persisted: explicit values.
type BackfillState int

// The states of a backfill.
const (
	BackfillRunning   BackfillState = 1 // started and not finished: resumed at start-up
	BackfillDone      BackfillState = 2
	BackfillCancelled BackfillState = 3
	BackfillFailed    BackfillState = 4 // stopped by an error; the person may start it again
)

// String names the state as the command line's JSON gives it.
func (s BackfillState) String() string {
	switch s {
	case BackfillRunning:
		return "running"
	case BackfillDone:
		return "done"
	case BackfillCancelled:
		return "cancelled"
	case BackfillFailed:
		return "failed"
	}
	return "none"
}

// MarshalText gives the state's name.
func (s BackfillState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *BackfillState) UnmarshalText(b []byte) error {
	for _, v := range []BackfillState{BackfillRunning, BackfillDone, BackfillCancelled, BackfillFailed} {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	*s = 0
	return nil
}

// BackfillClient is what a backfill copied (or would copy) to one client.
type BackfillClient struct {
	ID     int64  `json:"id"`
	Name   string `json:"name,omitempty"`
	Emails int    `json:"emails"`
}

// Backfill is the record of the last backfill.
type Backfill struct {
	// Mailbox is the Microsoft account (Meta.Account.Email) and CRM the
	// ClientSuccess account (CRMAccount) it copies between: a record of
	// other accounts is not resumed.
	Mailbox string `json:"mailbox"`
	CRM     string `json:"crm"`
	Days    int    `json:"days"`
	// From and To are the range of receive times it copies, [From, To):
	// To is where the pass window started when it was asked for.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Reached: every message received in [Reached, To) was dealt with.
	Reached time.Time     `json:"reached"`
	State   BackfillState `json:"state"`
	// Read is how many messages were listed, Emails how many were copied
	// (to one client or more), Clients the emails copied per client.
	Read    int              `json:"read"`
	Emails  int              `json:"emails"`
	Clients []BackfillClient `json:"clients,omitempty"`
	// LeftOut is how many emails it left out (or would) because the ledger
	// cannot vouch for them: received before LeftOutBefore, when Mail Sync
	// may have copied them and forgotten it.
	LeftOut       int       `json:"leftOut,omitempty"`
	LeftOutBefore time.Time `json:"leftOutBefore,omitzero"`
	// Error says in words why it stopped (BackfillFailed).
	Error     string    `json:"error,omitempty"`
	StartedAt time.Time `json:"startedAt"`
	EndedAt   time.Time `json:"endedAt,omitzero"`
}

var keyBackfill = "backfill"

// Backfill returns the record of the last backfill, or ErrNotFound.
func (s *Store) Backfill() (Backfill, error) {
	var b Backfill
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketMeta, keyBackfill, &b) })
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Backfill{}, fmt.Errorf("storage: read backfill: %w", err)
	}
	return b, err
}

// SaveBackfill records where a backfill stands.
func (s *Store) SaveBackfill(b Backfill) error {
	if err := s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bucketMeta, keyBackfill, b) }); err != nil {
		return fmt.Errorf("storage: record backfill: %w", err)
	}
	return nil
}
