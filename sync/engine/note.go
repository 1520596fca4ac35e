package engine

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"mailsync/storage"
	"mailsync/sync/graph"
	"mailsync/sync/match"
)

// DefaultNoteLimit is how many characters of a body go into a note when
// Engine.NoteLimit is 0. ClientSuccess notes are meant to be read on a
// timeline; a whole newsletter would bury the rest of it.
const DefaultNoteLimit = 20000

// noteDateLayout is the Date line of the header block (RFC 5322 style).
const noteDateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// buildNote is the note of an Email interaction, as simple, escaped HTML
// (ClientSuccess shows notes as HTML: plain text would lose its line breaks
// and every <address>): a header block (From, To, Cc, Date, Message-ID) in
// one paragraph, then the text body cut at limit characters with a marker
// saying how much was left out, one paragraph per paragraph of the body.
// It holds no raw newline, so a service that turns newlines into <br>
// changes nothing. The Message-ID line is how a pending upload is found
// again after a crash (see messageIDOfNote). The Date is shown in loc.
func buildNote(m *graph.Message, body graph.Body, limit int, loc *time.Location) string {
	var head []string
	if m.From != nil {
		head = append(head, "From: "+headerValue(formatRecipients([]graph.Recipient{*m.From})))
	}
	if len(m.ToRecipients) > 0 {
		head = append(head, "To: "+headerValue(formatRecipients(m.ToRecipients)))
	}
	if len(m.CcRecipients) > 0 {
		head = append(head, "Cc: "+headerValue(formatRecipients(m.CcRecipients)))
	}
	head = append(head, "Date: "+interactionDate(m).In(loc).Format(noteDateLayout))
	// The id in its one normal form, the form the note is read back by.
	head = append(head, "Message-ID: "+storage.LedgerKey(m.InternetMessageID))
	var b strings.Builder
	b.WriteString("<p>")
	for i, h := range head {
		if i > 0 {
			b.WriteString("<br>")
		}
		b.WriteString(html.EscapeString(h))
	}
	b.WriteString("</p>")
	for para := range strings.SplitSeq(cutText(bodyText(body), limit, body.Omitted), "\n\n") {
		para = strings.Trim(para, "\n")
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}

// messageIDProblem is why a message with ledger key key (storage.LedgerKey)
// cannot be copied, or "": it has none, one too long to trust, or one the
// note's Message-ID line could not be told from other text by (RFC 5322
// ids have an @). The Message-ID is what finds an upload again after a
// crash: without a usable one, a copy could be posted twice.
func messageIDProblem(key string) match.Reason {
	switch {
	case key == "":
		return reasonNoMessageID
	case len(key) > storage.MaxMessageIDLen:
		return reasonLongMessageID
	case !strings.Contains(key, "@"):
		return reasonBadMessageID
	}
	return ""
}

// interactionDate is when the message was sent, or received when Graph has
// no sent time (e.g. some imported items).
func interactionDate(m *graph.Message) time.Time {
	if !m.SentDateTime.IsZero() {
		return m.SentDateTime
	}
	return m.ReceivedDateTime
}

// interactionSubject is the subject ClientSuccess shows; it requires one.
func interactionSubject(m *graph.Message) string {
	if s := strings.TrimSpace(m.Subject); s != "" {
		return s
	}
	return "(no subject)"
}

func formatRecipients(rs []graph.Recipient) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		name, addr := strings.TrimSpace(r.EmailAddress.Name), strings.TrimSpace(r.EmailAddress.Address)
		switch {
		case addr == "":
			parts = append(parts, name)
		case name == "" || strings.EqualFold(name, addr):
			parts = append(parts, addr)
		default:
			parts = append(parts, name+" <"+addr+">")
		}
	}
	return strings.Join(parts, ", ")
}

// headerValue keeps a header on one line, and a display name saying
// "Message-ID:" has its hyphen replaced by a non-breaking one (U+2011), so
// that no header value can forge the Message-ID that finds the note again,
// even in a note that comes back with its lines run together.
func headerValue(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return messageIDLabel.ReplaceAllStringFunc(s, func(l string) string {
		return strings.Replace(l, "-", "‑", 1)
	})
}

var messageIDLabel = regexp.MustCompile(`(?i)message\s*-\s*id\s*:`)

