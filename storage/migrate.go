package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// migrate brings a file written with schema version from up to
// SchemaVersion, inside Open's transaction: a crash half-way leaves the old
// file as it was.
func migrate(tx *bolt.Tx, from int) error {
	if from < 2 {
		if err := migrateAccountLedger(tx); err != nil {
			return fmt.Errorf("storage: migrate the ledger to per-account keys: %w", err)
		}
	}
	if from < 3 {
		if err := migrateDigestKeys(tx); err != nil {
			return fmt.Errorf("storage: migrate to fixed-size message keys: %w", err)
		}
	}
	return nil
}

// migrateAccountLedger (1 → 2) files the ledger and the pending jobs under
// the ClientSuccess account signed in now, the only account version 1 can
// have been uploading for since its last switch, and remembers it as the
// account that taught the contacts cache. When nobody is signed in, the
// entries go under no account, and the next account to sign in adopts them
// (SwitchCRMUser): version 1 did not record whose they were.
func migrateAccountLedger(tx *bolt.Tx) error {
	m, err := readMeta(tx)
	if err != nil {
		return err
	}
	account := CRMAccount(m.CRMUser)

	type kv struct{ k, v []byte }
	var entries []kv
	ledger := tx.Bucket(bucketLedger)
	if err := ledger.ForEach(func(k, v []byte) error {
		if bytes.IndexByte(k, 0) >= 0 {
			return fmt.Errorf("ledger key %q is not of version 1", k)
		}
		entries = append(entries, kv{bytes.Clone(k), bytes.Clone(v)})
		return nil
	}); err != nil {
		return err
	}
	for _, e := range entries {
		if err := ledger.Delete(e.k); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if err := ledger.Put([]byte(account+"\x00"+string(e.k)), e.v); err != nil {
			return err
		}
	}

	jobs, err := pendingJobs(tx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		j.Account = account
		// Version 2's key for the same job: the job stays where it was.
		if err := putJSON(tx, bucketPending, j.Key+"\x00"+strconv.FormatInt(j.ClientID, 10), j); err != nil {
			return err
		}
	}

	if account != "" {
		return putJSON(tx, bucketMeta, keyCRMAccount, account)
	}
	return nil
}

// migrateDigestKeys (2 → 3) files the ledger, the pending jobs and the
// decisions under the digest of the message's LedgerKey instead of the key
// itself (which the sender controls and bbolt limits to 32 KiB), and
// normalises the keys the old way of folding white space left different
// from the note's: entries that turn out to be one message are merged.
func migrateDigestKeys(tx *bolt.Tx) error {
	type kv struct{ k, v []byte }
	drain := func(b *bolt.Bucket) ([]kv, error) {
		var all []kv
		if err := b.ForEach(func(k, v []byte) error {
			all = append(all, kv{bytes.Clone(k), bytes.Clone(v)})
			return nil
		}); err != nil {
			return nil, err
		}
		for _, e := range all {
			if err := b.Delete(e.k); err != nil {
				return nil, err
			}
		}
		return all, nil
	}

	ledger := tx.Bucket(bucketLedger)
	entries, err := drain(ledger)
	if err != nil {
		return err
	}
	for _, e := range entries {
		i := bytes.IndexByte(e.k, 0)
		if i < 0 {
			return fmt.Errorf("ledger key %q is not of version 2", e.k)
		}
		var old LedgerEntry
		if err := json.Unmarshal(e.v, &old); err != nil {
			return fmt.Errorf("read ledger %q: %w", e.k, err)
		}
		dst := ledgerDBKey(string(e.k[:i]), LedgerKey(string(e.k[i+1:])))
		if prev := ledger.Get(dst); prev != nil {
			var merged LedgerEntry
			if err := json.Unmarshal(prev, &merged); err != nil {
				return err
			}
			for _, u := range old.Uploads {
				if !merged.Has(u.ClientID) {
					merged.Uploads = append(merged.Uploads, u)
				}
			}
			if old.Received.After(merged.Received) {
				merged.Received = old.Received
			}
			old = merged
		}
		if err := putJSON(tx, bucketLedger, string(dst), old); err != nil {
			return err
		}
	}

	jobs, err := drain(tx.Bucket(bucketPending))
	if err != nil {
		return err
	}
	for _, e := range jobs {
		var j PendingJob
		if err := json.Unmarshal(e.v, &j); err != nil {
			return fmt.Errorf("read pending job %q: %w", e.k, err)
		}
		j.Key = LedgerKey(j.Key)
		if err := putJSON(tx, bucketPending, pendingKey(j.Key, j.ClientID), j); err != nil {
			return err
		}
	}

	decisions := tx.Bucket(bucketDecisions)
	recs, err := drain(decisions)
	if err != nil {
		return err
	}
	for _, e := range recs {
		if len(e.k) < 8 {
			continue
		}
		id := string(e.k[8:])
		if !strings.HasPrefix(id, "graph:") {
			// The engine files a message with a Message-ID under its
			// LedgerKey, one without under its Graph id.
			id = LedgerKey(id)
		}
		k := decisionKey(time.Unix(0, int64(binary.BigEndian.Uint64(e.k[:8]))), id)
		if err := decisions.Put(k, e.v); err != nil {
			return err
		}
	}
	return nil
}
