// Package storagetest holds checks of the storage package that must run
// in a process of their own, such as the Secret Service suite (go-keyring's
// mock replaces the real keyring for the whole process once installed).
package storagetest

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"mailsync/storage"
)

// SecretsSuite checks Secrets against whatever keyring is active: the
// in-memory mock in the storage tests, the real Secret Service in this
// package's tests.
func SecretsSuite(t *testing.T, s storage.Secrets) {
	t.Run("missing is ErrNotFound", func(t *testing.T) {
		if _, err := s.Get(storage.MicrosoftKey("nobody@example.com")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Get of a missing entry: %v, want ErrNotFound", err)
		}
	})
	t.Run("round trip", func(t *testing.T) {
		user := storage.CRMKey("Ann@Example.com")
		if err := s.Set(user, "pässwörd"); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(storage.CRMKey("ann@example.com"))
		if err != nil || got != "pässwörd" {
			t.Fatalf("Get = %q, %v", got, err)
		}
		if err := s.Delete(user); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(user); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("after Delete: %v", err)
		}
	})
	t.Run("6 KB value is chunked and joined", func(t *testing.T) {
		user := storage.MicrosoftKey("alex@contoso.example")
		big := strings.Repeat("0.AXcA-refresh-token-ü-", 6*1024/24+1)[:6*1024]
		if err := s.Set(user, big); err != nil {
			t.Fatal(err)
		}
		head, err := keyring.Get(s.Service, user)
		if err != nil {
			t.Fatal(err)
		}
		if len(head) > storage.ChunkSize || !strings.HasPrefix(head, "mailsync-chunks:") {
			t.Fatalf("head entry is %d bytes: %.40q", len(head), head)
		}
		for i := 1; ; i++ {
			part, err := keyring.Get(s.Service, user+"#"+strconv.Itoa(i))
			if errors.Is(err, keyring.ErrNotFound) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(part) > storage.ChunkSize {
				t.Fatalf("chunk %d is %d bytes, over %d", i, len(part), storage.ChunkSize)
			}
		}
		got, err := s.Get(user)
		if err != nil || got != big {
			t.Fatalf("joined value differs (len %d vs %d), err %v", len(got), len(big), err)
		}
		// A shorter value replaces it and leaves no stale chunks behind.
		if err := s.Set(user, "short"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Get(user); got != "short" {
			t.Fatalf("after shrinking: %q", got)
		}
		if _, err := keyring.Get(s.Service, user+"#1"); !errors.Is(err, keyring.ErrNotFound) {
			t.Fatalf("stale chunk 1 left behind: %v", err)
		}
		if err := s.Set(user, big); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(user); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 4; i++ {
			if _, err := keyring.Get(s.Service, user+"#"+strconv.Itoa(i)); !errors.Is(err, keyring.ErrNotFound) {
				t.Fatalf("chunk %d left after Delete: %v", i, err)
			}
		}
	})
	t.Run("errors never carry the secret", func(t *testing.T) {
		if _, err := s.Get("no-such-entry"); err == nil || strings.Contains(err.Error(), "pässwörd") {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
