package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// The contact directory is the tenant's ClientSuccess contacts as Mail Sync
// last saw them (address → contact id, client id), so that matching a
// message's addresses needs no request. It is filled by a full read of
// ClientSuccess's contact search and kept current from the contacts changed
// since the last look.
//
// Where that search is not available to the account, the directory holds
// instead the answers of per-address look-ups (AddressCheck), hits and
// misses, each with the time it was asked.
//
// Contacts that appear in a directory already filled (added in
// ClientSuccess since, or given another address or client) are also kept
// as newcomers until a pass has looked for their recent mail (see
// Newcomers).
//
// Layout: bucket "directory" holds the state record and four nested
// buckets: contacts by id, contact ids by address, address checks and
// newcomers.
var (
	bucketDirectory = []byte("directory")
	dirByID         = []byte("byId")
	dirByAddr       = []byte("byAddress")
	dirChecks       = []byte("checks")
	dirNewcomers    = []byte("newcomers")
	keyDirState     = []byte("state")
)

// DirectoryContact is one contact of the directory. Email is the
// normalised address (trimmed, lower-case); a contact without one is not
// kept, as no message can name it.
type DirectoryContact struct {
	ID       int64  `json:"id"`
	ClientID int64  `json:"clientId"`
	Email    string `json:"email"`
}

// Directory sources (DirectoryState.Source).
const (
	// DirectorySearch: the directory holds the tenant's contacts, read
	// through the contact search.
	DirectorySearch = "search"
	// DirectoryLookups: the search is not available to the account; the
	// directory holds per-address look-ups.
	DirectoryLookups = "lookups"
)

// DirectoryState is where the directory stands. Times are the engine's
// clock at the start of the pass that did the work.
type DirectoryState struct {
	Source string `json:"source,omitempty"` // "" (never filled), DirectorySearch or DirectoryLookups
	// FullAt is when the directory was last read in full (DirectorySearch).
	FullAt time.Time `json:"fullAt,omitzero"`
	// LookedAt is when the changes were last asked for (DirectorySearch).
	LookedAt time.Time `json:"lookedAt,omitzero"`
	// AddedAt is when a contact was last added to the directory or its
	// address or client changed: a message decided before then may now
	// be taken. ReplaceDirectory and ApplyDirectoryChanges set it to
	// LookedAt when they add any.
	AddedAt time.Time `json:"addedAt,omitzero"`
	// SearchFailedAt is when the search was found unavailable
	// (DirectoryLookups); it is tried again a while after.
	SearchFailedAt time.Time `json:"searchFailedAt,omitzero"`
	// Why says in words why the search is not used (DirectoryLookups).
	Why string `json:"why,omitempty"`
}

// AddressCheck is the answer of one per-address look-up: the contacts with
// exactly that address (none: a miss) and when it was asked.
type AddressCheck struct {
	Contacts  []DirectoryContact `json:"contacts,omitempty"`
	CheckedAt time.Time          `json:"checkedAt"`
}

func idKey(id int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(id))
}

// directory returns the nested bucket name of the directory bucket,
// creating it in a writable transaction.
func directory(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	d := tx.Bucket(bucketDirectory)
	if d == nil {
		return nil, fmt.Errorf("storage: no bucket %s", bucketDirectory)
	}
	if b := d.Bucket(name); b != nil || !tx.Writable() {
		return b, nil
	}
	b, err := d.CreateBucket(name)
	if err != nil {
		return nil, fmt.Errorf("storage: create %s/%s: %w", bucketDirectory, name, err)
	}
	return b, nil
}

// resetDirectory empties the nested bucket name.
func resetDirectory(tx *bolt.Tx, name []byte) error {
	if err := tx.Bucket(bucketDirectory).DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return fmt.Errorf("storage: empty %s/%s: %w", bucketDirectory, name, err)
	}
	return nil
}

func dirGet(b *bolt.Bucket, k []byte, v any) (bool, error) {
	if b == nil {
		return false, nil
	}
	data := b.Get(k)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("storage: read directory %q: %w", k, err)
	}
	return true, nil
}

func dirPut(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encode directory %q: %w", k, err)
	}
	return b.Put(k, data)
}

