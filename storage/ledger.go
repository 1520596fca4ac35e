package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The ledger is what makes an upload happen at most once per client: every
// interaction created in ClientSuccess is recorded under the message's
// internetMessageId. An upload is first recorded as a PendingJob, then the
// interaction is posted, then one transaction records it in the ledger and
// drops the job. A job still pending when a pass starts was interrupted
// between those steps; the engine looks it up in ClientSuccess before
// posting it again.

// LedgerKey is the ledger's key for an internetMessageId: trimmed and
// lower-cased, angle brackets kept, so that the same message listed from two
// folders, or after a move, maps to one entry.
func LedgerKey(internetMessageID string) string {
	// White space inside is folded as the note's Message-ID header folds
	// it, so a key read back from a note always equals the one recorded.
	return strings.ToLower(strings.Join(strings.Fields(internetMessageID), " "))
}

// Upload is one interaction created for a message.
type Upload struct {
	ClientID      int64     `json:"c"`
	InteractionID int64     `json:"i"`
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

// LedgerTx returns the ledger entry of a key (see LedgerKey); ok is false
// when nothing was uploaded for it.
func LedgerTx(tx *bolt.Tx, key string) (e LedgerEntry, ok bool, err error) {
	err = GetJSONTx(tx, BucketLedger, key, &e)
	if errors.Is(err, ErrNotFound) {
		return LedgerEntry{}, false, nil
	}
	return e, err == nil, err
}

// Uploaded reports whether the message with ledger key key was uploaded to
// the client.
func (s *Store) Uploaded(key string, clientID int64) (bool, error) {
	var done bool
	err := s.db.View(func(tx *bolt.Tx) error {
		e, _, err := LedgerTx(tx, key)
		done = e.Has(clientID)
		return err
	})
	return done, err
}

// RecordUploadTx records that the message key was uploaded as up, and drops
// the pending job of (key, up.ClientID), in the caller's transaction so that
// both happen or neither. Recording the same client twice keeps the first.
func RecordUploadTx(tx *bolt.Tx, key string, received time.Time, up Upload) error {
	e, _, err := LedgerTx(tx, key)
	if err != nil {
		return err
	}
	if !e.Has(up.ClientID) {
		e.Uploads = append(e.Uploads, up)
	}
	if received.After(e.Received) {
		e.Received = received
	}
	if err := PutJSONTx(tx, BucketLedger, key, e); err != nil {
		return fmt.Errorf("storage: record upload: %w", err)
	}
	return DeletePendingTx(tx, key, up.ClientID)
}

// PruneLedgerTx deletes the entries of messages received before cutoff and
// returns how many went. Such messages are older than any window a pass
// lists, so they can no longer be uploaded twice.
func PruneLedgerTx(tx *bolt.Tx, cutoff time.Time) (int, error) {
	b := tx.Bucket(BucketLedger)
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var e LedgerEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("storage: read ledger %q: %w", k, err)
		}
		if e.Received.Before(cutoff) {
			old = append(old, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("storage: prune ledger: %w", err)
		}
	}
	return len(old), nil
}

// MessagesUploadedSince counts the messages with at least one upload
// recorded at or after t ("synced today").
func (s *Store) MessagesUploadedSince(t time.Time) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(BucketLedger).ForEach(func(k, v []byte) error {
			var e LedgerEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("storage: read ledger %q: %w", k, err)
			}
			if slices.ContainsFunc(e.Uploads, func(u Upload) bool { return !u.At.Before(t) }) {
				n++
			}
			return nil
		})
	})
	return n, err
}

// PendingJob is an upload that was started but not yet recorded as done. It
// holds the whole interaction, so that it can be posted again after a crash
// without the message being listed again.
type PendingJob struct {
	Key        string    `json:"key"` // ledger key of the message
	ClientID   int64     `json:"clientId"`
	Received   time.Time `json:"received"`
	TypeID     int       `json:"interactionTypeId"`
	Subject    string    `json:"subject"`
	Date       time.Time `json:"interactionDate"`
	Note       string    `json:"note"`
	ContactIDs []int64   `json:"contactIds,omitempty"`
	Created    time.Time `json:"created"`
}

func pendingKey(key string, clientID int64) string {
	// A NUL cannot occur in an internetMessageId, so keys cannot collide.
	return key + "\x00" + strconv.FormatInt(clientID, 10)
}

// PutPendingTx stores a job, replacing one with the same message and client.
func PutPendingTx(tx *bolt.Tx, j PendingJob) error {
	return PutJSONTx(tx, BucketPending, pendingKey(j.Key, j.ClientID), j)
}

// HasPendingTx reports whether a job for (key, clientID) is pending.
func HasPendingTx(tx *bolt.Tx, key string, clientID int64) bool {
	return tx.Bucket(BucketPending).Get([]byte(pendingKey(key, clientID))) != nil
}

// DeletePendingTx drops the job for (key, clientID); none is not an error.
func DeletePendingTx(tx *bolt.Tx, key string, clientID int64) error {
	return tx.Bucket(BucketPending).Delete([]byte(pendingKey(key, clientID)))
}

// PendingJobs returns every pending job, ordered by message and client.
func (s *Store) PendingJobs() ([]PendingJob, error) {
	var out []PendingJob
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(BucketPending).ForEach(func(k, v []byte) error {
			var j PendingJob
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("storage: read pending job %q: %w", k, err)
			}
			out = append(out, j)
			return nil
		})
	})
	return out, err
}

