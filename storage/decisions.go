package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Decisions are kept under a key that sorts by the message's received time,
// then its id's digest: the newest messages come last, and deciding the
// same message again on a later pass replaces its record instead of adding
// one. The id is the sender's to choose; its digest has a fixed size.
func decisionKey(received time.Time, id string) []byte {
	d := messageDigest(id)
	k := make([]byte, 8, 8+len(d))
	binary.BigEndian.PutUint64(k, uint64(received.UnixNano()))
	return append(k, d...)
}

// DecisionRecord is one decision to keep for the Activity list: the
// engine's record as JSON, filed under the message's received time and id.
type DecisionRecord struct {
	Received time.Time
	ID       string
	JSON     []byte
	// Replaces reports whether this record replaces old, the one already
	// kept for the same message; nil replaces any.
	Replaces func(old []byte) bool
}

// RecordDecisions keeps recs and then only the keep decisions of the newest
// messages, in one transaction. Replaces is called inside it and must not
// call the Store.
func (s *Store) RecordDecisions(recs []DecisionRecord, keep int) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDecisions)
		for _, r := range recs {
			k := decisionKey(r.Received, r.ID)
			if r.Replaces != nil {
				if old := b.Get(k); old != nil && !r.Replaces(old) {
					continue
				}
			}
			if err := b.Put(k, r.JSON); err != nil {
				return err
			}
		}
		return pruneDecisions(tx, keep)
	})
	if err != nil {
		return fmt.Errorf("storage: record decisions: %w", err)
	}
	return nil
}

// pruneDecisions keeps the keep decisions of the newest messages.
func pruneDecisions(tx *bolt.Tx, keep int) error {
	b := tx.Bucket(bucketDecisions)
	// Counted by hand: Stats does not see a writable transaction's
	// uncommitted keys.
	n := -keep
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	for k, _ := c.First(); k != nil && n > 0; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return fmt.Errorf("storage: prune decisions: %w", err)
		}
		n--
	}
	return nil
}

// Decisions calls fn with each recorded decision, newest message first,
// until fn returns false. raw is only valid during the call.
func (s *Store) Decisions(fn func(raw []byte) bool) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDecisions).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if !fn(v) {
				return nil
			}
		}
		return nil
	})
}

// DecisionsSince calls fn with each recorded decision of a message
// received at or after t, newest first, until fn returns false. key
// names the record for ReplaceDecisions; key and raw are only valid during
// the call.
func (s *Store) DecisionsSince(t time.Time, fn func(key, raw []byte) bool) error {
	from := decisionKey(t, "")[:8]
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDecisions).Cursor()
		for k, v := c.Last(); k != nil && bytes.Compare(k, from) >= 0; k, v = c.Prev() {
			if !fn(k, v) {
				return nil
			}
		}
		return nil
	})
}

// DecisionChange replaces the record under Key by New, provided it still
// holds Old (no pass decided the message again meanwhile).
type DecisionChange struct {
	Key, Old, New []byte
}

// ReplaceDecisions applies changes in one transaction and returns how
// many it made: a record changed since it was read is left as it is.
func (s *Store) ReplaceDecisions(changes []DecisionChange) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDecisions)
		for _, c := range changes {
			if cur := b.Get(c.Key); cur == nil || !bytes.Equal(cur, c.Old) {
				continue
			}
			if err := b.Put(bytes.Clone(c.Key), c.New); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: replace decisions: %w", err)
	}
	return n, nil
}
