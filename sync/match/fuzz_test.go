package match

import (
	"strings"
	"testing"
	"time"
	"unicode"
)

func FuzzNormalizeAddress(f *testing.F) {
	for _, s := range []string{
		"a@b.example", "Name <A@B.example>", "a@b@c", "", " <> ", "JÖRG@MÜLLER.example",
		"\xff@x", "a@xn--mller-kva.example", "İ@K.example", "a\u200b@b", "<<a@b>>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeAddress(s)
		if !ok {
			if got != "" {
				t.Fatalf("rejected %q but returned %q", s, got)
			}
			return
		}
		if strings.Count(got, "@") != 1 || strings.HasPrefix(got, "@") || strings.HasSuffix(got, "@") {
			t.Fatalf("NormalizeAddress(%q) = %q: not one local@domain", s, got)
		}
		if strings.IndexFunc(got, unicode.IsSpace) >= 0 {
			t.Fatalf("NormalizeAddress(%q) = %q contains space", s, got)
		}
		again, ok := NormalizeAddress(got)
		if !ok || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, ok)
		}
	})
}

// fuzzAddrs are the addresses FuzzDecide draws from: the user (in several
// spellings), contacts, colleagues, strangers, a blocked domain, garbage.
var fuzzAddrs = []string{
	"alex.morgan@contoso.example", "ALEX@contoso-sales.example", "amorgan@contoso.onmicrosoft.example",
	"nancy@northwind.example", "andrew@northwind.example", "dana@fabrikam.example", "kim@consult.example",
	"sofia@adatum.example", "jordan@contoso.example", "x@blocked.example", "news@litware.example",
	"not an address", "", "Name <Dana@Fabrikam.example>",
}

var fuzzClasses = []string{"", "IPM.Note", "IPM.Note.SMIME", "IPM.Schedule.Meeting.Request", "IPM.Post.RSS", "IPM.Task", "ipm.notes", "IPM.SkypeTeams.Message"}

var fuzzFolders = []string{"inbox", "junk", "drafts", "convhist", "clutter", "outbox", "syncissues", "conflicts", "unknown", ""}

// pick chooses from a list by a fuzzed byte.
func pick[T any](xs []T, b byte) T { return xs[int(b)%len(xs)] }

func FuzzDecide(f *testing.F) {
	f.Add([]byte{3, 0, 0, 1, 1, 0, 0, 0}, "", "", false, int64(0))
	f.Add([]byte{3, 1, 4, 2, 3, 0, 1, 0}, "weird@@", "IPM.Note.X", true, int64(-3600))
	f.Add([]byte{5, 6, 9, 0, 0, 3, 2, 8, 0, 1}, "Z <z@blocked.example>", "", false, int64(86400))
	f.Fuzz(func(t *testing.T, layout []byte, extraAddr, extraClass string, draft bool, ageSeconds int64) {
		if len(layout) < 4 {
			return
		}
		// layout[0..3] choose class, folder and the number of To and Cc
		// entries; the remaining bytes pick addresses, the last ones Bcc.
		addrs := append(append([]string{}, fuzzAddrs...), extraAddr)
		classes := append(append([]string{}, fuzzClasses...), extraClass)
		m := Message{
			IsDraft:  draft,
			FolderID: pick(fuzzFolders, layout[1]),
			Received: testNow.Add(-time.Duration(ageSeconds%(1<<40)) * time.Second),
			Class:    pick(classes, layout[0]),
		}
		rest := layout[4:]
		next := func() (string, bool) {
			if len(rest) == 0 {
				return "", false
			}
			a := pick(addrs, rest[0])
			rest = rest[1:]
			return a, true
		}
		if a, ok := next(); ok {
			m.From = from(a)
		}
		for range int(layout[2] % 4) {
			if a, ok := next(); ok {
				m.To = append(m.To, rcpt(a))
			}
		}
		for range int(layout[3] % 4) {
			if a, ok := next(); ok {
				m.Cc = append(m.Cc, rcpt(a))
			}
		}
		for a, ok := next(); ok; a, ok = next() {
			m.Bcc = append(m.Bcc, rcpt(a))
		}
		s := DefaultSettings()
		s.Blocklist = []string{"@blocked.example"}
		s.IgnoreInternal = layout[0]&1 == 0
		in := Input{Msg: &m, Me: testMe, Excluded: testFolders, WindowStart: testWindow, Settings: s, Contacts: lookup}
		d := Decide(in)
		_ = Lookups(in)

		if d.Taken() == (d.Reason != "") {
			t.Fatalf("taken=%v with reason %q", d.Taken(), d.Reason)
		}
		if !d.Taken() {
			return
		}
		for i, tk := range d.Take {
			if i > 0 && d.Take[i-1].ClientID >= tk.ClientID {
				t.Fatalf("takes not sorted and distinct: %+v", d.Take)
			}
			if len(tk.ContactIDs) == 0 {
				t.Fatalf("client %d taken without contacts", tk.ClientID)
			}
			for _, id := range tk.ContactIDs {
				if !contactOf(id, tk.ClientID) {
					t.Fatalf("contact %d is not of client %d", id, tk.ClientID)
				}
			}
		}
		userIn := func(rs ...Address) bool {
			for _, r := range rs {
				if a, ok := NormalizeAddress(r.Address); ok && testMe.Is(a) {
					return true
				}
			}
			return false
		}
		visible := append(append([]Address{}, m.To...), m.Cc...)
		if m.From != nil {
			visible = append(visible, *m.From)
		}
		if !userIn(visible...) {
			t.Fatalf("taken although the user is not in From/To/Cc: %+v", m)
		}
		if m.IsDraft || !IsMailClass(m.Class) || m.Received.Before(testWindow) {
			t.Fatalf("taken a draft, non-mail or old message: %+v", m)
		}
		if _, excluded := testFolders.Kind(m.FolderID); excluded {
			t.Fatalf("taken from excluded folder %q", m.FolderID)
		}
		if len(Lookups(in)) == 0 {
			t.Fatal("taken although Lookups found nothing to look up")
		}
	})
}

func contactOf(id, client int64) bool {
	for _, cs := range testContacts {
		for _, c := range cs {
			if c.ID == id && c.ClientID == client {
				return true
			}
		}
	}
	return false
}
