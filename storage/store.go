// Package storage keeps Mail Sync's state: one bbolt file in the data
// directory (ledger, pending uploads, caches, decisions, settings) and the
// secrets in the OS keyring. Nothing here imports a GUI or the network.
//
// Callers speak of what is kept, never of where: every operation (connect a
// mailbox, switch the ClientSuccess user, record an upload, finish a pass…)
// is one method that runs in one transaction, and no transaction, bucket or
// key name leaves the package. Each file keeps one thing: accounts.go the
// Microsoft and ClientSuccess accounts, ledger.go what was uploaded,
// pending.go uploads not yet confirmed, contacts.go the contacts cache,
// decisions.go the Activity list, cache.go values read from Microsoft 365,
// settings.go the person's choices, migrate.go older layouts.
//
// The data directory is 0700 and the state file 0600. bbolt's file lock
// makes the agent single-instance: a second Open of the same file fails
// after a short wait with ErrLocked instead of hanging.
package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout of the state file this build reads and
// writes. Open migrates older files (see migrate.go):
//
//	1: the ledger keyed by message only
//	2: the ledger keyed by ClientSuccess account and message; pending jobs
//	   name their account
//	3: ledger, pending jobs and decisions filed under a digest of the
//	   message's LedgerKey (white space removed, not folded)
const SchemaVersion = 3

// FileName is the name of the state file in the data directory.
const FileName = "state.db"

// LockTimeout is how long Open waits for another process's lock.
var LockTimeout = 500 * time.Millisecond

// ErrLocked means another Mail Sync process holds the state file.
var ErrLocked = errors.New("storage: the state file is held by another Mail Sync process")

// ErrNotFound means a value (or secret) is not stored. For the Microsoft
// refresh token and the ClientSuccess password it means "signed out".
var ErrNotFound = errors.New("not found")

// ErrNewerSchema means the file was written by a newer Mail Sync.
var ErrNewerSchema = errors.New("the state file was written by a newer version of Mail Sync")

// Bucket names; see ARCHITECTURE.md "State". They never leave this
// package: callers speak of what is kept, not where.
var (
	bucketMeta      = []byte("meta")
	bucketLedger    = []byte("ledger")
	bucketPending   = []byte("pending")
	bucketContacts  = []byte("contacts")
	bucketFolders   = []byte("folders")
	bucketDecisions = []byte("decisions")
	bucketSettings  = []byte("settings")
)

var allBuckets = [][]byte{bucketMeta, bucketLedger, bucketPending, bucketContacts, bucketFolders, bucketDecisions, bucketSettings, bucketDirectory, bucketLifted}

var keySchema = []byte("schema")

// Store is the open state file. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
}

// DefaultDir is the data directory: $MAILSYNC_HOME, else "Mail Sync" in the
// user's config directory (~/.config/Mail Sync on Linux) or, on Windows, in
// %LOCALAPPDATA%, where state that must not roam belongs; state an older
// version left in the roaming %APPDATA% is moved there once.
func DefaultDir() (string, error) {
	if d := os.Getenv("MAILSYNC_HOME"); d != "" {
		return filepath.Abs(d)
	}
	return defaultDir()
}

// EnsureDir creates dir, or takes an existing one, and makes it the
// user's alone: mode 0700 on Unix, an owner-only DACL on Windows.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("storage: create %s: %w", dir, err)
	}
	if err := protectDir(dir); err != nil {
		return fmt.Errorf("storage: protect %s: %w", dir, err)
	}
	return nil
}

// Open opens (creating if needed) the state file in dir. If another process
// holds it, Open returns ErrLocked after LockTimeout.
func Open(dir string) (*Store, error) {
	if err := EnsureDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: LockTimeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	if runtime.GOOS != "windows" {
		// bbolt honours the mode only when it creates the file.
		if err := os.Chmod(path, 0o600); err != nil {
			db.Close()
			return nil, fmt.Errorf("storage: protect %s: %w", path, err)
		}
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("storage: create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		n := SchemaVersion // a new file has nothing to migrate
		if v := meta.Get(keySchema); v != nil {
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("storage: read schema version: %w", err)
			}
		}
		if n > SchemaVersion {
			return ErrNewerSchema
		}
		if err := migrate(tx, n); err != nil {
			return err
		}
		b, _ := json.Marshal(SchemaVersion)
		return meta.Put(keySchema, b)
	})
}

