package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"mailsync/storage"
	"mailsync/sync/graph"
	"mailsync/sync/match"
)

// Redecide decides again, at once and without asking Microsoft or
// ClientSuccess, the recorded decisions of the messages still in the
// window, with the options in force now (a change of the blocklist,
// internal mail or the private category): the rules run over the facts
// recorded with each decision, the user's cached profile and folders and
// the contacts known locally. It returns how many rows of Activity
// changed.
//
// Nothing is uploaded here: a message copied stays copied (the row keeps
// saying so); a skipped message the options no longer skip becomes
// Waiting, which the next sync copies or skips for good. Records without
// facts (from an earlier version), and everything when the profile or
// the folders are not cached yet, are left for the next sync: nothing is
// decided on a guess.
func (e *Engine) Redecide(now time.Time) (int, error) {
	st := e.Store
	settings := match.DefaultSettings()
	if err := st.Rules(&settings); err != nil {
		return 0, fmt.Errorf("engine: decide again: read settings: %w", err)
	}
	if e.Rules != nil {
		e.Rules(&settings)
	}
	var me graph.Me
	var folders []graph.ExcludedFolder
	if _, err := st.GetCached(storage.Profile, &me); errors.Is(err, storage.ErrNotFound) || err == nil && len(me.Addresses()) == 0 {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("engine: decide again: read the profile: %w", err)
	}
	if _, err := st.GetCached(storage.ExcludedFolders, &folders); errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	} else if err != nil {
		// A cache of an earlier shape: the next sync reads them again.
		return 0, nil
	}
	m, err := st.Meta()
	if err != nil {
		return 0, fmt.Errorf("engine: decide again: %w", err)
	}
	if m.ConnectedAt.IsZero() {
		return 0, nil
	}
	in := match.Input{Me: match.NewMe(me.Addresses()), Excluded: excludedFolders(folders),
		WindowStart: WindowStart(m.ConnectedAt, m.LastSuccessStart, now), Settings: settings}

	type row struct {
		key, raw []byte
		rec      decisionRecord
	}
	var rows []row
	var addrs []string
	seen := map[string]bool{}
	var rerr error
	if err := st.DecisionsSince(in.WindowStart, func(key, raw []byte) bool {
		var r decisionRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			rerr = fmt.Errorf("engine: decide again: read decision: %w", err)
			return false
		}
		// A message copied stays copied, whatever the options say now.
		if r.Facts == nil || r.Synced {
			return true
		}
		rows = append(rows, row{key: append([]byte(nil), key...), raw: append([]byte(nil), raw...), rec: r})
		in.Msg = r.Facts
		for _, a := range match.Lookups(in) {
			if !seen[a] {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
		return true
	}); err != nil {
		return 0, fmt.Errorf("engine: decide again: %w", err)
	}
	if rerr != nil {
		return 0, rerr
	}
	contacts, err := e.localContacts(addrs)
	if err != nil {
		return 0, fmt.Errorf("engine: decide again: %w", err)
	}
	in.Contacts = func(a string) []match.Contact { return contacts[a] }

	var changes []storage.DecisionChange
	for _, r := range rows {
		in.Msg = r.rec.Facts
		d := match.Decide(in)
		next := r.rec
		next.Waiting = d.Taken() || len(d.Wanted) > 0
		next.Reason = ""
		if !next.Waiting {
			next.Reason = string(d.Reason)
		}
		if next.Waiting == r.rec.Waiting && next.Reason == r.rec.Reason {
			continue
		}
		// Only what the options decide changes: a skip for another
		// reason (a folder, a body that could not be read, an upload
		// refused) stays until a sync decides it again.
		if !r.rec.Waiting && !optionsDecide(r.rec.Reason) && !optionsDecide(next.Reason) {
			continue
		}
		next.Time = now
		if len(next.Verdicts) > 0 {
			next.Verdicts = match.Explain(in)
		}
		raw, err := json.Marshal(next)
		if err != nil {
			return 0, fmt.Errorf("engine: decide again: %w", err)
		}
		changes = append(changes, storage.DecisionChange{Key: r.key, Old: r.raw, New: raw})
	}
	if len(changes) == 0 {
		return 0, nil
	}
	n, err := st.ReplaceDecisions(changes)
	if err != nil {
		return 0, fmt.Errorf("engine: decide again: %w", err)
	}
	e.logger().Info("decided again after a change of the options", "rows", n)
	return n, nil
}

// localContacts are the contacts of addrs that the state file knows: the
// directory, and the addresses looked up one by one, however old.
func (e *Engine) localContacts(addrs []string) (map[string][]match.Contact, error) {
	found, err := e.Store.LookupContacts(addrs)
	if err != nil {
		return nil, fmt.Errorf("read the contact directory: %w", err)
	}
	checks, err := e.Store.AddressChecks(addrs)
	if err != nil {
		return nil, fmt.Errorf("read the contact look-ups: %w", err)
	}
	for a, c := range checks {
		if _, ok := found[a]; !ok && len(c.Contacts) > 0 {
			found[a] = c.Contacts
		}
	}
	return toMatch(found), nil
}

// optionsDecide reports whether reason is one the options decide, or the
// one they leave when they no longer skip a message nobody known is in.
func optionsDecide(reason string) bool {
	switch match.Reason(reason) {
	case match.Blocked, match.Internal, match.Private, match.SensitivityPrivate,
		match.SensitivityConfidential, match.SensitivityUnknown, match.NoContact:
		return true
	}
	return false
}
