package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"mailsync/storage"
	"mailsync/sync/match"
	"mailsync/sync/printable"
)

// recordDecisions counts the page's outcomes and records one Decision per
// message in one transaction. A message decided again on a later pass
// replaces its record; a copy of a message that was synced never hides
// that it was (e.g. the same message also sitting in Junk).
func (p *pass) recordDecisions(ctx context.Context, items []item) error {
	now := p.e.now()
	var ids []int64
	for i := range items {
		// The messages shown as synced below.
		if items[i].d.Taken() && (items[i].uploaded > 0 || items[i].failed == "") {
			ids = append(ids, items[i].d.ClientIDs()...)
		}
	}
	p.clientNames(ctx, ids)
	var syncedKeys []string
	for i := range items {
		if items[i].key != "" && items[i].d.Taken() {
			syncedKeys = append(syncedKeys, items[i].key)
		}
	}
	uploads, err := p.e.Store.LedgerUploads(p.account, syncedKeys)
	if err != nil {
		return fmt.Errorf("engine: record decisions: %w", err)
	}
	recs := make([]decisionRecord, len(items))
	for i := range items {
		it := &items[i]
		m := it.msg
		d := Decision{
			Time:         now,
			Received:     m.ReceivedDateTime,
			MessageID:    m.InternetMessageID,
			Subject:      m.Subject,
			Counterpart:  it.d.Counterpart,
			Key:          it.key,
			Participants: it.parts,
			Folder:       it.folder,
			Verdicts:     it.verdicts,
		}
		if d.Key == "" {
			d.Key = "graph:" + m.ID
		}
		if it.rules != nil {
			for _, r := range it.rules.Lifted {
				d.Lifted = append(d.Lifted, string(r))
			}
		}
		switch {
		case !it.d.Taken():
			d.Reason = string(it.d.Reason)
			p.counts.Skipped[d.Reason]++
		case it.uploaded > 0:
			p.counts.Synced++
			d.Synced = true
		case it.failed != "":
			d.Reason = it.failed
			p.counts.Skipped[d.Reason]++
		default:
			p.counts.Already++
			d.Synced = true
		}
		if d.Synced {
			for _, id := range it.d.ClientIDs() {
				name := p.clientName(ctx, id)
				d.Clients = append(d.Clients, name)
				c := Copy{ClientID: id, Client: name}
				for _, u := range uploads[it.key] {
					if u.ClientID == id {
						c.InteractionID = u.InteractionID
					}
				}
				d.Copies = append(d.Copies, c)
			}
		}
		d.printableText()
		// The facts the rules read, so that a change of the options can
		// decide again at once without asking Microsoft (Redecide).
		facts := MatchMessage(m)
		if it.rules != nil {
			facts.Lifted = it.rules.Lifted
		}
		recs[i] = decisionRecord{Decision: d, Facts: &facts}
	}
	out := make([]storage.DecisionRecord, len(recs))
	for i, d := range recs {
		id := items[i].key
		if id == "" {
			id = d.Key
		}
		raw, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("engine: record decisions: %w", err)
		}
		out[i] = storage.DecisionRecord{Received: d.Received, ID: id, JSON: raw}
		if !d.Synced {
			out[i].Replaces = notSynced
		}
	}
	if err := p.e.Store.RecordDecisions(out, DecisionsKept); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

// Decisions returns the recorded decisions, newest message first, keeping
// those whose subject, counterpart, client names, reason or result
// (Result: "Copied to …", "Skipped: …") contain query (case-insensitive;
// "" keeps all), at most limit of them (0: all kept).
func (e *Engine) Decisions(query string, limit int) ([]Decision, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	var out []Decision
	var derr error
	err := e.Store.Decisions(func(raw []byte) bool {
		var r decisionRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			derr = fmt.Errorf("engine: read decision: %w", err)
			return false
		}
		// Records written before their text was made printable are
		// shown printable too.
		d := r.Decision
		d.printableText()
		if q == "" || d.matches(q) {
			out = append(out, d)
		}
		return limit <= 0 || len(out) < limit
	})
	if err == nil {
		err = derr
	}
	return out, err
}

// decisionRecord is a Decision as the state file keeps it: with the facts
// of the message the rules read (none in records of earlier versions).
type decisionRecord struct {
	Decision
	Facts *match.Message `json:"facts,omitempty"`
}

// Result is what became of the message, as the Activity list says it:
// "Copied to ACME Corp, Globex" or "Skipped: no contact".
func (d Decision) Result() string {
	switch {
	case d.Synced && len(d.Clients) == 0:
		return ResultCopied
	case d.Synced:
		return ResultCopied + " to " + strings.Join(d.Clients, ", ")
	case d.Waiting:
		return ResultWaiting
	case d.Reason == "":
		return ResultSkipped + ": no reason recorded"
	}
	return ResultSkipped + ": " + d.Reason
}

func (d Decision) matches(q string) bool {
	// "synced" is what a person may call it: the product is Mail Sync.
	if strings.Contains(strings.ToLower(d.Result()), q) || d.Synced && strings.Contains("synced", q) {
		return true
	}
	if strings.Contains(strings.ToLower(d.Subject), q) ||
		strings.Contains(strings.ToLower(d.Counterpart), q) ||
		strings.Contains(strings.ToLower(d.Reason), q) {
		return true
	}
	for _, c := range d.Clients {
		if strings.Contains(strings.ToLower(c), q) {
			return true
		}
	}
	for _, p := range d.Participants {
		if strings.Contains(strings.ToLower(p.Name), q) || strings.Contains(p.Address, q) {
			return true
		}
	}
	return false
}

// notSynced reports whether a recorded decision says its message was not
// synced: only then may a skip replace it.
func notSynced(old []byte) bool {
	var prev Decision
	return json.Unmarshal(old, &prev) != nil || !prev.Synced
}

// printableText removes control characters from the text of d shown to a
// person, which comes from the message (subject, counterpart), from
// ClientSuccess (client names) or from an error (reason): printable.Text.
// MessageID is an identity, not shown, and stays as it is.
func (d *Decision) printableText() {
	d.Subject = printable.Text(d.Subject)
	d.Counterpart = printable.Text(d.Counterpart)
	d.Reason = printable.Text(d.Reason)
	for i, c := range d.Clients {
		d.Clients[i] = printable.Text(c)
	}
	for i := range d.Copies {
		d.Copies[i].Client = printable.Text(d.Copies[i].Client)
	}
	for i := range d.Participants {
		d.Participants[i].Name = printable.Text(d.Participants[i].Name)
	}
}

// ParticipantsKept is how many of a message's participants its decision
// keeps for Activity's details: a message to a large list would otherwise
// make every record of it large. Those outside the organisation who are
// not contacts (the ones Add as contact is offered for) are kept first.
const ParticipantsKept = 50

// keptParticipants is ps cut to ParticipantsKept, in their order, keeping
// the outside addresses that are not contacts before the others.
func keptParticipants(ps []match.Participant) []match.Participant {
	if len(ps) <= ParticipantsKept {
		return ps
	}
	keep := map[int]bool{}
	for pass := 0; pass < 2 && len(keep) < ParticipantsKept; pass++ {
		for i, p := range ps {
			outside := !p.You && !p.Internal && !p.Contact
			if len(keep) < ParticipantsKept && outside == (pass == 0) {
				keep[i] = true
			}
		}
	}
	out := make([]match.Participant, 0, ParticipantsKept)
	for i, p := range ps {
		if keep[i] {
			out = append(out, p)
		}
	}
	return out
}