// Close releases the file and its lock.
func (s *Store) Close() error { return s.db.Close() }

// Path is the state file's path.
func (s *Store) Path() string { return s.path }

// getJSON reads key of bucket into v. It returns ErrNotFound when absent.
func getJSON(tx *bolt.Tx, bucket []byte, key string, v any) error {
	data := tx.Bucket(bucket).Get([]byte(key))
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("storage: read %s/%s: %w", bucket, key, err)
	}
	return nil
}

// deleteWhere deletes the keys of b for which drop says so (bbolt does
// not allow deleting while iterating) and returns how many went. An error
// of drop stops it before anything is deleted.
func deleteWhere(b *bolt.Bucket, drop func(k, v []byte) (bool, error)) (int, error) {
	var old [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		d, err := drop(k, v)
		if d {
			old = append(old, bytes.Clone(k))
		}
		return err
	}); err != nil {
		return 0, err
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(old), nil
}

// putJSON stores v as JSON under key of bucket.
func putJSON(tx *bolt.Tx, bucket []byte, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("storage: encode %s/%s: %w", bucket, key, err)
	}
	return tx.Bucket(bucket).Put([]byte(key), data)
}

// Meta is the small record of where syncing stands.
type Meta struct {
	Account *Account `json:"account,omitempty"`
	// Disconnected is the mailbox disconnected last, until a mailbox
	// connects: connecting it again continues where it left off
	// (ConnectMailbox).
	Disconnected     *Account  `json:"disconnected,omitempty"`
	ConnectedAt      time.Time `json:"connectedAt,omitzero"`      // first successful connect: the window starts 24 h before
	LastSuccessStart time.Time `json:"lastSuccessStart,omitzero"` // start of the last pass that finished its work
	LastPassEnd      time.Time `json:"lastPassEnd,omitzero"`
	// LastCounts is what the last successful pass counted, and
	// LastCopyEnd and LastCopyCounts are the end and the counts of the
	// last one that copied an email: the engine's records, as JSON, so
	// that the views show them again after a restart.
	LastCounts     json.RawMessage `json:"lastCounts,omitempty"`
	LastCopyEnd    time.Time       `json:"lastCopyEnd,omitzero"`
	LastCopyCounts json.RawMessage `json:"lastCopyCounts,omitempty"`
	// ListedWith is no longer used: every pass lists the whole window.
	// Kept so that older state files read the same; the engine clears it.
	ListedWith     string    `json:"listedWith,omitempty"`
	LastError      string    `json:"lastError,omitempty"`
	FailingSince   time.Time `json:"failingSince,omitzero"`
	NeedsReconnect string    `json:"needsReconnect,omitempty"` // the reason, when the token was refused
	CRMUser        string    `json:"crmUser,omitempty"`
	Paused         bool      `json:"paused,omitempty"`
}

var keyMeta = "state"

// Meta returns the current meta record (zero when none).
func (s *Store) Meta() (Meta, error) {
	var m Meta
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		m, err = readMeta(tx)
		return err
	})
	return m, err
}

// UpdateMeta changes the meta record in one transaction. f must not call
// the Store.
func (s *Store) UpdateMeta(f func(*Meta)) error {
	return s.db.Update(func(tx *bolt.Tx) error { return updateMeta(tx, f) })
}

func readMeta(tx *bolt.Tx) (Meta, error) {
	var m Meta
	if err := getJSON(tx, bucketMeta, keyMeta, &m); err != nil && !errors.Is(err, ErrNotFound) {
		return Meta{}, err
	}
	return m, nil
}

// updateMeta is UpdateMeta inside a writable transaction, so that meta
// moves together with other records (the last success with the ledger).
func updateMeta(tx *bolt.Tx, f func(*Meta)) error {
	m, err := readMeta(tx)
	if err != nil {
		return err
	}
	f(&m)
	return putJSON(tx, bucketMeta, keyMeta, m)
}

// resetBucket empties a bucket (drops and recreates it).
func resetBucket(tx *bolt.Tx, name []byte) error {
	if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return fmt.Errorf("storage: empty %s: %w", name, err)
	}
	if _, err := tx.CreateBucket(name); err != nil {
		return fmt.Errorf("storage: empty %s: %w", name, err)
	}
	return nil
}
