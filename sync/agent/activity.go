package agent

import (
	"context"
	"errors"
	"strings"

	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
	"mailsync/sync/match"
)

// Activity implements agentapi.API: the recorded decisions, newest email
// first whatever became of it, copied or skipped or both, those whose
// subject, people, clients, reason or outcome ("copied", "skipped")
// contain the text.
func (a *Agent) Activity(_ context.Context, q agentapi.ActivityQuery) ([]engine.Decision, error) {
	show := strings.ToLower(strings.TrimSpace(q.Show))
	switch show {
	case agentapi.ShowAll, "all":
		show = agentapi.ShowAll
	case agentapi.ShowCopied, agentapi.ShowSkipped:
	default:
		return nil, problem(wordsUnknownFilter(q.Show), nil)
	}
	all, err := a.eng.Decisions("", 0)
	if err != nil {
		return nil, problem(wordsStateUnreadable, err)
	}
	text := strings.ToLower(strings.TrimSpace(q.Text))
	out := []engine.Decision{}
	for _, d := range all {
		switch {
		case show == agentapi.ShowCopied && !d.Synced, show == agentapi.ShowSkipped && d.Synced:
			continue
		case text != "" && !strings.Contains(rowText(d), text):
			continue
		}
		out = append(out, d)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// rowText is everything of d a search looks in, lower-case.
func rowText(d engine.Decision) string {
	parts := []string{d.Subject, d.Counterpart, d.Reason, strings.Join(d.Clients, " "), Outcome(d)}
	for _, p := range d.Participants {
		parts = append(parts, p.Name, p.Address)
	}
	return strings.ToLower(strings.Join(parts, "\n"))
}

// BlockAddress implements agentapi.API: the entry goes through the rule
// Options uses (match.BlockFor, then SetSettings as Options saves).
func (a *Agent) BlockAddress(ctx context.Context, address string, wholeDomain bool) (string, error) {
	entry, ok := match.BlockFor(address, wholeDomain)
	if !ok {
		return "", errNotAnAddress(address)
	}
	s, err := a.Settings(ctx)
	if err != nil {
		return "", err
	}
	list, added := match.AddBlock(s.Rules.Blocklist, entry)
	if !added {
		return entry, nil
	}
	s.Rules.Blocklist = list
	if err := a.SetSettings(ctx, s); err != nil {
		return "", err
	}
	return entry, nil
}

// CopyAnyway implements agentapi.API. Only a rule the person chose can be
// lifted (match.Liftable); the choice is kept in the state file, so later
// passes honour it, and a pass copies the email now.
func (a *Agent) CopyAnyway(ctx context.Context, key string) error {
	d, err := a.decision(key)
	if err != nil {
		return err
	}
	switch {
	case d.Synced:
		return problem(wordsAlreadyCopied, nil)
	case !match.Liftable(match.Reason(d.Reason)):
		return problem(wordsNotLiftable(d.Reason), nil)
	case strings.HasPrefix(d.Key, "graph:"):
		// Without a Message-ID nothing can be copied exactly once.
		return problem(wordsNotLiftable(d.Reason), nil)
	}
	m, err := a.store.Meta()
	if err != nil {
		return problem(wordsStateUnreadable, err)
	}
	if d.Received.Before(engine.WindowStart(m.ConnectedAt, m.LastSuccessStart, a.now())) {
		return problem(wordsTooOldToCopy, nil)
	}
	if err := a.store.LiftRule(d.Key, d.Reason, a.now()); err != nil {
		return problem(wordsStateUnwritable, err)
	}
	if err := a.SyncNow(ctx); err != nil {
		a.log.Debug("no pass asked for after copy anyway", "err", err)
	}
	return nil
}

// decision is the recorded decision with Key key.
func (a *Agent) decision(key string) (engine.Decision, error) {
	ds, err := a.eng.Decisions("", 0)
	if err != nil {
		return engine.Decision{}, problem(wordsStateUnreadable, err)
	}
	for _, d := range ds {
		if d.Key == key && key != "" {
			return d, nil
		}
	}
	return engine.Decision{}, problem(wordsNoSuchEmail, errors.New("agent: no decision with that key"))
}

// Outcome is a decision's outcome in the words Activity, the tray and the
// command line use: "Copied to Acme" or "Skipped: no ClientSuccess
// contact".
func Outcome(d engine.Decision) string {
	if d.Synced {
		if len(d.Clients) == 0 {
			return "Copied"
		}
		return "Copied to " + strings.Join(d.Clients, ", ")
	}
	r := d.Reason
	if r == "" {
		r = "no reason recorded"
	}
	return "Skipped: " + r
}
