package storage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The ledger is what makes an upload happen at most once per client: every
// interaction created in ClientSuccess is recorded under the ClientSuccess
// account (CRMAccount) and the message's internetMessageId. Client ids are
// numbers each ClientSuccess account hands out, so an upload to client 7 of
// one account says nothing of client 7 of another. An upload is first recorded as a PendingJob
// (StartUploads), then the interaction is posted, then RecordUpload records
// it in the ledger and drops the job in one transaction. A job still
// pending when a pass starts was interrupted between those steps; the
// engine looks it up in ClientSuccess before posting it again.

// LedgerKey is the one normal form of an internetMessageId: what the note's
// Message-ID line says, what a note read back is compared by, and what the
// ledger, the decisions and the pending uploads are filed under (as a
// digest, see messageDigest). It is lower-cased with every white space
// removed (RFC 5322 allows folding white space in a msg-id header and none
// inside the id, so "<a b@x>" and "<ab@x>" are one message however a copy
// spelt it), and put in angle brackets when it has none, so that a note's
// Message-ID line always reads back as it was written. "" stays "".
func LedgerKey(internetMessageID string) string {
	k := strings.ToLower(strings.Join(strings.Fields(internetMessageID), ""))
	if k == "" {
		return ""
	}
	if !strings.HasPrefix(k, "<") || !strings.HasSuffix(k, ">") || len(k) < 2 {
		k = "<" + strings.Trim(k, "<>") + ">"
	}
	return k
}

// MaxMessageIDLen is the longest Message-ID (in bytes, normalised) Mail
// Sync copies. RFC 5322 lines are at most 998 characters, so a longer id is
// not one a mail server wrote; the sender controls it, and it would make
// every note, pending upload and decision that carries it large.
const MaxMessageIDLen = 1024

// messageDigest is the fixed-size key a message is filed under: the hex
// SHA-256 of its LedgerKey. bbolt refuses keys over 32 KiB, and the
// Message-ID is the sender's to choose.
func messageDigest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Upload is one interaction created for a message.
type Upload struct {
	ClientID      int64     `json:"c"`
	InteractionID int64     `json:"i"` // 0: settled without one (the person chose not to copy it)
	At            time.Time `json:"t"` // when it was recorded
}

// LedgerEntry is everything uploaded for one message.
type LedgerEntry struct {
	Received time.Time `json:"r"` // the message's receivedDateTime; pruning goes by it
	Uploads  []Upload  `json:"u"`
}

// Has reports whether the message was uploaded to the client.
func (e LedgerEntry) Has(clientID int64) bool {
	return slices.ContainsFunc(e.Uploads, func(u Upload) bool { return u.ClientID == clientID })
}

// Target is one upload to make at most once: a message (its LedgerKey) onto
// one client's timeline.
type Target struct {
	Key      string
	ClientID int64
}

// UploadState is where an upload stands.
type UploadState int

// The states of an upload.
const (
	NotUploaded UploadState = iota
	Uploaded                // recorded in the ledger
	Pending                 // started and not confirmed: the next pass resolves it
)

// ledgerDBKey is where the ledger keeps the entry of a message (its
// LedgerKey) for an account: the account, a NUL, the message's digest.
func ledgerDBKey(account, key string) []byte {
	return []byte(account + "\x00" + messageDigest(key))
}

// splitLedgerDBKey splits a ledger key into the account and the message's
// digest. The digest holds no NUL, so the last NUL ends the account.
func splitLedgerDBKey(k []byte) (account, digest string) {
	i := bytes.LastIndexByte(k, 0)
	return string(k[:i]), string(k[i+1:])
}

// ledgerEntry returns the ledger entry of a message for an account; ok is
// false when nothing was uploaded for it.
func ledgerEntry(tx *bolt.Tx, account, key string) (e LedgerEntry, ok bool, err error) {
	err = getJSON(tx, bucketLedger, string(ledgerDBKey(account, key)), &e)
	if errors.Is(err, ErrNotFound) {
		return LedgerEntry{}, false, nil
	}
	return e, err == nil, err
}

