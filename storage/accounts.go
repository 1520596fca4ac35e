package storage

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Account is the connected Microsoft 365 mailbox (no secrets).
type Account struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	TenantID string `json:"tenantId,omitempty"`
}

// ConnectMailbox records acct as the connected mailbox, in one transaction.
// The mailbox connected last (still connected, refused by Microsoft, or
// disconnected since: Meta.Disconnected) connecting again continues: its
// connect time and last successful pass stay, so the next pass lists from
// where the last one ended (engine.WindowStart, at most MaxCatchUp back) and
// the gap is caught up; its uploads left pending stay, to be looked up
// before anything is posted again. Another mailbox starts fresh: its window
// starts at now (mail up to 24 h old is taken) and the uploads left pending
// by the other mailbox are forgotten. The cached profile and excluded
// folder ids are forgotten except when a refused sign-in is redone, since
// folder ids belong to one mailbox and the person's addresses may have
// changed. Either way the reconnect reason and the last
// error are cleared. fresh reports which it was. The ledger stays: a
// message is never uploaded twice, whatever mailbox lists it.
func (s *Store) ConnectMailbox(acct Account, now time.Time) (fresh bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		old, err := readMeta(tx)
		if err != nil {
			return err
		}
		fresh = !old.Continues(acct.Email)
		if fresh {
			// Uploads left pending came from a mailbox no longer
			// connected: their messages are not this mailbox's.
			if err := resetBucket(tx, bucketPending); err != nil {
				return err
			}
		}
		if fresh || old.Account == nil {
			// The profile and folders are read anew after a disconnect
			// too: the addresses may have changed meanwhile.
			if err := tx.Bucket(bucketMeta).Delete([]byte(keyMe)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketFolders).Delete([]byte(keyExcluded)); err != nil {
				return err
			}
		}
		return updateMeta(tx, func(m *Meta) {
			if fresh {
				m.ConnectedAt = now
				m.LastSuccessStart = time.Time{}
				// The passes of another mailbox are not this one's.
				m.LastPassEnd, m.LastCounts, m.LastCopyEnd, m.LastCopyCounts = time.Time{}, nil, time.Time{}, nil
			}
			a := acct
			m.Account = &a
			m.Disconnected = nil
			m.NeedsReconnect = ""
			m.LastError = ""
		})
	})
	if err != nil {
		return false, fmt.Errorf("storage: record the connection: %w", err)
	}
	return fresh, nil
}

// Continues reports whether connecting the mailbox email continues where
// the mailbox connected last left off (ConnectMailbox): it is that mailbox
// (compared case-insensitively), connected now or disconnected since, and
// it was connected once.
func (m Meta) Continues(email string) bool {
	last := m.LastMailbox()
	return last != nil && email != "" && strings.EqualFold(last.Email, email) && !m.ConnectedAt.IsZero()
}

// LastMailbox is the mailbox connected last: the connected one, or the one
// disconnected since; nil when none ever was (or the file predates the
// record of a disconnected one).
func (m Meta) LastMailbox() *Account {
	if m.Account != nil {
		return m.Account
	}
	return m.Disconnected
}

// ForgetMailbox records that no mailbox is connected: the account, the
// reconnect reason and the last error go. The mailbox is remembered as
// Meta.Disconnected with its connect time and last successful pass, and
// its uploads left pending stay, so that connecting it again continues
// without a gap and never uploads a message twice; nothing is read or
// copied while no mailbox is connected. The ledger, the settings and the
// ClientSuccess sign-in stay.
func (s *Store) ForgetMailbox() error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return updateMeta(tx, func(m *Meta) {
			if m.Account != nil {
				m.Disconnected = m.Account
			}
			m.Account, m.NeedsReconnect, m.LastError = nil, "", ""
		})
	})
	if err != nil {
		return fmt.Errorf("storage: forget the mailbox: %w", err)
	}
	return nil
}

// keyCRMAccount (in the meta bucket) is the ClientSuccess account whose
// contacts and pending uploads the file holds. Unlike Meta.CRMUser it stays
// after a sign-out, so that signing in as someone else afterwards still
// forgets what the previous account taught.
const keyCRMAccount = "crmAccount"

// CRMAccount is how the ledger names a ClientSuccess account: its username,
// trimmed and case-folded (ClientSuccess usernames are e-mail addresses).
// ClientSuccess tells nothing more stable about the account; two usernames
// of one ClientSuccess tenant are two accounts to the ledger.
func CRMAccount(username string) string { return strings.ToLower(strings.TrimSpace(username)) }

// SwitchCRMUser records username as the signed-in ClientSuccess user, in
// one transaction. When the file holds what another account taught (a
// previous user, signed out or not), the contacts cache, the contact
// directory and the uploads not yet confirmed are forgotten: their client and contact ids belong to that
// account. dropped is how many pending uploads went. The ledger stays; it
// is kept per account. The first account ever recorded adopts the uploads
// recorded under no account (a file migrated while nobody was signed in).
func (s *Store) SwitchCRMUser(username string) (dropped int, err error) {
	account := CRMAccount(username)
	err = s.db.Update(func(tx *bolt.Tx) error {
		var prev string
		if err := getJSON(tx, bucketMeta, keyCRMAccount, &prev); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if prev == "" {
			if err := adoptUnowned(tx, account); err != nil {
				return err
			}
		}
		if prev != "" && prev != account {
			dropped = tx.Bucket(bucketPending).Stats().KeyN
			for _, b := range [][]byte{bucketContacts, bucketPending, bucketDirectory} {
				if err := resetBucket(tx, b); err != nil {
					return err
				}
			}
		}
		if err := putJSON(tx, bucketMeta, keyCRMAccount, account); err != nil {
			return err
		}
		return updateMeta(tx, func(m *Meta) { m.CRMUser = username })
	})
	if err != nil {
		return 0, fmt.Errorf("storage: record the ClientSuccess sign-in: %w", err)
	}
	return dropped, nil
}

// SignOutCRM records that no ClientSuccess user is signed in. What the
// account taught stays until another account signs in (SwitchCRMUser).
func (s *Store) SignOutCRM() error {
	return s.UpdateMeta(func(m *Meta) { m.CRMUser = "" })
}

// adoptUnowned files the ledger entries and pending jobs recorded under no
// account under account.
func adoptUnowned(tx *bolt.Tx, account string) error {
	if account == "" {
		return nil
	}
	ledger := tx.Bucket(bucketLedger)
	type kv struct {
		digest string
		v      []byte
	}
	var unowned []kv
	c := ledger.Cursor()
	for k, v := c.Seek([]byte{0}); len(k) > 0 && k[0] == 0; k, v = c.Next() {
		_, digest := splitLedgerDBKey(k)
		unowned = append(unowned, kv{digest, bytes.Clone(v)})
	}
	for _, e := range unowned {
		if err := ledger.Delete([]byte("\x00" + e.digest)); err != nil {
			return err
		}
		// An entry the account already has would be newer: keep it.
		dst := []byte(account + "\x00" + e.digest)
		if ledger.Get(dst) == nil {
			if err := ledger.Put(dst, e.v); err != nil {
				return err
			}
		}
	}
	jobs, err := pendingJobs(tx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.Account == "" {
			j.Account = account
			if err := putJSON(tx, bucketPending, pendingKey(j.Key, j.ClientID), j); err != nil {
				return err
			}
		}
	}
	return nil
}
