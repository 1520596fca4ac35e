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

// Keys of the contacts bucket: client names under a prefix that no address
// can start with (addresses hold no control characters), so that the
// look-ups by address older versions kept here are told apart and pruned
// (the contact directory holds them now).
const clientNamePrefix = "\x00client\x00"

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

// pruneContacts deletes the cached names expired at now, and the look-ups
// by address that older versions kept in the contacts bucket.
func pruneContacts(tx *bolt.Tx, now time.Time) error {
	_, err := deleteWhere(tx.Bucket(bucketContacts), func(k, v []byte) (bool, error) {
		var e clientName
		name := bytes.HasPrefix(k, []byte(clientNamePrefix)) && json.Unmarshal(v, &e) == nil
		return !name || !now.Before(e.Expires), nil
	})
	if err != nil {
		return fmt.Errorf("storage: prune contacts: %w", err)
	}
	return nil
}