// DirectoryState returns the directory's state (zero when never filled).
func (s *Store) DirectoryState() (DirectoryState, error) {
	var st DirectoryState
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := dirGet(tx.Bucket(bucketDirectory), keyDirState, &st)
		return err
	})
	return st, err
}

// SetDirectoryState replaces the directory's state record only.
func (s *Store) SetDirectoryState(st DirectoryState) error {
	return s.db.Update(func(tx *bolt.Tx) error { return dirPut(tx.Bucket(bucketDirectory), keyDirState, st) })
}

// ReplaceDirectory makes cs the whole directory and st its state, in one
// transaction: contacts not in cs are gone, and the address checks too
// (the directory answers for every address now). It returns how many
// contacts of cs were not in the directory before or had another address
// or client there (see DirectoryState.AddedAt).
func (s *Store) ReplaceDirectory(cs []DirectoryContact, st DirectoryState) (added int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		old := map[int64]DirectoryContact{}
		if b, err := directory(tx, dirByID); err != nil {
			return err
		} else if err := b.ForEach(func(k, v []byte) error {
			var c DirectoryContact
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("storage: read directory contact: %w", err)
			}
			old[c.ID] = c
			return nil
		}); err != nil {
			return err
		}
		for _, name := range [][]byte{dirByID, dirByAddr, dirChecks} {
			if err := resetDirectory(tx, name); err != nil {
				return err
			}
		}
		n, err := putContacts(tx, cs, func(c DirectoryContact) bool {
			o, ok := old[c.ID]
			return !ok || o != c
		}, st)
		added = n
		return err
	})
	return added, err
}

// ApplyDirectoryChanges records contacts changed since the last look and st
// as the new state, in one transaction. A contact seen before is updated
// (its old address forgets it); a contact without an address is removed.
// Contacts answered again though unchanged (the changes are asked by the
// day, so the same ones come back) change nothing. It returns how many
// were new or had another address or client.
func (s *Store) ApplyDirectoryChanges(cs []DirectoryContact, st DirectoryState) (added int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		byID, err := directory(tx, dirByID)
		if err != nil {
			return err
		}
		var fresh []DirectoryContact
		for _, c := range cs {
			var old DirectoryContact
			ok, err := dirGet(byID, idKey(c.ID), &old)
			if err != nil {
				return err
			}
			if ok && old == c {
				continue
			}
			if ok {
				if err := removeContact(tx, old); err != nil {
					return err
				}
			}
			if c.Email != "" {
				fresh = append(fresh, c)
			}
		}
		n, err := putContacts(tx, fresh, func(DirectoryContact) bool { return true }, st)
		added = n
		return err
	})
	return added, err
}

// RemoveDirectoryContacts forgets contacts by id (ClientSuccess no longer
// has them); unknown ids are ignored. Address checks naming them forget
// them too.
func (s *Store) RemoveDirectoryContacts(ids []int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		byID, err := directory(tx, dirByID)
		if err != nil {
			return err
		}
		if err := eachContact(byID, ids, func(c DirectoryContact) error { return removeContact(tx, c) }); err != nil {
			return err
		}
		checks, err := directory(tx, dirChecks)
		if err != nil {
			return err
		}
		type change struct {
			k []byte
			a AddressCheck
		}
		var changes []change
		if err := eachCheck(checks, func(k []byte, a AddressCheck) error {
			n := len(a.Contacts)
			a.Contacts = slices.DeleteFunc(a.Contacts, func(c DirectoryContact) bool { return slices.Contains(ids, c.ID) })
			if len(a.Contacts) != n {
				changes = append(changes, change{slices.Clone(k), a})
			}
			return nil
		}); err != nil {
			return err
		}
		for _, c := range changes {
			if err := dirPut(checks, c.k, c.a); err != nil {
				return err
			}
		}
		return nil
	})
}