// UploadStates reports, in one read, where each upload stands for the
// ClientSuccess account (see CRMAccount).
func (s *Store) UploadStates(account string, ts []Target) ([]UploadState, error) {
	out := make([]UploadState, len(ts))
	err := s.db.View(func(tx *bolt.Tx) error {
		for i, t := range ts {
			e, _, err := ledgerEntry(tx, account, t.Key)
			if err != nil {
				return err
			}
			switch {
			case e.Has(t.ClientID):
				out[i] = Uploaded
			case tx.Bucket(bucketPending).Get([]byte(pendingKey(t.Key, t.ClientID))) != nil:
				out[i] = Pending
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read ledger: %w", err)
	}
	return out, nil
}

// RecordUpload records that the pending job j was created in ClientSuccess
// (account j.Account) as interaction interactionID at at, and drops the
// job, in one transaction: both happen or neither. Recording the same upload twice
// keeps the first. Concurrent calls share commits.
func (s *Store) RecordUpload(j PendingJob, interactionID int64, at time.Time) error {
	up := Upload{ClientID: j.ClientID, InteractionID: interactionID, At: at}
	// Batch may run the function more than once; it is idempotent.
	err := s.db.Batch(func(tx *bolt.Tx) error {
		e, _, err := ledgerEntry(tx, j.Account, j.Key)
		if err != nil {
			return err
		}
		if !e.Has(up.ClientID) {
			e.Uploads = append(e.Uploads, up)
		}
		if j.Received.After(e.Received) {
			e.Received = j.Received
		}
		if err := putJSON(tx, bucketLedger, string(ledgerDBKey(j.Account, j.Key)), e); err != nil {
			return err
		}
		return tx.Bucket(bucketPending).Delete([]byte(pendingKey(j.Key, j.ClientID)))
	})
	if err != nil {
		return fmt.Errorf("storage: record upload: %w", err)
	}
	return nil
}

// pruneLedger deletes the entries of messages received before cutoff and
// returns how many went. Such messages are older than any window a pass
// lists, so they can no longer be uploaded twice.
func pruneLedger(tx *bolt.Tx, cutoff time.Time) (int, error) {
	n, err := deleteWhere(tx.Bucket(bucketLedger), func(k, v []byte) (bool, error) {
		var e LedgerEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return false, fmt.Errorf("read ledger %q: %w", k, err)
		}
		return e.Received.Before(cutoff), nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: prune ledger: %w", err)
	}
	return n, nil
}

// MessagesUploadedSince counts the messages with at least one upload
// recorded at or after t ("synced today"), for any account; a message
// uploaded for two accounts counts once.
func (s *Store) MessagesUploadedSince(t time.Time) (int, error) {
	seen := map[string]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLedger).ForEach(func(k, v []byte) error {
			var e LedgerEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("storage: read ledger %q: %w", k, err)
			}
			if slices.ContainsFunc(e.Uploads, func(u Upload) bool { return !u.At.Before(t) }) {
				_, key := splitLedgerDBKey(k)
				seen[key] = true
			}
			return nil
		})
	})
	return len(seen), err
}

// FinishPass records the end of a successful pass in one transaction, after
// every upload of it was recorded: the ledger forgets messages received
// before ledgerCutoff (and remembers it did, see LedgerForgotBefore), the contact look-ups expired at now and this pass's
// misses go, and update moves the meta record (the last success). update
// must not call the Store.
func (s *Store) FinishPass(ledgerCutoff, now time.Time, update func(*Meta)) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		if _, err := pruneLedger(tx, ledgerCutoff); err != nil {
			return err
		}
		if err := noteLedgerForgot(tx, ledgerCutoff); err != nil {
			return err
		}
		if err := pruneContacts(tx, now); err != nil {
			return err
		}
		return updateMeta(tx, update)
	})
	if err != nil {
		return fmt.Errorf("storage: record the pass: %w", err)
	}
	return nil
}

// keyLedgerForgot (bucket meta) is the latest cutoff the ledger was pruned
// at: uploads of messages received before it may be forgotten.
const keyLedgerForgot = "ledgerForgotBefore"

// LedgerForgotBefore returns the received time before which the ledger
// may have forgotten uploads, and false when it never recorded one (a new
// state file, or one from a version that pruned without recording it).
// Nothing older may be listed for copying: it could be copied twice.
func (s *Store) LedgerForgotBefore() (time.Time, bool, error) {
	var t time.Time
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketMeta, keyLedgerForgot, &t) })
	if errors.Is(err, ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return t, true, nil
}

// NoteLedgerForgot records that the ledger may have forgotten uploads of
// messages received before t, unless a later time is recorded.
func (s *Store) NoteLedgerForgot(t time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error { return noteLedgerForgot(tx, t) })
}

func noteLedgerForgot(tx *bolt.Tx, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	var old time.Time
	if err := getJSON(tx, bucketMeta, keyLedgerForgot, &old); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if !t.After(old) {
		return nil
	}
	return putJSON(tx, bucketMeta, keyLedgerForgot, t)
}
