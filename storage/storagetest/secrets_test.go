package storagetest

import (
	"os"
	"testing"

	"mailsync/storage"
)

// TestSecretsSecretService runs the same suite against the real Secret
// Service. `make test` runs it under dbus-run-session with an unlocked
// gnome-keyring and sets MAILSYNC_REAL_KEYRING=1, which makes it mandatory.
func TestSecretsSecretService(t *testing.T) {
	if os.Getenv("MAILSYNC_REAL_KEYRING") != "1" {
		t.Skip("set MAILSYNC_REAL_KEYRING=1 under dbus-run-session with gnome-keyring (make test does)")
	}
	SecretsSuite(t, storage.Secrets{Service: "Mail Sync test " + t.Name()})
}
