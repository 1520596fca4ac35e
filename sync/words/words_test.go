package words

import (
	"errors"
	"fmt"
	"testing"
)

func TestWordsKeepTheCauseApart(t *testing.T) {
	cause := errors.New("keyring: dbus: no reply")
	err := fmt.Errorf("agent: save sign-in: %w", Wrap("Mail Sync could not save its sign-in.", cause))
	if w, ok := Of(err); !ok || w != "Mail Sync could not save its sign-in." {
		t.Fatalf("Of = %q, %v", w, ok)
	}
	if !errors.Is(err, cause) {
		t.Fatal("the cause is lost for the log")
	}
	if _, ok := Of(cause); ok {
		t.Fatal("an internal error has words")
	}
}

func TestSentinelMatchesWrapped(t *testing.T) {
	notRunning := New("Mail Sync is not running.")
	if !errors.Is(fmt.Errorf("dial: %w", Wrap("Mail Sync is not running.", errors.New("connection refused"))), notRunning) {
		t.Fatal("the same words wrapping a cause do not match the sentinel")
	}
	if errors.Is(New("Other words."), notRunning) {
		t.Fatal("other words match the sentinel")
	}
}
