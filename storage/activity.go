package storage

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// What Activity's fixes keep: the rules a person lifted for one message
// ("Copy this one anyway"), and contacts added from Activity, put in the
// directory at once so that the pass started right after matches them.

// bucketLifted holds, by ledger key, the rules lifted for that message.
var bucketLifted = []byte("lifted")

// liftedKept is how long a lifted rule is kept: longer than any message
// stays inside a pass's window.
const liftedKept = 90 * 24 * time.Hour

// lifted is one message's record.
type lifted struct {
	Rules []string  `json:"rules"`
	At    time.Time `json:"at"`
}

// LiftRule records that the person lifted rule for the message with ledger
// key key (LedgerKey), at time at; records older than 90 days go in the
// same transaction.
func (s *Store) LiftRule(key, rule string, at time.Time) error {
	if key == "" || rule == "" {
		return fmt.Errorf("storage: lift rule: no message or no rule")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLifted)
		if _, err := deleteWhere(b, func(_, v []byte) (bool, error) {
			var l lifted
			return json.Unmarshal(v, &l) != nil || at.Sub(l.At) > liftedKept, nil
		}); err != nil {
			return err
		}
		var l lifted
		if v := b.Get([]byte(key)); v != nil {
			_ = json.Unmarshal(v, &l)
		}
		if !slices.Contains(l.Rules, rule) {
			l.Rules = append(l.Rules, rule)
		}
		l.At = at
		return putJSON(tx, bucketLifted, key, l)
	})
	if err != nil {
		return fmt.Errorf("storage: lift rule: %w", err)
	}
	return nil
}

// LiftedRules returns the rules lifted for each of keys that has any.
func (s *Store) LiftedRules(keys []string) (map[string][]string, error) {
	out := map[string][]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLifted)
		for _, k := range keys {
			v := b.Get([]byte(k))
			if v == nil {
				continue
			}
			var l lifted
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("storage: read lifted rules: %w", err)
			}
			out[k] = l.Rules
		}
		return nil
	})
	return out, err
}

// AddDirectoryContact puts a contact just created in ClientSuccess into the
// directory at once: among the contacts read from the search when the
// directory holds them, and into the look-up of its address when that was
// asked (a miss would otherwise hide it until it expires). c.Email must be
// normalised.
func (s *Store) AddDirectoryContact(c DirectoryContact, at time.Time) error {
	if c.Email == "" || c.ID == 0 {
		return fmt.Errorf("storage: add contact: no address or no id")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		var st DirectoryState
		if _, err := dirGet(tx.Bucket(bucketDirectory), keyDirState, &st); err != nil {
			return err
		}
		if st.Source == DirectorySearch {
			look := st.LookedAt
			if _, err := putContacts(tx, []DirectoryContact{c}, func(DirectoryContact) bool { return false }, st); err != nil {
				return err
			}
			st.LookedAt, st.AddedAt = look, at
			if err := dirPut(tx.Bucket(bucketDirectory), keyDirState, st); err != nil {
				return err
			}
		}
		checks, err := directory(tx, dirChecks)
		if err != nil {
			return err
		}
		var a AddressCheck
		ok, err := dirGet(checks, []byte(c.Email), &a)
		if err != nil {
			return err
		}
		if ok || st.Source != DirectorySearch {
			if !slices.ContainsFunc(a.Contacts, func(d DirectoryContact) bool { return d.ID == c.ID }) {
				a.Contacts = append(a.Contacts, c)
			}
			a.CheckedAt = at
			return dirPut(checks, []byte(c.Email), a)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: add contact: %w", err)
	}
	return nil
}

// DirectoryContactsInDomain returns the directory's contacts whose address
// is in domain (lower-case, without "@"), from the search and from
// look-ups, each once, by id.
func (s *Store) DirectoryContactsInDomain(domain string) ([]DirectoryContact, error) {
	suffix := "@" + strings.ToLower(strings.TrimPrefix(domain, "@"))
	seen := map[int64]bool{}
	var out []DirectoryContact
	add := func(c DirectoryContact) {
		if !seen[c.ID] && strings.HasSuffix(c.Email, suffix) {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		if byID, _ := directory(tx, dirByID); byID != nil {
			if err := byID.ForEach(func(_, v []byte) error {
				var c DirectoryContact
				if err := json.Unmarshal(v, &c); err != nil {
					return fmt.Errorf("storage: read directory contact: %w", err)
				}
				add(c)
				return nil
			}); err != nil {
				return err
			}
		}
		if checks, _ := directory(tx, dirChecks); checks != nil {
			return eachCheck(checks, func(_ []byte, a AddressCheck) error {
				for _, c := range a.Contacts {
					add(c)
				}
				return nil
			})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b DirectoryContact) int { return cmp.Compare(a.ID, b.ID) })
	return out, err
}

// LedgerUploads returns what was uploaded for each message of keys
// (LedgerKey) under the ClientSuccess account; keys with nothing uploaded
// are absent.
func (s *Store) LedgerUploads(account string, keys []string) (map[string][]Upload, error) {
	out := map[string][]Upload{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, k := range keys {
			e, ok, err := ledgerEntry(tx, account, k)
			if err != nil {
				return err
			}
			if ok {
				out[k] = e.Uploads
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read ledger: %w", err)
	}
	return out, nil
}
