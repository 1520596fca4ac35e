package printable

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain text is kept", "Re: Q3 renewal – Acme Ltd", "Re: Q3 renewal – Acme Ltd"},
		{"ordinary spaces are kept", "  two  spaces  ", "  two  spaces  "},
		{"non-Latin and emoji are kept", "Ангебот 見積もり 👩‍💻", "Ангебот 見積もり 👩‍💻"},
		{"a terminal escape loses its ESC", "\x1b[2J\x1b]0;owned\x07subject", "[2J]0;ownedsubject"},
		{"a carriage return cannot overwrite the line", "paid\rUNPAID", "paid UNPAID"},
		{"a forged second line becomes one line", "quota exceeded\nMail Sync: all good", "quota exceeded Mail Sync: all good"},
		{"a run of breaks is one space", "a\r\n\r\n\tb", "a b"},
		{"NUL, DEL and C1 controls go", "a\x00b\x7fc\u0080d\u009be", "abcde"},
		{"Unicode line and paragraph separators break words", "a\u2028b\u2029c\u0085d", "a b c d"},
		{"bidi overrides and isolates go", "invoice\u202Egnp.exe\u202C \u2066x\u2069", "invoicegnp.exe x"},
		{"bidi marks go", "\u200Fabc\u200E\u061C", "abc"},
		{"invalid UTF-8 is replaced", "a\xffb", "a\uFFFDb"},
		{"a real replacement character is kept", "a\uFFFDb", "a\uFFFDb"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Text(tc.in)
			if got != tc.want {
				t.Fatalf("Text(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := Text(got); again != got {
				t.Fatalf("Text is not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "a\x1b[0m", "\u202Eabc", "x\r\ny", "\xff\xfe", "tab\there"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Text(%q) = %q is not UTF-8", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || isBidiControl(r) {
				t.Fatalf("Text(%q) = %q keeps %U", s, got, r)
			}
		}
		if Text(got) != got {
			t.Fatalf("Text is not idempotent on %q", s)
		}
	})
}

func BenchmarkTextClean(b *testing.B) {
	s := "Re: Q3 renewal for Acme Ltd, sent by Ann Lee <ann@acme.example>"
	b.ReportAllocs()
	for b.Loop() {
		Text(s)
	}
}
