package match

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxAddressLen bounds an address (RFC 5321 allows 254 octets for a path;
// a little slack keeps odd but real addresses).
const maxAddressLen = 320

// NormalizeAddress returns the comparable form of an e-mail address: trimmed
// and lower-cased, taken from inside the angle brackets of a
// "Name <local@domain>" form when there are any. It reports false for
// anything that is not one address: empty, no '@' or more than one, an empty
// local part or domain, white space, control characters or list separators
// inside, a domain that starts or ends with a dot, or invalid UTF-8.
// Internationalised (IDN) addresses are kept as Unicode, lower-cased; they
// are not converted to punycode, so both spellings of one domain compare
// unequal. It never panics, whatever the input.
func NormalizeAddress(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, ">") {
		open := strings.LastIndexByte(s, '<')
		if open < 0 {
			return "", false
		}
		s = strings.TrimSpace(s[open+1 : len(s)-1])
	}
	if s == "" || len(s) > maxAddressLen {
		return "", false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return "", false
	}
	if strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>,;"()[]\`, r) {
			return "", false
		}
		// Format characters (zero-width joiners, BOM) would make two
		// visually equal addresses differ.
		if unicode.Is(unicode.Cf, r) {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// domainOf returns the part after '@' of a normalised address.
func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

// BlockEntry normalises one blocklist entry the way Settings keep it: an
// address ("ann@acme.com") or a whole domain ("@acme.com"), lower-cased.
// It reports false for anything else (a bare word, a display name, a host
// without a dot), so what the settings accept is exactly what Decide blocks.
func BlockEntry(s string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(s))
	if d, ok := strings.CutPrefix(e, "@"); ok {
		if !hostName(d) {
			return "", false
		}
		return e, true
	}
	a, ok := NormalizeAddress(e)
	if !ok || a != e || !hostName(domainOf(a)) {
		return "", false
	}
	return a, true
}

// hostName accepts domain names of at least two labels of letters, digits
// and hyphens (any non-ASCII letter counts, for internationalised names).
func hostName(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r > 127) {
				return false
			}
		}
	}
	return true
}
