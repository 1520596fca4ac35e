package engine

import (
	"bufio"
	"fmt"
	"html"
	"strings"
	"time"
	"unicode/utf8"

	"mailsync/storage"
	"mailsync/sync/graph"
)

// DefaultNoteLimit is how many characters of a body go into a note when
// Engine.NoteLimit is 0. ClientSuccess notes are meant to be read on a
// timeline; a whole newsletter would bury the rest of it.
const DefaultNoteLimit = 20000

// noteDateLayout is the Date line of the header block (RFC 5322 style).
const noteDateLayout = "Mon, 02 Jan 2006 15:04:05 -0700"

// buildNote is the note of an Email interaction: a header block (From, To,
// Cc, Date, Message-ID), a blank line, then the text body cut at limit
// characters with a marker saying how much was left out. The Message-ID line
// is how a pending upload is found again after a crash (see messageIDOfNote).
func buildNote(m *graph.Message, body graph.Body, limit int) string {
	var b strings.Builder
	if m.From != nil {
		fmt.Fprintf(&b, "From: %s\n", headerValue(formatRecipients([]graph.Recipient{*m.From})))
	}
	if len(m.ToRecipients) > 0 {
		fmt.Fprintf(&b, "To: %s\n", headerValue(formatRecipients(m.ToRecipients)))
	}
	if len(m.CcRecipients) > 0 {
		fmt.Fprintf(&b, "Cc: %s\n", headerValue(formatRecipients(m.CcRecipients)))
	}
	fmt.Fprintf(&b, "Date: %s\n", interactionDate(m).Format(noteDateLayout))
	fmt.Fprintf(&b, "Message-ID: %s\n\n", headerValue(m.InternetMessageID))
	b.WriteString(cutText(bodyText(body), limit))
	return b.String()
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

// headerValue keeps a header on one line: a display name holding a line
// break must not be able to forge a Message-ID line.
func headerValue(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

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
func cutText(text string, limit int) string {
	if limit <= 0 || utf8.RuneCountInString(text) <= limit {
		return text
	}
	n := 0
	for i := range text {
		if n == limit {
			rest := utf8.RuneCountInString(text[i:])
			return text[:i] + fmt.Sprintf("\n\n[… shortened by Mail Sync: %d more characters]", rest)
		}
		n++
	}
	return text
}

// messageIDOfNote returns the ledger key of the Message-ID line in the
// header block of a note written by buildNote, or "" when it has none.
// Only the header block (up to the first blank line) is read, so a body
// quoting another message's headers is never mistaken for it.
func messageIDOfNote(note string) string {
	sc := bufio.NewScanner(strings.NewReader(note))
	sc.Buffer(make([]byte, 0, 4096), len(note)+1)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			return ""
		}
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "Message-ID") {
			return storage.LedgerKey(value)
		}
	}
	return ""
}
