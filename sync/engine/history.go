package engine

import (
	"context"
	"fmt"
	"time"

	"mailsync/storage"
	"mailsync/sync/graph"
	"mailsync/sync/match"
)

// A contact added in ClientSuccess gets their recent history when the
// person chose so (match.Settings.HistoryDays): the mail of the last N days
// that involves them is copied, not only what the 24-hour window still
// holds.
//
// How that mail is read: Graph has no reliable way to list one address's
// mail over a date range (docs/evidence.md, "Reading one address's mail"):
// $filter on the recipients is refused; $search cannot be combined with a
// date $filter, caps its results, and reads a search index whose delay is
// not documented. So a pass
// whose directory refresh saw contacts appear (storage.Newcomers) lists
// from N days back instead of from its window start, in the same single
// listing by receivedDateTime every pass makes: one read covers both. The
// messages older than the window are decided against the newcomers only,
// by the same rules as every message (folders, classes, private,
// blocklist, internal, participants), and copied exactly once through the
// ledger like the rest; the others are left alone, as they were decided
// while they were in the window.

// HistoryLedgerKept is how long before the pass start the ledger keeps a
// message at least, as a contact's history may reach that far back: a
// message copied for one newcomer must still be found in the ledger when
// another contact of the same client, added later, names it too.
const HistoryLedgerKept = (match.MaxHistoryDays + 1) * 24 * time.Hour

// legacyLedgerKept is how long past their window start the versions that
// did not record storage.LedgerForgotBefore kept ledger entries.
const legacyLedgerKept = 30 * 24 * time.Hour

// history is what a pass copies for the contacts that appeared in the
// directory since the last successful pass.
type history struct {
	// newcomers are the contacts the directory kept for this
	// (storage.Newcomers); the pass drops them once it succeeded, whether
	// it copied their history or the option was off.
	newcomers []storage.Newcomer
	// start is the oldest receivedDateTime copied for them; zero when
	// nothing older than the window is read.
	start time.Time
	// contacts are the newcomers still in the directory, by address.
	contacts map[string][]match.Contact
}

// loadHistory reads the newcomers and, when the person asked for their
// history and it reaches before the window, where the pass lists from. m
// is the state as the pass started.
func (p *pass) loadHistory(m storage.Meta) error {
	ns, err := p.e.Store.Newcomers()
	if err != nil {
		return fmt.Errorf("engine: read the contacts added since the last sync: %w", err)
	}
	p.hist.newcomers = ns
	back := p.settings.History()
	if len(ns) == 0 || back == 0 || p.lookups {
		return nil
	}
	start := p.start.Add(-back)
	// Never before what the ledger may have forgotten: such a message
	// could have been copied already (see ledgerForgot).
	forgot, err := p.e.ledgerForgot(m)
	if err != nil {
		return err
	}
	if start.Before(forgot) {
		start = forgot
	}
	if !start.Before(p.window) {
		return nil
	}
	ids := map[int64]bool{}
	var addrs []string
	for _, n := range ns {
		ids[n.Contact.ID] = true
		addrs = append(addrs, n.Contact.Email)
	}
	// Only newcomers the directory still holds as they are now: one
	// removed since, or changed again, is not copied on an old address.
	found, err := p.e.Store.LookupContacts(addrs)
	if err != nil {
		return fmt.Errorf("engine: read the contact directory: %w", err)
	}
	kept := map[string][]storage.DirectoryContact{}
	for a, cs := range found {
		for _, c := range cs {
			if ids[c.ID] {
				kept[a] = append(kept[a], c)
			}
		}
	}
	if len(kept) == 0 {
		return nil
	}
	p.hist.start = start
	p.hist.contacts = toMatch(kept)
	p.log.Info("copying the recent mail of contacts added in ClientSuccess", "contacts", len(ns), "since", start)
	return nil
}

// listSince is where the pass lists from: its window start, or the start
// of the newcomers' history when that is earlier.
func (p *pass) listSince() time.Time {
	if !p.hist.start.IsZero() && p.hist.start.Before(p.window) {
		return p.hist.start
	}
	return p.window
}

// splitHistory splits a listed page into the messages of the window and
// the older ones that name a newcomer in From, To or Cc; the other older
// messages are dropped (they were decided in their time). Without a
// history to copy, every message is the window's.
func (p *pass) splitHistory(page []graph.Message) (window, older []graph.Message) {
	if p.hist.start.IsZero() {
		return page, nil
	}
	for i := range page {
		m := &page[i]
		switch {
		case !m.ReceivedDateTime.Before(p.window):
			window = append(window, *m)
		case p.namesNewcomer(m):
			older = append(older, *m)
		}
	}
	return window, older
}

// namesNewcomer reports whether a newcomer is in m's From, To or Cc.
func (p *pass) namesNewcomer(m *graph.Message) bool {
	rs := append(append([]graph.Recipient(nil), m.ToRecipients...), m.CcRecipients...)
	if m.From != nil {
		rs = append(rs, *m.From)
	}
	for _, r := range rs {
		if a, ok := match.NormalizeAddress(r.EmailAddress.Address); ok && len(p.hist.contacts[a]) > 0 {
			return true
		}
	}
	return false
}

// historyInput is how the older messages are decided: by the same rules,
// from the history's start, with the newcomers as the only contacts.
func (p *pass) historyInput() match.Input {
	return match.Input{
		Me: p.me, Excluded: p.excluded, WindowStart: p.hist.start, Settings: p.settings,
		Contacts: func(a string) []match.Contact { return p.hist.contacts[a] },
	}
}

// dropNewcomers forgets the newcomers this pass read, after it succeeded.
// Should that fail, the next pass reads their history again and finds what
// was copied in the ledger.
func (p *pass) dropNewcomers() {
	if err := p.e.Store.DropNewcomers(p.hist.newcomers); err != nil {
		p.log.Warn("forget the contacts added since the last sync", "err", err)
	}
}

// decideOlder decides the listed messages older than the window that name
// a newcomer, by the same rules as every message, with the newcomers as
// the only contacts (see historyInput); a message listed without its class
// or sensitivity is asked for them first, as in the window.
func (p *pass) decideOlder(ctx context.Context, older []graph.Message) ([]item, error) {
	in := p.historyInput()
	items := make([]item, len(older))
	for i := range older {
		m := &older[i]
		rules := MatchMessage(m)
		in.Msg = &rules
		d := match.Decide(in)
		it := item{msg: m, d: d, key: storage.LedgerKey(m.InternetMessageID)}
		if why := messageIDProblem(it.key); d.Taken() && why != "" {
			it.d = match.Decision{Reason: why, Counterpart: d.Counterpart}
		}
		items[i] = it
	}
	if err := p.unknownFacts(ctx, in, items); err != nil {
		return nil, err
	}
	return items, nil
}
