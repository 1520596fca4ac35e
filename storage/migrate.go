package storage

import (
	"bytes"
	"fmt"

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
		if err := ledger.Put(ledgerDBKey(account, string(e.k)), e.v); err != nil {
			return err
		}
	}

	jobs, err := pendingJobs(tx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		j.Account = account
		if err := putJSON(tx, bucketPending, pendingKey(j.Key, j.ClientID), j); err != nil {
			return err
		}
	}

	if account != "" {
		return putJSON(tx, bucketMeta, keyCRMAccount, account)
	}
	return nil
}
