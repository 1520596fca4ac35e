package engine

import (
	"strings"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/graph"
)

// TestNoteMessageIDIsTheLedgerKey: the note, the ledger and the look-up
// after a crash use one normal form of the Message-ID, so an id with white
// space in it is found again instead of being posted twice.
func TestNoteMessageIDIsTheLedgerKey(t *testing.T) {
	for _, id := range []string{"<a b@x>", "<A\tB@X>", " <odd  id\n with space@x.org> ", "<plain@x.example>"} {
		m := &graph.Message{InternetMessageID: id, SentDateTime: time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC)}
		note := buildNote(m, graph.Body{ContentType: "text", Content: "hi"}, 0, time.UTC)
		if got, want := messageIDOfNote(note), storage.LedgerKey(id); got != want || want == "" {
			t.Errorf("%q: note gives %q, ledger files %q\n%s", id, got, want, note)
		}
	}
}

func TestMessageIDProblem(t *testing.T) {
	for id, want := range map[string]string{
		"<ok@x.example>": "",
		"":               reasonNoMessageID,
		"<no-at-sign>":   reasonBadMessageID,
		"<" + strings.Repeat("a", storage.MaxMessageIDLen) + "@x>": reasonLongMessageID,
	} {
		if got := messageIDProblem(storage.LedgerKey(id)); string(got) != want {
			t.Errorf("%.40q: %q, want %q", id, got, want)
		}
	}
}
