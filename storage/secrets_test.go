package storage_test

import (
	"mailsync/storage"
	"mailsync/storage/storagetest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zalando/go-keyring"
)

func TestSecretsMock(t *testing.T) {
	keyring.MockInit()
	storagetest.SecretsSuite(t, storage.Secrets{Service: "Mail Sync test"})
}

func TestSplitKeepsRunes(t *testing.T) {
	s := strings.Repeat("ü", 5) // 10 bytes
	parts := storage.SplitForTest(s, 3)
	if strings.Join(parts, "") != s {
		t.Fatalf("join = %q", strings.Join(parts, ""))
	}
	for _, p := range parts {
		if len(p) > 3 || !utf8.ValidString(p) {
			t.Fatalf("bad part %q", p)
		}
	}
}
