// Package words holds the error whose text is written for a person. Each
// package keeps its sentences in its own words.go, in the manner of
// tailscale's health/warnings.go; an error made here carries one of them
// and, apart, the cause for the log. Internal errors stay lower-case and
// wrapped ("storage: save meta: %w"); only words.Error reaches a person as
// it is.
package words

import "errors"

// Error is an error whose text is a sentence for a person. The cause it
// wraps (a keyring, disk or service error, whose text is for the log) is
// never part of that text.
type Error struct {
	Words string
	Cause error
}

func (e *Error) Error() string { return e.Words }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is reports whether target is an Error with the same words, so that a
// sentinel made with New matches however it was wrapped.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Cause == nil && t.Words == e.Words
}

// New returns an error that reads s.
func New(s string) error { return &Error{Words: s} }

// Wrap returns an error that reads s and wraps cause for the log.
func Wrap(s string, cause error) error { return &Error{Words: s, Cause: cause} }

// Of returns the words of the first Error in err's chain.
func Of(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Words, true
	}
	return "", false
}