// putContacts stores cs and then st as the directory's state, and returns
// how many of cs counted is true for; when any, st.AddedAt is st.LookedAt.
// When the directory was filled from the search before, the counted
// contacts are newcomers too; the first fill (or the switch from address
// checks) has none: every contact would be one.
func putContacts(tx *bolt.Tx, cs []DirectoryContact, counted func(DirectoryContact) bool, st DirectoryState) (int, error) {
	byID, byAddr, err := indexes(tx)
	if err != nil {
		return 0, err
	}
	var prev DirectoryState
	if _, err := dirGet(tx.Bucket(bucketDirectory), keyDirState, &prev); err != nil {
		return 0, err
	}
	var newcomers *bolt.Bucket
	if prev.Source == DirectorySearch && !prev.FullAt.IsZero() {
		if newcomers, err = directory(tx, dirNewcomers); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, c := range cs {
		if c.Email == "" {
			continue
		}
		if err := dirPut(byID, idKey(c.ID), c); err != nil {
			return 0, err
		}
		var ids []int64
		if _, err := dirGet(byAddr, []byte(c.Email), &ids); err != nil {
			return 0, err
		}
		if !slices.Contains(ids, c.ID) {
			ids = append(ids, c.ID)
			slices.Sort(ids)
			if err := dirPut(byAddr, []byte(c.Email), ids); err != nil {
				return 0, err
			}
		}
		if counted(c) {
			n++
			if newcomers != nil {
				if err := dirPut(newcomers, idKey(c.ID), Newcomer{Contact: c, AddedAt: st.LookedAt}); err != nil {
					return 0, err
				}
			}
		}
	}
	if n > 0 {
		st.AddedAt = st.LookedAt
	}
	if err := dirPut(tx.Bucket(bucketDirectory), keyDirState, st); err != nil {
		return 0, err
	}
	return n, nil
}

// indexes returns the directory's two indexes of contacts, creating them.
func indexes(tx *bolt.Tx) (byID, byAddr *bolt.Bucket, err error) {
	if byID, err = directory(tx, dirByID); err != nil {
		return nil, nil, err
	}
	if byAddr, err = directory(tx, dirByAddr); err != nil {
		return nil, nil, err
	}
	return byID, byAddr, nil
}

// eachContact calls f with each contact of ids that byID holds, in the
// order of ids; ids it does not hold are skipped.
func eachContact(byID *bolt.Bucket, ids []int64, f func(DirectoryContact) error) error {
	for _, id := range ids {
		var c DirectoryContact
		ok, err := dirGet(byID, idKey(id), &c)
		if err != nil {
			return err
		}
		if ok {
			if err := f(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// eachCheck calls f with each address check of b and its key; an
// unreadable check is an error.
func eachCheck(b *bolt.Bucket, f func(k []byte, a AddressCheck) error) error {
	return b.ForEach(func(k, v []byte) error {
		var a AddressCheck
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("storage: read address check: %w", err)
		}
		return f(k, a)
	})
}

// removeContact drops c from both indexes.
func removeContact(tx *bolt.Tx, c DirectoryContact) error {
	byID, byAddr, err := indexes(tx)
	if err != nil {
		return err
	}
	if err := byID.Delete(idKey(c.ID)); err != nil {
		return fmt.Errorf("storage: remove directory contact: %w", err)
	}
	var ids []int64
	if _, err := dirGet(byAddr, []byte(c.Email), &ids); err != nil {
		return err
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool { return id == c.ID })
	if len(ids) == 0 {
		return byAddr.Delete([]byte(c.Email))
	}
	return dirPut(byAddr, []byte(c.Email), ids)
}

// LookupContacts returns the directory's contacts of each normalised
// address; addresses without contacts are absent from the map.
func (s *Store) LookupContacts(addrs []string) (map[string][]DirectoryContact, error) {
	out := map[string][]DirectoryContact{}
	err := s.db.View(func(tx *bolt.Tx) error {
		byID, _ := directory(tx, dirByID)
		byAddr, _ := directory(tx, dirByAddr)
		if byID == nil || byAddr == nil {
			return nil
		}
		for _, a := range addrs {
			var ids []int64
			if _, err := dirGet(byAddr, []byte(a), &ids); err != nil {
				return err
			}
			if err := eachContact(byID, ids, func(c DirectoryContact) error {
				out[a] = append(out[a], c)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// DirectoryContactsByID returns the directory's contacts with these ids
// (from the full directory or from address checks); unknown ids are
// absent.
func (s *Store) DirectoryContactsByID(ids []int64) (map[int64]DirectoryContact, error) {
	out := map[int64]DirectoryContact{}
	err := s.db.View(func(tx *bolt.Tx) error {
		if byID, _ := directory(tx, dirByID); byID != nil {
			if err := eachContact(byID, ids, func(c DirectoryContact) error {
				out[c.ID] = c
				return nil
			}); err != nil {
				return err
			}
		}
		checks, _ := directory(tx, dirChecks)
		if checks == nil || len(out) == len(ids) {
			return nil
		}
		return eachCheck(checks, func(_ []byte, a AddressCheck) error {
			for _, c := range a.Contacts {
				if slices.Contains(ids, c.ID) {
					out[c.ID] = c
				}
			}
			return nil
		})
	})
	return out, err
}

// DirectorySize is how many contacts the directory holds (not counting
// address checks).
func (s *Store) DirectorySize() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b, _ := directory(tx, dirByID); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// AddressChecks returns the stored look-ups of these normalised addresses;
// addresses never looked up are absent.
func (s *Store) AddressChecks(addrs []string) (map[string]AddressCheck, error) {
	out := map[string]AddressCheck{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b, _ := directory(tx, dirChecks)
		for _, a := range addrs {
			var c AddressCheck
			ok, err := dirGet(b, []byte(a), &c)
			if err != nil {
				return err
			}
			if ok {
				out[a] = c
			}
		}
		return nil
	})
	return out, err
}

// PutAddressChecks stores look-ups, replacing earlier ones of the same
// addresses, in one transaction.
func (s *Store) PutAddressChecks(checks map[string]AddressCheck) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := directory(tx, dirChecks)
		if err != nil {
			return err
		}
		for a, c := range checks {
			if err := dirPut(b, []byte(a), c); err != nil {
				return err
			}
		}
		return nil
	})
}

// UseAddressChecks switches the directory to per-address look-ups with
// state st: the contacts read from the search are dropped (they would go
// stale), the checks kept.
func (s *Store) UseAddressChecks(st DirectoryState) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{dirByID, dirByAddr} {
			if err := resetDirectory(tx, name); err != nil {
				return err
			}
		}
		return dirPut(tx.Bucket(bucketDirectory), keyDirState, st)
	})
}

// PruneAddressChecks drops the look-ups asked before cutoff: no pass would
// trust them any more.
func (s *Store) PruneAddressChecks(cutoff time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := directory(tx, dirChecks)
		if err != nil {
			return err
		}
		_, err = deleteWhere(b, func(_, v []byte) (bool, error) {
			var a AddressCheck
			return json.Unmarshal(v, &a) != nil || a.CheckedAt.Before(cutoff), nil
		})
		if err != nil {
			return fmt.Errorf("storage: prune address checks: %w", err)
		}
		return nil
	})
}

// Newcomer is a contact that appeared in the directory after its first
// fill: added in ClientSuccess, or given another address or client. AddedAt
// is when the directory learnt of it (DirectoryState.LookedAt).
type Newcomer struct {
	Contact DirectoryContact `json:"contact"`
	AddedAt time.Time        `json:"addedAt"`
}

// Newcomers returns the contacts that appeared in the directory and that
// no pass has dropped yet (DropNewcomers), in the order of their ids. They
// are kept in the same transaction as the directory change that added
// them, so a pass that fails after reading the directory leaves them for
// the next.
func (s *Store) Newcomers() ([]Newcomer, error) {
	var out []Newcomer
	err := s.db.View(func(tx *bolt.Tx) error {
		b, _ := directory(tx, dirNewcomers)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var n Newcomer
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("storage: read newcomer: %w", err)
			}
			out = append(out, n)
			return nil
		})
	})
	return out, err
}

// DropNewcomers forgets the newcomers in ns, unless one came again since
// (a later AddedAt: its address or client changed once more).
func (s *Store) DropNewcomers(ns []Newcomer) error {
	if len(ns) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := directory(tx, dirNewcomers)
		if err != nil {
			return err
		}
		for _, n := range ns {
			var now Newcomer
			ok, err := dirGet(b, idKey(n.Contact.ID), &now)
			if err != nil {
				return err
			}
			if ok && !now.AddedAt.After(n.AddedAt) {
				if err := b.Delete(idKey(n.Contact.ID)); err != nil {
					return fmt.Errorf("storage: drop newcomer: %w", err)
				}
			}
		}
		return nil
	})
}
