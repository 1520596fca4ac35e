// Package storagetest holds checks of the storage package that must run
// in a process of their own, such as the Secret Service suite (go-keyring's
// mock replaces the real keyring for the whole process once installed).
package storagetest

import (
	"errors"
	"slices"
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
		parts := partNames(t, user, head)
		for i, name := range parts {
			part, err := keyring.Get(s.Service, name)
			if err != nil {
				t.Fatalf("part %d (%s): %v", i+1, name, err)
			}
			if len(part) > storage.ChunkSize {
				t.Fatalf("chunk %d is %d bytes, over %d", i+1, len(part), storage.ChunkSize)
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
		for _, name := range parts {
			if _, err := keyring.Get(s.Service, name); !errors.Is(err, keyring.ErrNotFound) {
				t.Fatalf("stale chunk %s left behind: %v", name, err)
			}
		}
		// Two chunked writes in a row: the second lands on new part names
		// and removes the first one's parts.
		if err := s.Set(user, big); err != nil {
			t.Fatal(err)
		}
		first, _ := keyring.Get(s.Service, user)
		firstParts := partNames(t, user, first)
		bigger := big + "-rotated"
		if err := s.Set(user, bigger); err != nil {
			t.Fatal(err)
		}
		second, _ := keyring.Get(s.Service, user)
		secondParts := partNames(t, user, second)
		for _, name := range firstParts {
			if slices.Contains(secondParts, name) {
				t.Fatalf("the rewrite reused part name %s", name)
			}
			if _, err := keyring.Get(s.Service, name); !errors.Is(err, keyring.ErrNotFound) {
				t.Fatalf("old chunk %s left after the rewrite: %v", name, err)
			}
		}
		if got, err := s.Get(user); err != nil || got != bigger {
			t.Fatalf("after the rewrite: %d bytes, %v", len(got), err)
		}
		if err := s.Delete(user); err != nil {
			t.Fatal(err)
		}
		for _, name := range secondParts {
			if _, err := keyring.Get(s.Service, name); !errors.Is(err, keyring.ErrNotFound) {
				t.Fatalf("chunk %s left after Delete: %v", name, err)
			}
		}
	})
	t.Run("errors never carry the secret", func(t *testing.T) {
		if _, err := s.Get("no-such-entry"); err == nil || strings.Contains(err.Error(), "pässwörd") {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// partNames reads a head entry "mailsync-chunks:G:N" and returns the names
// of its N parts, "user#G.1".."user#G.N".
func partNames(t *testing.T, user, head string) []string {
	t.Helper()
	gen, n, ok := strings.Cut(strings.TrimPrefix(head, "mailsync-chunks:"), ":")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 1 {
		t.Fatalf("head entry %.40q is not mailsync-chunks:G:N", head)
	}
	names := make([]string, count)
	for i := range names {
		names[i] = user + "#" + gen + "." + strconv.Itoa(i+1)
	}
	return names
}
