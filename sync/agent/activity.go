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
// text (engine.Decisions: subject, people, clients, reason, result)
// contains the text.
func (a *Agent) Activity(_ context.Context, q agentapi.ActivityQuery) ([]engine.Decision, error) {
	show := strings.ToLower(strings.TrimSpace(q.Show))
	switch show {
	case agentapi.ShowAll, "all":
		show = agentapi.ShowAll
	case agentapi.ShowCopied, agentapi.ShowSkipped:
	default:
		return nil, problem(wordsUnknownFilter(q.Show), nil)
	}
	all, err := a.eng.Decisions(q.Text, 0)
	if err != nil {
		return nil, problem(wordsStateUnreadable, err)
	}
	out := []engine.Decision{}
	for _, d := range all {
		if show == agentapi.ShowCopied && !d.Synced || show == agentapi.ShowSkipped && d.Synced {
			continue
		}
		out = append(out, d)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
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
	m, err := a.meta(ctx)
	if err != nil {
		return err
	}
	if d.Received.Before(engine.WindowStart(m.ConnectedAt, m.LastSuccessStart, a.now())) {
		return problem(wordsTooOldToCopy, nil)
	}
	if err := a.store.LiftRule(d.Key, d.Reason, a.now()); err != nil {
		return problem(wordsStateUnwritable, err)
	}
	if !a.passAfterNow(ctx) {
		a.log.Debug("no pass asked for after copy anyway: syncing cannot run or is paused")
	}
	return nil
}

// passAfterNow asks for a pass that starts after this moment, so that it
// reads what was just recorded: a pass in flight started before and may
// not have, so another is asked for once it ends. It reports false when
// no pass can run (not set up, paused).
func (a *Agent) passAfterNow(ctx context.Context) bool {
	if a.canSync(ctx) != nil {
		return false
	}
	r, joined := a.sched.Request()
	if r == nil {
		return false
	}
	if joined {
		go func() {
			<-r.Done()
			a.sched.Request()
		}()
	}
	return true
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
