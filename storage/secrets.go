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
// credential at 2560 bytes and macOS at about 3000 (docs/evidence.md,
// "Keyring limits"), so longer values (Entra refresh tokens can exceed
// 2 KB) are split across numbered entries.
const ChunkSize = 2000

// chunkedPrefix marks the head entry of a value stored in chunks. The head
// holds "mailsync-chunks:G:N": the value is the N parts "user#G.1".."user#G.N"
// of generation G. Each write uses a new generation, so the parts a head
// points at are never overwritten while that head is live. A head of the
// older form "mailsync-chunks:N" points at "user#1".."user#N" and is still
// read.
const chunkedPrefix = "mailsync-chunks:"

// Secrets stores secrets in the OS keyring (Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows) under one service name.
// It never writes a secret anywhere else and never puts one in an error.
//
// A chunked value is replaced in three steps: the new parts are written
// under names no live head points at, then the head is switched to them
// (one keyring write, which the OS makes atomic), then the old parts are
// removed. A write cut short at any step leaves the old value or the new
// one readable, never a mix of both.
type Secrets struct {
	Service string
	// Keyring is where the secrets go; nil is the OS keyring. Tests put a
	// keyring here that fails or never answers.
	Keyring SecretStore
}

// SecretStore is the part of a keyring Secrets uses.
type SecretStore interface {
	Get(service, user string) (string, error)
	Set(service, user, value string) error
	Delete(service, user string) error
}

// osKeyring is the OS keyring through go-keyring (or its mock once
// keyring.MockInit has run).
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Set(service, user, value string) error    { return keyring.Set(service, user, value) }
func (osKeyring) Delete(service, user string) error        { return keyring.Delete(service, user) }

func (s Secrets) kr() SecretStore {
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
	c, chunked := parseHead(head)
	if !chunked {
		return head, nil
	}
	var b strings.Builder
	for _, name := range c.parts(user) {
		part, err := s.kr().Get(s.Service, name)
		if err != nil {
			if errors.Is(err, keyring.ErrNotFound) {
				// Parts removed behind the app's back; treat as absent so
				// the person signs in again.
				return "", ErrNotFound
			}
			return "", s.wrap("read", user, err)
		}
		b.WriteString(part)
	}
	return b.String(), nil
}

// Set stores value for user, replacing any earlier value and its chunks.
// If Set fails (or the process dies) part way, Get returns either the
// earlier value or value, never a mix; an error means the earlier value
// may still be the one stored.
func (s Secrets) Set(user, value string) error {
	head, err := s.kr().Get(s.Service, user)
	var old chunks
	switch {
	case err == nil:
		old, _ = parseHead(head)
	case errors.Is(err, keyring.ErrNotFound):
	default:
		// Without the live head the new parts could land on its own
		// names; write nothing rather than risk garbling it.
		return s.wrap("save", user, err)
	}
	if len(value) <= ChunkSize && !strings.HasPrefix(value, chunkedPrefix) {
		if err := s.kr().Set(s.Service, user, value); err != nil {
			return s.wrap("save", user, err)
		}
		s.deleteParts(old.parts(user))
		return nil
	}
	parts := split(value, ChunkSize)
	next := chunks{gen: old.gen + 1, n: len(parts)}
	names := next.parts(user)
	// Step 1: the parts, under names the live head does not use.
	for i, p := range parts {
		if err := s.kr().Set(s.Service, names[i], p); err != nil {
			s.deleteParts(names[:i])
			return s.wrap("save", user, err)
		}
	}
	// Step 2: the switch.
	if err := s.kr().Set(s.Service, user, next.head()); err != nil {
		// The new parts stay: the switch may have happened even though it
		// reported an error. The next write reuses or removes them.
		return s.wrap("save", user, err)
	}
	// Step 3: the old parts, now unreferenced. A failure here leaves
	// orphans, never a wrong value.
	s.deleteParts(old.parts(user))
	return nil
}

// Delete removes the secret of user and its chunks; absent is not an error.
func (s Secrets) Delete(user string) error {
	var c chunks
	if head, err := s.kr().Get(s.Service, user); err == nil {
		c, _ = parseHead(head)
	}
	if err := s.kr().Delete(s.Service, user); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return s.wrap("delete", user, err)
	}
	s.deleteParts(c.parts(user))
	return nil
}

func (s Secrets) deleteParts(names []string) {
	for _, n := range names {
		_ = s.kr().Delete(s.Service, n)
	}
}

func (s Secrets) wrap(op, user string, err error) error {
	if errors.Is(err, keyring.ErrNotFound) {
		return ErrNotFound
	}
	// The keyring's own errors name the service and entry, never the value.
	return fmt.Errorf("keyring: %s %s: %w", op, user, err)
}

// chunks is what a head entry points at: n parts of generation gen
// (gen 0 is the older naming without a generation). The zero value points
// at nothing.
type chunks struct {
	gen, n int
}

func (c chunks) head() string {
	return chunkedPrefix + strconv.Itoa(c.gen) + ":" + strconv.Itoa(c.n)
}

// parts returns the entry names of the parts, in order.
func (c chunks) parts(user string) []string {
	names := make([]string, 0, c.n)
	for i := 1; i <= c.n; i++ {
		if c.gen == 0 {
			names = append(names, user+"#"+strconv.Itoa(i))
		} else {
			names = append(names, user+"#"+strconv.Itoa(c.gen)+"."+strconv.Itoa(i))
		}
	}
	return names
}

// parseHead reads a head entry; ok is false when head is a plain value.
func parseHead(head string) (c chunks, ok bool) {
	rest, ok := strings.CutPrefix(head, chunkedPrefix)
	if !ok {
		return chunks{}, false
	}
	genText, nText, hasGen := strings.Cut(rest, ":")
	if !hasGen {
		genText, nText = "0", rest
	}
	gen, err1 := strconv.Atoi(genText)
	n, err2 := strconv.Atoi(nText)
	if err1 != nil || err2 != nil || gen < 0 || n < 1 {
		return chunks{}, false
	}
	return chunks{gen: gen, n: n}, true
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