// bodyText returns the body as plain text. The pass asks Graph for text;
// an HTML body (an old server ignoring the Prefer header) is stripped.
func bodyText(b graph.Body) string {
	text := b.Content
	if strings.EqualFold(b.ContentType, "html") {
		text = stripHTML(text)
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	return strings.TrimSpace(text)
}

// stripHTML turns HTML into rough text: tags dropped (block ends become line
// breaks), style and script contents dropped, entities decoded.
func stripHTML(s string) string {
	var b strings.Builder
	skip := ""
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			if skip == "" {
				b.WriteString(html.UnescapeString(s))
			}
			break
		}
		if skip == "" {
			b.WriteString(html.UnescapeString(s[:i]))
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		tag := strings.ToLower(strings.TrimSpace(s[i+1 : i+j]))
		name := strings.TrimPrefix(tag, "/")
		if k := strings.IndexAny(name, " \t\n/"); k >= 0 {
			name = name[:k]
		}
		switch {
		case skip != "":
			if tag == "/"+skip {
				skip = ""
			}
		case name == "style" || name == "script":
			if !strings.HasPrefix(tag, "/") {
				skip = name
			}
		case name == "br" || name == "p" && strings.HasPrefix(tag, "/") || name == "div" && strings.HasPrefix(tag, "/") || name == "tr" || name == "li":
			b.WriteByte('\n')
		}
		s = s[i+j+1:]
	}
	return b.String()
}

// cutText returns text cut after limit characters (runes), followed by a
// marker saying how many characters were left out.
//
// omitted is how many characters were cut off already while the body was
// read (graph.Body.Omitted); they count in the marker.
func cutText(text string, limit, omitted int) string {
	marker := func(rest int) string {
		return fmt.Sprintf("\n\n[… shortened by Mail Sync: %d more characters]", rest)
	}
	if limit <= 0 || utf8.RuneCountInString(text) <= limit {
		if omitted > 0 {
			return text + marker(omitted)
		}
		return text
	}
	n := 0
	for i := range text {
		if n == limit {
			return text[:i] + marker(utf8.RuneCountInString(text[i:])+omitted)
		}
		n++
	}
	return text
}

// messageIDOfNote returns the ledger key of the Message-ID of a note
// written by buildNote, or "" when it names none. ClientSuccess may give
// the note back as sent, HTML-escaped (again), with newlines turned into
// <br>, or with its tags stripped (lines run together or not): the note is
// read one layer of HTML at a time, and in the first layer that has one,
// the first "Message-ID: <…@…>" starting a line is taken. Only when no
// layer has one (the lines were run together) is the first anywhere taken.
// The header block comes before the body and the body is escaped one
// layer deeper, so a body quoting another message's headers is never taken
// for it.
func messageIDOfNote(note string) string {
	layers := []string{note}
	// Each layer of escaping needs one round; four cover a note escaped
	// three times over.
	for range 4 {
		last := layers[len(layers)-1]
		if !htmlMarker.MatchString(last) {
			break
		}
		layers = append(layers, htmlText(last))
	}
	for _, re := range []*regexp.Regexp{messageIDLine, messageIDAnywhere} {
		for _, l := range layers {
			if m := re.FindStringSubmatch(l); m != nil {
				return storage.LedgerKey(m[1])
			}
		}
	}
	return ""
}

var (
	// htmlMarker finds what only HTML holds: a block or line-break tag, or
	// an entity. "<paul@x>" is not one.
	htmlMarker = regexp.MustCompile(`(?i)<(br|p|div)(\s[^>]*)?/?>|</(p|div)\s*>|&(lt|gt|amp|quot|apos|nbsp|#\d+|#x[0-9a-f]+);`)
	// anyTag is a tag of HTML being read as text.
	anyTag = regexp.MustCompile(`<[^>]*>`)
	// messageIDLine is a Message-ID line of text, the id (as RFC 5322
	// writes it, with an @, in angle brackets as storage.LedgerKey writes
	// it) in group 1; messageIDAnywhere the same anywhere in the text.
	messageIDLine     = regexp.MustCompile(`(?im)^[ \t]*Message-ID:[ \t]*(<[^<>\s]*@[^<>\s]*>)`)
	messageIDAnywhere = regexp.MustCompile(`(?i)Message-ID:[ \t]*(<[^<>\s]*@[^<>\s]*>)`)
)

// htmlText reads one layer of HTML as text: line-break and block tags
// become newlines, other tags go, entities are decoded.
func htmlText(s string) string {
	s = anyTag.ReplaceAllStringFunc(s, func(tag string) string {
		if breakTag.MatchString(tag) {
			return "\n"
		}
		return ""
	})
	return html.UnescapeString(s)
}

var breakTag = regexp.MustCompile(`(?i)^</?(br|p|div|tr|li)(\s[^>]*)?/?>$`)
