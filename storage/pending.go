package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// PendingJob is an upload that was started but not yet recorded as done. It
// holds the whole interaction, so that it can be posted again after a crash
// without the message being listed again.
type PendingJob struct {
	Account    string    `json:"account,omitempty"` // the ClientSuccess account (CRMAccount) it goes to
	Key        string    `json:"key"`               // ledger key of the message
	ClientID   int64     `json:"clientId"`
	Received   time.Time `json:"received"`
	TypeID     int       `json:"interactionTypeId"`
	Subject    string    `json:"subject"`
	Date       time.Time `json:"interactionDate"`
	Note       string    `json:"note"`
	ContactIDs []int64   `json:"contactIds,omitempty"`
	Created    time.Time `json:"created"`
	// Rules is what the engine needs to decide the message again before
	// posting a job left pending (its participants, folder, categories),
	// opaque to storage; empty in jobs recorded before it was kept.
	Rules json.RawMessage `json:"rules,omitempty"`
	// UnsureSince is when looking for the job's interaction first failed
	// to read the client's whole timeline (zero while it has not): the
	// job stays pending, neither dropped nor posted on a guess. Unsure
	// says why, in words.
	UnsureSince time.Time `json:"unsureSince,omitzero"`
	Unsure      string    `json:"unsure,omitempty"`
	// CopyAgain: the person chose to post it again without looking.
	CopyAgain bool `json:"copyAgain,omitempty"`
}

// ID names the job among the pending ones, for a person's decision about
// it (see PendingByID): its message's digest and its client.
func (j PendingJob) ID() string {
	return messageDigest(j.Key) + "-" + strconv.FormatInt(j.ClientID, 10)
}

// PendingByID returns the pending job named id (PendingJob.ID); ok is
// false when there is none (it was resolved meanwhile).
func (s *Store) PendingByID(id string) (j PendingJob, ok bool, err error) {
	digest, client, found := strings.Cut(id, "-")
	if !found || len(digest) != 64 {
		return PendingJob{}, false, nil
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		err := getJSON(tx, bucketPending, digest+"\x00"+client, &j)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	if err != nil {
		return PendingJob{}, false, fmt.Errorf("storage: read pending upload: %w", err)
	}
	return j, ok, nil
}

// pendingKey files a job under its message's digest and its client.
func pendingKey(key string, clientID int64) string {
	return messageDigest(key) + "\x00" + strconv.FormatInt(clientID, 10)
}

// StartUploads records jobs as pending, in one transaction, before they are
// posted; each replaces a job of the same message and client.
func (s *Store) StartUploads(jobs []PendingJob) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, j := range jobs {
			if err := putJSON(tx, bucketPending, pendingKey(j.Key, j.ClientID), j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: record pending uploads: %w", err)
	}
	return nil
}

// DropPending forgets jobs that will never be done (ClientSuccess refused
// them for good), in one transaction; a job not pending is not an error.
func (s *Store) DropPending(jobs ...PendingJob) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, j := range jobs {
			if err := tx.Bucket(bucketPending).Delete([]byte(pendingKey(j.Key, j.ClientID))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: drop pending uploads: %w", err)
	}
	return nil
}

// PendingJobs returns every pending job, ordered by message and client.
func (s *Store) PendingJobs() ([]PendingJob, error) {
	var out []PendingJob
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = pendingJobs(tx)
		return err
	})
	return out, err
}

func pendingJobs(tx *bolt.Tx) ([]PendingJob, error) {
	var out []PendingJob
	err := tx.Bucket(bucketPending).ForEach(func(k, v []byte) error {
		var j PendingJob
		if err := json.Unmarshal(v, &j); err != nil {
			return fmt.Errorf("storage: read pending job %q: %w", k, err)
		}
		out = append(out, j)
		return nil
	})
	return out, err
}

// MarkUnsure records on the pending job j that looking for its interaction
// could not read its client's whole timeline: since (kept when the job
// already has one) and why, in words. A job no longer pending (recorded,
// or dropped at the person's request meanwhile) or one the person chose to
// copy again is left as it is.
func (s *Store) MarkUnsure(j PendingJob, since time.Time, why string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		var cur PendingJob
		err := getJSON(tx, bucketPending, pendingKey(j.Key, j.ClientID), &cur)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || cur.CopyAgain {
			return err
		}
		if cur.UnsureSince.IsZero() {
			cur.UnsureSince = since
		}
		cur.Unsure = why
		return putJSON(tx, bucketPending, pendingKey(j.Key, j.ClientID), cur)
	})
	if err != nil {
		return fmt.Errorf("storage: record an unsure upload: %w", err)
	}
	return nil
}
