package storage

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Cache names a value read from Microsoft 365 that is kept between passes
// and refreshed now and then.
type Cache int

// The cached values. Persisted under names of their own, not these numbers.
const (
	// Profile is the Graph profile of the mailbox owner (who "the user" is).
	Profile Cache = 1
	// ExcludedFolders are the ids and well-known names of the folders
	// whose messages are never taken.
	ExcludedFolders Cache = 2
)

// String names the value for logs.
func (c Cache) String() string {
	switch c {
	case Profile:
		return "profile"
	case ExcludedFolders:
		return "excluded folders"
	}
	return fmt.Sprintf("cache %d", int(c))
}

// Where the cached values live; ConnectMailbox forgets both.
const (
	keyMe       = "me"       // in the meta bucket
	keyExcluded = "excluded" // in the folders bucket
)

func (c Cache) place() (bucket []byte, key string) {
	switch c {
	case Profile:
		return bucketMeta, keyMe
	case ExcludedFolders:
		return bucketFolders, keyExcluded
	}
	panic(fmt.Sprintf("storage: unknown cache %d", int(c)))
}

type cached struct {
	At    time.Time       `json:"at"`
	Value json.RawMessage `json:"value"`
}

// PutCached stores v as the cached value c, fetched at at.
func (s *Store) PutCached(c Cache, v any, at time.Time) error {
	bucket, key := c.place()
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encode %s/%s: %w", bucket, key, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bucket, key, cached{At: at, Value: raw}) })
}

// GetCached reads the cached value c into v and returns when it was
// fetched; ErrNotFound when none is stored. A value of another shape (an
// older layout) is an error other than ErrNotFound.
func (s *Store) GetCached(c Cache, v any) (time.Time, error) {
	bucket, key := c.place()
	var e cached
	if err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucket, key, &e) }); err != nil {
		return time.Time{}, err
	}
	if err := json.Unmarshal(e.Value, v); err != nil {
		return time.Time{}, fmt.Errorf("storage: read %s/%s: %w", bucket, key, err)
	}
	return e.At, nil
}
