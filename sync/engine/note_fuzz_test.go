package engine

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/graph"
)

// FuzzMessageIDOfNote: the finder never panics on any note, and finds the
// Message-ID of any note buildNote writes, in every form ClientSuccess may
// give it back, whatever the display names and the body hold.
func FuzzMessageIDOfNote(f *testing.F) {
	f.Add("A1.b+c@x.example", "Ann", "Hello\n\nMessage-ID: <quoted@x>")
	f.Add("x@y", "Message-ID: <forged@x>", "<p>&lt;b&gt;</p>")
	f.Add("&amp;@x", "<br>", "&lt;br&gt;\r\n")
	tag := regexp.MustCompile(`<[^>]*>`)
	f.Fuzz(func(t *testing.T, local, name, body string) {
		_ = messageIDOfNote(body)
		_ = messageIDOfNote(local + name + body)
		// A Message-ID as Graph gives them: "<left@right>" without spaces
		// or angle brackets inside.
		if f := strings.Fields(local); len(f) != 1 || f[0] != local || strings.ContainsAny(local, "<>") ||
			!strings.Contains(local, "@") || strings.ToValidUTF8(local, "") != local {
			return
		}
		id := "<" + local + ">"
		want := storage.LedgerKey(id)
		m := &graph.Message{
			InternetMessageID: id,
			From:              &graph.Recipient{EmailAddress: graph.EmailAddress{Name: name, Address: "ann@x.example"}},
			SentDateTime:      time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC),
		}
		note := buildNote(m, graph.Body{ContentType: "text", Content: body}, 200, time.UTC)
		for form, n := range map[string]string{
			"as sent":       note,
			"escaped, <br>": strings.ReplaceAll(html.EscapeString(note), "\n", "<br>"),
			"stripped":      html.UnescapeString(tag.ReplaceAllString(strings.ReplaceAll(note, "<br>", "\n"), "\n")),
		} {
			if got := messageIDOfNote(n); got != want {
				t.Fatalf("%s: Message-ID %q, want %q\n%s", form, got, want, n)
			}
		}
	})
}
