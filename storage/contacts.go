package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

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

// ContactLookups returns the cached look-ups of normalised addresses, in one
// read; an address never looked up is absent from the map. Whether a
// look-up is still valid is the caller's to ask (ContactLookup.Valid).
func (s *Store) ContactLookups(addrs []string) (map[string]ContactLookup, error) {
	out := make(map[string]ContactLookup)
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, a := range addrs {
			var l ContactLookup
			err := getJSON(tx, bucketContacts, a, &l)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[a] = l
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read contacts: %w", err)
	}
	return out, nil
}

// SaveContactLookups caches look-ups by normalised address, in one
// transaction.
func (s *Store) SaveContactLookups(ls map[string]ContactLookup) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for a, l := range ls {
			if err := putJSON(tx, bucketContacts, a, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: cache contacts: %w", err)
	}
	return nil
}

type clientName struct {
	Name    string    `json:"name"`
	Expires time.Time `json:"expires"`
}

// ClientNames returns the cached names of clients that are still fresh at
// now, in one read; the others are absent from the map.
func (s *Store) ClientNames(ids []int64, now time.Time) (map[int64]string, error) {
	out := make(map[int64]string)
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, id := range ids {
			var e clientName
			err := getJSON(tx, bucketContacts, clientNamePrefix+strconv.FormatInt(id, 10), &e)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if now.Before(e.Expires) {
				out[id] = e.Name
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: read client names: %w", err)
	}
	return out, nil
}

// SaveClientNames caches client names until expires, in one transaction.
func (s *Store) SaveClientNames(names map[int64]string, expires time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for id, name := range names {
			if err := putJSON(tx, bucketContacts, clientNamePrefix+strconv.FormatInt(id, 10), clientName{Name: name, Expires: expires}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: cache client names: %w", err)
	}
	return nil
}

// pruneContacts deletes the cached names and look-ups expired at now and
// every miss, since a miss is valid only within the pass that made it.
func pruneContacts(tx *bolt.Tx, now time.Time) error {
	b := tx.Bucket(bucketContacts)
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
