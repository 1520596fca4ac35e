package agent

import (
	"context"
	"errors"
	"strings"

	"mailsync/sync/crm"
	"mailsync/sync/engine"
	"mailsync/sync/remote"
)

// sentence is an error whose text is written for a person. The cause it
// wraps (a keyring or state-file error, whose text is for the log) is
// never part of that text.
type sentence struct {
	words string
	cause error
}

func (s sentence) Error() string { return s.words }
func (s sentence) Unwrap() error { return s.cause }

// keyringLocked is the state's words while the system keyring does not
// answer: the Secret Service is waiting for the person to unlock it.
const keyringLocked = "Unlock your keyring: Mail Sync is waiting for the system keyring to answer, and carries on once it does."

// problem returns an error that reads words and wraps cause for the log.
func problem(words string, cause error) error { return sentence{words: words, cause: cause} }

// Words is the one place an error becomes words a person reads: the
// agent's own sentences as they are, a remote service's answer as the
// engine describes it, a stopped operation as stopped, and anything else
// (the state file, the keyring, a bug) as a sentence that names what
// failed without its raw text, which goes to the log instead.
func Words(err error) string {
	if err == nil {
		return ""
	}
	var s sentence
	var nr ErrNeedsReconnect
	var re *remote.Error
	switch {
	case errors.As(err, &s):
		return s.words
	case errors.As(err, &nr):
		return nr.Reason
	case errors.Is(err, ErrNotConnected), errors.Is(err, ErrCRMSignedOut), errors.Is(err, ErrPaused),
		errors.Is(err, ErrNoClientID):
		return err.Error()
	case errors.Is(err, crm.ErrBadCredentials):
		return crm.ErrBadCredentials.Error()
	case errors.Is(err, crm.ErrMaintenance):
		return crm.ErrMaintenance.Error()
	case errors.As(err, &re), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return engine.Describe(err)
	}
	msg := err.Error()
	for _, raw := range []string{"storage:", "keyring:", "bolt", "engine:", "agent:", "graph:", "crm:", "dbus", "secret"} {
		if strings.Contains(strings.ToLower(msg), raw) {
			return "Mail Sync ran into a problem with its saved state or the system keyring; see the log for details."
		}
	}
	return msg
}

// personWords turns a ClientSuccess client error met while signing in into
// an error that reads as words for a person.
func personWords(err error) error {
	var re *remote.Error
	if errors.As(err, &re) && re.Message != "" {
		return problem(re.Message, err)
	}
	if remote.KindOf(err) == remote.Transient {
		return problem("ClientSuccess could not be reached; check the internet connection and try again.", err)
	}
	return problem(Words(err), err)
}

// Words implements agentapi.Worder: the local API sends every error as
// these words.
func (a *Agent) Words(err error) string { return Words(err) }
