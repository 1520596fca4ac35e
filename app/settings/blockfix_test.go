package settings

import "testing"

func TestBlockFixOf(t *testing.T) {
	for _, tc := range []struct {
		line, want string
		ok         bool
	}{
		{"evil.com", "@evil.com", true},
		{"  *@Evil.COM ", "@evil.com", true},
		{"@evil.com", "", false},      // already an entry
		{"ann@evil.com", "", false},   // already an entry
		{"not an address", "", false}, // no plain meaning
		{"*@", "", false},             // nothing to block
		{"ann@", "", false},           // not an address, not a domain
	} {
		got, ok := blockFixOf(tc.line)
		if ok != tc.ok || got != tc.want {
			t.Errorf("blockFixOf(%q) = %q, %v; want %q, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}