// CachedContact is a ClientSuccess contact as the contacts cache keeps it.
type CachedContact struct {
	ID       int64  `json:"id"`
	ClientID int64  `json:"clientId"`
	Email    string `json:"email"`
}

// ContactLookup is the cached answer of one contact look-up by address.
// A hit (Contacts not empty) is valid until Expires. A miss is valid only
// during the pass that made it (Pass), so that a contact added in
// ClientSuccess is found on the next pass.
type ContactLookup struct {
	Contacts []CachedContact `json:"contacts,omitempty"`
	Expires  time.Time       `json:"expires"`
	Pass     string          `json:"pass,omitempty"`
}

// Valid reports whether the look-up can stand in for asking ClientSuccess
// again during pass at now.
func (l ContactLookup) Valid(pass string, now time.Time) bool {
	if len(l.Contacts) == 0 {
		return l.Pass != "" && l.Pass == pass && now.Before(l.Expires)
	}
	return now.Before(l.Expires)
}

// Keys of the contacts bucket: addresses as they are, client names under a
// prefix that no address can start with (addresses hold no control
// characters).
const clientNamePrefix = "\x00client\x00"

// ContactLookupTx returns the cached look-up of a normalised address.
func ContactLookupTx(tx *bolt.Tx, addr string) (ContactLookup, bool, error) {
	var l ContactLookup
	err := GetJSONTx(tx, BucketContacts, addr, &l)
	if errors.Is(err, ErrNotFound) {
		return ContactLookup{}, false, nil
	}
	return l, err == nil, err
}

// PutContactLookupTx caches the look-up of an address.
func PutContactLookupTx(tx *bolt.Tx, addr string, l ContactLookup) error {
	return PutJSONTx(tx, BucketContacts, addr, l)
}

type clientName struct {
	Name    string    `json:"name"`
	Expires time.Time `json:"expires"`
}

// CachedClientNameTx returns a client's name if it is cached and fresh at now.
func CachedClientNameTx(tx *bolt.Tx, clientID int64, now time.Time) (string, bool, error) {
	var e clientName
	err := GetJSONTx(tx, BucketContacts, clientNamePrefix+strconv.FormatInt(clientID, 10), &e)
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil || !now.Before(e.Expires) {
		return "", false, err
	}
	return e.Name, true, nil
}

// PutClientNameTx caches a client's name until expires.
func PutClientNameTx(tx *bolt.Tx, clientID int64, name string, expires time.Time) error {
	return PutJSONTx(tx, BucketContacts, clientNamePrefix+strconv.FormatInt(clientID, 10), clientName{Name: name, Expires: expires})
}

// PruneContactsTx deletes the cached names and look-ups expired at now and
// every miss, since a miss is valid only within the pass that made it.
func PruneContactsTx(tx *bolt.Tx, now time.Time) error {
	b := tx.Bucket(BucketContacts)
	var old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var e struct {
			Expires  time.Time       `json:"expires"`
			Contacts json.RawMessage `json:"contacts"`
		}
		bad := json.Unmarshal(v, &e) != nil
		miss := !bytes.HasPrefix(k, []byte(clientNamePrefix)) && (len(e.Contacts) == 0 || string(e.Contacts) == "null")
		if bad || !now.Before(e.Expires) || miss {
			old = append(old, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("storage: prune contacts: %w", err)
		}
	}
	return nil
}

// Keys of the small cached values.
const (
	KeyMe       = "me"       // in BucketMeta: the Graph profile of the mailbox owner
	KeyExcluded = "excluded" // in BucketFolders: the excluded folders, id and well-known name
)

type cached struct {
	At    time.Time       `json:"at"`
	Value json.RawMessage `json:"value"`
}

// PutCached stores v under bucket/key together with the time it was fetched.
func (s *Store) PutCached(bucket []byte, key string, v any, at time.Time) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encode %s/%s: %w", bucket, key, err)
	}
	return s.PutJSON(bucket, key, cached{At: at, Value: raw})
}

// GetCached reads a value stored by PutCached into v and returns when it was
// fetched; ErrNotFound when none is stored.
func (s *Store) GetCached(bucket []byte, key string, v any) (time.Time, error) {
	var c cached
	if err := s.GetJSON(bucket, key, &c); err != nil {
		return time.Time{}, err
	}
	if err := json.Unmarshal(c.Value, v); err != nil {
		return time.Time{}, fmt.Errorf("storage: read %s/%s: %w", bucket, key, err)
	}
	return c.At, nil
}

// Decisions are kept under a key that sorts by the message's received time,
// then its id: the newest messages come last, and deciding the same message
// again on a later pass replaces its record instead of adding one.
func decisionKey(received time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(received.UnixNano()))
	return append(k, id...)
}

// DecisionTx returns the raw decision recorded for a message, or nil.
func DecisionTx(tx *bolt.Tx, received time.Time, id string) []byte {
	return tx.Bucket(BucketDecisions).Get(decisionKey(received, id))
}

// PutDecisionTx records the raw (JSON) decision for a message, replacing
// an earlier one for the same message.
func PutDecisionTx(tx *bolt.Tx, received time.Time, id string, raw []byte) error {
	return tx.Bucket(BucketDecisions).Put(decisionKey(received, id), raw)
}

// PruneDecisionsTx keeps the keep decisions of the newest messages.
func PruneDecisionsTx(tx *bolt.Tx, keep int) error {
	b := tx.Bucket(BucketDecisions)
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
		c := tx.Bucket(BucketDecisions).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if !fn(v) {
				return nil
			}
		}
		return nil
	})
}
