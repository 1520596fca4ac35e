package storage_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"

	"mailsync/storage"
)

// crashingKeyring is an in-memory keyring whose process "dies" at its
// k-th call: that call and every later one fail without touching the
// entries, as if the app had been killed there.
type crashingKeyring struct {
	mu      sync.Mutex
	entries map[string]string
	calls   int
	crashAt int // 0-based call index; negative never crashes
}

var errKilled = errors.New("process killed")

func (k *crashingKeyring) step() error {
	defer func() { k.calls++ }()
	if k.crashAt >= 0 && k.calls >= k.crashAt {
		return errKilled
	}
	return nil
}

func (k *crashingKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.step(); err != nil {
		return "", err
	}
	v, ok := k.entries[service+"\x00"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (k *crashingKeyring) Set(service, user, value string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.step(); err != nil {
		return err
	}
	k.entries[service+"\x00"+user] = value
	return nil
}

func (k *crashingKeyring) Delete(service, user string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.step(); err != nil {
		return err
	}
	if _, ok := k.entries[service+"\x00"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(k.entries, service+"\x00"+user)
	return nil
}

func (k *crashingKeyring) names() []string {
	var n []string
	for key := range k.entries {
		n = append(n, key[strings.IndexByte(key, 0)+1:])
	}
	sort.Strings(n)
	return n
}

// token returns an n-byte value whose every chunk differs from the same
// chunk of another seed's value, so a mix of two values is detectable.
func token(seed string, n int) string {
	s := strings.Repeat(seed+"-0.AXcA-refresh-", n/len(seed)+1)
	return s[:n]
}

// TestSecretsSetSurvivesAKillAtEveryStep kills Set at each keyring call in
// turn and reads the entry back with a healthy keyring: the value is the
// old one or the new one, never a mix, and a completed write leaves only
// the head and the parts it points at.
func TestSecretsSetSurvivesAKillAtEveryStep(t *testing.T) {
	const service, user = "Mail Sync crash test", "microsoft:alex@contoso.example"
	cases := []struct {
		name     string
		old, new string
		legacy   bool // the old value is in the older "mailsync-chunks:N" form
	}{
		{"chunked to chunked, same part count", token("a", 5000), token("b", 5000), false},
		{"chunked to longer chunked", token("a", 4100), token("b", 7000), false},
		{"chunked to shorter chunked", token("a", 7000), token("b", 2500), false},
		{"chunked to short", token("a", 5000), "short-token", false},
		{"short to chunked", "short-token", token("b", 5000), false},
		{"nothing to chunked", "", token("b", 5000), false},
		{"older chunked form to chunked", token("a", 5000), token("b", 5000), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sawOld, sawNew := false, false
			for k := 0; ; k++ {
				kr := &crashingKeyring{entries: map[string]string{}, crashAt: -1}
				healthy := storage.SecretsOverForTest(service, kr)
				switch {
				case tc.legacy:
					parts := storage.SplitForTest(tc.old, storage.ChunkSize)
					for i, p := range parts {
						kr.entries[service+"\x00"+fmt.Sprintf("%s#%d", user, i+1)] = p
					}
					kr.entries[service+"\x00"+user] = fmt.Sprintf("mailsync-chunks:%d", len(parts))
				case tc.old != "":
					if err := healthy.Set(user, tc.old); err != nil {
						t.Fatal(err)
					}
				}
				if got, err := healthy.Get(user); tc.old != "" && (err != nil || got != tc.old) {
					t.Fatalf("old value does not read back before the write: %v", err)
				}
				kr.calls, kr.crashAt = 0, k
				err := healthy.Set(user, tc.new)
				completed := kr.calls <= k // no call reached the kill point
				kr.crashAt = -1

				got, gerr := healthy.Get(user)
				switch {
				case gerr == nil && got == tc.new:
					sawNew = true
				case gerr == nil && got == tc.old && tc.old != "":
					sawOld = true
				case errors.Is(gerr, storage.ErrNotFound) && tc.old == "":
					sawOld = true
				default:
					t.Fatalf("killed at call %d: read back %d bytes (old %d, new %d), err %v",
						k, len(got), len(tc.old), len(tc.new), gerr)
				}
				if !completed {
					continue
				}
				if err != nil {
					t.Fatalf("Set with no kill: %v", err)
				}
				if got != tc.new {
					t.Fatalf("completed Set reads back %d bytes, want the new %d", len(got), len(tc.new))
				}
				// Only the head and the new value's parts remain.
				want := 1
				if len(tc.new) > storage.ChunkSize {
					want += len(storage.SplitForTest(tc.new, storage.ChunkSize))
				}
				if names := kr.names(); len(names) != want {
					t.Fatalf("after a completed Set the keyring holds %v, want %d entries", names, want)
				}
				break
			}
			if !sawOld || !sawNew {
				t.Fatalf("kill points covered: old seen %v, new seen %v", sawOld, sawNew)
			}
		})
	}
}

// TestSecretsSetRefusesWhenTheHeadIsUnreadable: without the live head the
// new parts could overwrite the live ones, so Set writes nothing.
func TestSecretsSetRefusesWhenTheHeadIsUnreadable(t *testing.T) {
	const service, user = "Mail Sync crash test", "microsoft:ann@contoso.example"
	kr := &crashingKeyring{entries: map[string]string{}, crashAt: -1}
	s := storage.SecretsOverForTest(service, kr)
	old := token("a", 5000)
	if err := s.Set(user, old); err != nil {
		t.Fatal(err)
	}
	before := kr.names()
	kr.calls, kr.crashAt = 0, 0
	if err := s.Set(user, token("b", 5000)); err == nil {
		t.Fatal("Set succeeded without reading the head")
	} else if strings.Contains(err.Error(), "refresh") {
		t.Fatalf("error carries the secret: %v", err)
	}
	kr.crashAt = -1
	if after := kr.names(); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("entries changed: %v -> %v", before, after)
	}
	if got, err := s.Get(user); err != nil || got != old {
		t.Fatalf("old value lost: %v", err)
	}
}
