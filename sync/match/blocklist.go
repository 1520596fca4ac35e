package match

import "strings"

// The blocklist rule, in one place: what a person may type, what it
// blocks, and what Activity adds. Options, the agent and Decide all read
// entries through ReadBlockLine.

// ReadBlockLine reads one line a person typed for the blocklist. An
// address ("ann@acme.com") or a whole domain ("@acme.com") is an entry,
// returned lower-cased, and ok is true. A line that is not one has ok
// false; fix then holds the entry the person most likely meant, or "":
// "*@acme.com" and a bare "acme.com" both mean "@acme.com".
func ReadBlockLine(line string) (entry, fix string, ok bool) {
	l := strings.TrimSpace(line)
	if d, wild := strings.CutPrefix(l, "*@"); wild {
		// Not an address with "*" for a name: the whole domain is meant.
		if e, ok := BlockEntry("@" + d); ok {
			return "", e, false
		}
		return "", "", false
	}
	if e, ok := BlockEntry(l); ok {
		return e, "", true
	}
	if l != "" && !strings.Contains(l, "@") {
		if e, ok := BlockEntry("@" + l); ok {
			return "", e, false
		}
	}
	return "", "", false
}

// BadBlockLine is a blocklist line that is not an entry: its number
// (from 1, counting blank lines), its text, and the entry meant, if any.
type BadBlockLine struct {
	Line int
	Text string
	Fix  string
}

// CleanBlocklist reads lines with ReadBlockLine: blank lines are dropped,
// duplicates kept once, in order. Every line that is not an entry is in
// bad; the list is only to be saved when bad is empty.
func CleanBlocklist(lines []string) (list []string, bad []BadBlockLine) {
	seen := map[string]bool{}
	for i, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		e, fix, ok := ReadBlockLine(line)
		if !ok {
			bad = append(bad, BadBlockLine{Line: i + 1, Text: strings.TrimSpace(line), Fix: fix})
			continue
		}
		if !seen[e] {
			seen[e] = true
			list = append(list, e)
		}
	}
	return list, bad
}

// BlockFor returns the entry that blocks addr alone or, with wholeDomain,
// every address of its domain; ok is false when addr is not an address.
func BlockFor(addr string, wholeDomain bool) (string, bool) {
	a, ok := NormalizeAddress(addr)
	if !ok {
		return "", false
	}
	if wholeDomain {
		return BlockEntry("@" + domainOf(a))
	}
	return BlockEntry(a)
}

// AddBlock returns list with entry added, unless the list already blocks
// everything entry does (the entry itself, or its domain); added says
// whether it changed.
func AddBlock(list []string, entry string) (out []string, added bool) {
	b := newBlocklist(list)
	if d, ok := strings.CutPrefix(entry, "@"); ok {
		if b.domains[d] {
			return list, false
		}
	} else if b.blocks(entry) {
		return list, false
	}
	return append(append([]string(nil), list...), entry), true
}

func trimmed(s string) string { return strings.TrimSpace(s) }
