package storage

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

// ChunkSize is the largest value one keyring entry holds. Windows caps a
// credential at 2560 bytes and macOS at about 3000, so longer values (Entra
// refresh tokens can exceed 2 KB) are split across numbered entries.
const ChunkSize = 2000

// chunkedPrefix marks the head entry of a value stored in chunks: the
// entry then holds "mailsync-chunks:N" and the parts live in "user#1".."user#N".
const chunkedPrefix = "mailsync-chunks:"

// Secrets stores secrets in the OS keyring (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows) under one service name.
// It never writes a secret anywhere else and never puts one in an error.
type Secrets struct {
	Service string
	// Keyring is where the secrets go; nil is the OS keyring. Tests put a
	// keyring here that fails or never answers.
	Keyring keyring.Keyring
}

// osKeyring is go-keyring's package functions as a keyring.Keyring.
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Set(service, user, v string) error        { return keyring.Set(service, user, v) }
func (osKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }
func (osKeyring) DeleteAll(service string) error           { return keyring.DeleteAll(service) }

func (s Secrets) kr() keyring.Keyring {
	if s.Keyring == nil {
		return osKeyring{}
	}
	return s.Keyring
}

// DefaultService is the keyring service of the real app; the demo uses its
// own so it never touches real entries.
const DefaultService = "Mail Sync"

// MicrosoftKey is the keyring entry of the Microsoft refresh token of email.
func MicrosoftKey(email string) string {
	return "microsoft:" + strings.ToLower(strings.TrimSpace(email))
}

// CRMKey is the keyring entry of the ClientSuccess password of username.
func CRMKey(username string) string {
	return "clientsuccess:" + strings.ToLower(strings.TrimSpace(username))
}

// Get returns the secret stored for user, or ErrNotFound.
func (s Secrets) Get(user string) (string, error) {
	head, err := s.kr().Get(s.Service, user)
	if err != nil {
		return "", s.wrap("read", user, err)
	}
	n, chunked := chunkCount(head)
	if !chunked {
		return head, nil
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		part, err := s.kr().Get(s.Service, chunkUser(user, i))
		if err != nil {
			if errors.Is(err, keyring.ErrNotFound) {
				// A torn write; treat as absent so the person signs in again.
				return "", ErrNotFound
			}
			return "", s.wrap("read", user, err)
		}
		b.WriteString(part)
	}
	return b.String(), nil
}

// Set stores value for user, replacing any earlier value and its chunks.
// The parts are written before the head, so a reader never sees a head that
// points at parts not yet written.
func (s Secrets) Set(user, value string) error {
	oldN := 0
	if head, err := s.kr().Get(s.Service, user); err == nil {
		oldN, _ = chunkCount(head)
	}
	if len(value) <= ChunkSize && !strings.HasPrefix(value, chunkedPrefix) {
		if err := s.kr().Set(s.Service, user, value); err != nil {
			return s.wrap("save", user, err)
		}
		s.deleteChunks(user, 1, oldN)
		return nil
	}
	parts := split(value, ChunkSize)
	for i, p := range parts {
		if err := s.kr().Set(s.Service, chunkUser(user, i+1), p); err != nil {
			return s.wrap("save", user, err)
		}
	}
	if err := s.kr().Set(s.Service, user, chunkedPrefix+strconv.Itoa(len(parts))); err != nil {
		return s.wrap("save", user, err)
	}
	s.deleteChunks(user, len(parts)+1, oldN)
	return nil
}

// Delete removes the secret of user and its chunks; absent is not an error.
func (s Secrets) Delete(user string) error {
	n := 0
	if head, err := s.kr().Get(s.Service, user); err == nil {
		n, _ = chunkCount(head)
	}
	if err := s.kr().Delete(s.Service, user); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return s.wrap("delete", user, err)
	}
	s.deleteChunks(user, 1, n)
	return nil
}

func (s Secrets) deleteChunks(user string, from, to int) {
	for i := from; i <= to; i++ {
		_ = s.kr().Delete(s.Service, chunkUser(user, i))
	}
}

func (s Secrets) wrap(op, user string, err error) error {
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotFound
	}
	// The keyring's own errors name the service and entry, never the value.
	return fmt.Errorf("keyring: %s %s: %w", op, user, err)
}

func chunkUser(user string, i int) string { return user + "#" + strconv.Itoa(i) }

func chunkCount(head string) (int, bool) {
	rest, ok := strings.CutPrefix(head, chunkedPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// split cuts s into parts of at most size bytes, never inside a UTF-8
// sequence, so each part is a valid string for the keyring.
func split(s string, size int) []string {
	var parts []string
	for len(s) > size {
		cut := size
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			cut = size
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	return append(parts, s)
}
