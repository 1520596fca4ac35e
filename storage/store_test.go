package storage

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpen(t, dir)
	defer s.Close()
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("data dir mode = %o, want 700", got)
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("state file mode = %o, want 600", got)
	}
}

func TestOpenTightensLooseDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes: on Windows the directory under %LOCALAPPDATA% inherits the profile's per-user ACL")
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir)
	s.Close()
	di, _ := os.Stat(dir)
	if got := di.Mode().Perm(); got != 0o700 {
		t.Errorf("data dir mode = %o, want 700", got)
	}
}

func TestSecondOpenFailsWithClearError(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	defer s.Close()
	start := time.Now()
	s2, err := Open(dir)
	if err == nil {
		s2.Close()
		t.Fatal("second Open succeeded; want ErrLocked")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	// The bound is LockTimeout plus scheduling slack: it must not hang.
	if waited := time.Since(start); waited > LockTimeout+5*time.Second {
		t.Errorf("second Open took %v", waited)
	}
}

// TestSecondProcessFailsWithClearError opens the state from a child process
// while this one holds it: the lock is between processes, as in real use.
func TestSecondProcessFailsWithClearError(t *testing.T) {
	if dir := os.Getenv("MAILSYNC_STORAGE_CHILD"); dir != "" {
		_, err := Open(dir)
		if errors.Is(err, ErrLocked) {
			os.Stdout.WriteString("LOCKED\n")
			os.Exit(0)
		}
		os.Stdout.WriteString("OPENED\n")
		os.Exit(3)
	}
	dir := t.TempDir()
	s := mustOpen(t, dir)
	defer s.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondProcessFailsWithClearError$")
	cmd.Env = append(os.Environ(), "MAILSYNC_STORAGE_CHILD="+dir)
	out, err := cmd.Output()
	if err != nil || string(out) != "LOCKED\n" {
		t.Fatalf("child: %q, %v; want LOCKED", out, err)
	}
}

func TestReopenKeepsRecords(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	connected := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	if err := s.UpdateMeta(func(m *Meta) {
		m.ConnectedAt = connected
		m.Account = &Account{Name: "Alex", Email: "alex@contoso.example"}
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSettings(map[string]bool{"ignoreInternal": false}, AppSettings{StartAtLogin: false}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = mustOpen(t, dir)
	defer s.Close()
	m, err := s.Meta()
	if err != nil {
		t.Fatal(err)
	}
	if !m.ConnectedAt.Equal(connected) || m.Account == nil || m.Account.Email != "alex@contoso.example" {
		t.Errorf("meta after reopen = %+v", m)
	}
	rules := map[string]bool{"skipPrivate": true}
	if err := s.Rules(&rules); err != nil {
		t.Fatal(err)
	}
	if v, ok := rules["ignoreInternal"]; !ok || v || !rules["skipPrivate"] {
		t.Errorf("rules = %v, want the saved one over the defaults", rules)
	}
	if app, err := s.AppSettings(); err != nil || app.StartAtLogin {
		t.Errorf("app settings = %+v, %v", app, err)
	}
}

func TestSettingsDefaults(t *testing.T) {
	s := openTest(t)
	rules := map[string]bool{"skipPrivate": true}
	if err := s.Rules(&rules); err != nil || len(rules) != 1 || !rules["skipPrivate"] {
		t.Errorf("rules never saved = %v, %v; want the defaults untouched", rules, err)
	}
	if app, err := s.AppSettings(); err != nil || !app.StartAtLogin {
		t.Errorf("app settings never saved = %+v, %v; want start at login on", app, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("99"))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(dir); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer schema: %v, want ErrNewerSchema", err)
	}
}
