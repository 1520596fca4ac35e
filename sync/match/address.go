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
