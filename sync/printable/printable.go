// Package printable makes text from the services safe to show a person.
//
// Microsoft 365 and ClientSuccess hand Mail Sync text it shows as it is: a
// message's subject and sender, a client's name, an error's reason. Any of
// it may carry control characters (a terminal escape sequence in
// `mailsync status`, a carriage return that overwrites a line, a newline
// that forges a second line in the Activity list or a notification) or
// Unicode bidirectional controls that make text read in another order
// than it is stored ("Trojan Source"). Text is the one place such
// characters are removed; every place where service text becomes
// something a person reads calls it.
package printable

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s with every control character and bidirectional control
// removed and invalid UTF-8 replaced by U+FFFD. A run of line breaks and
// tabs becomes one space, so words on either side stay apart; ordinary
// spaces are kept as they are. Text of text it returned returns the same.
func Text(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	spaced := false // the last rune written stands for a line break or tab
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				b.WriteRune(unicode.ReplacementChar)
				spaced = false
				continue
			}
		}
		switch {
		case breaksWords(r):
			if !spaced {
				b.WriteByte(' ')
				spaced = true
			}
		case unicode.IsControl(r) || isBidiControl(r):
			// dropped
		default:
			b.WriteRune(r)
			spaced = false
		}
	}
	return b.String()
}

// clean reports whether s needs no change, the common case, so Text
// allocates nothing for it.
func clean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || isBidiControl(r) || breaksWords(r) {
			return false
		}
	}
	return true
}

// breaksWords reports whether r separates words as a control (tab, line
// and page breaks), so removing it would join them.
func breaksWords(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// isBidiControl reports whether r is one of Unicode's explicit bidirectional
// formatting characters (UAX #9): the marks, embeddings, overrides and
// isolates.
func isBidiControl(r rune) bool {
	switch {
	case r == 0x061C, r == 0x200E, r == 0x200F: // ALM, LRM, RLM
		return true
	case r >= 0x202A && r <= 0x202E: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	}
	return false
}
