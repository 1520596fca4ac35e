package agent

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"mailsync/storage"
	"mailsync/sync/agentapi"
	"mailsync/sync/match"
	"mailsync/sync/setup"
	"mailsync/sync/words"
)

// resolved is the Microsoft app, authority and ClientSuccess API in force:
// the policy over the environment (cfg) over what the person set over the
// build's app ID and the defaults. A state that cannot be read counts as
// nothing set (and is logged).
func (a *Agent) resolved() setup.Resolved {
	var person setup.Values
	if err := a.store.Setup(&person); err != nil {
		a.log.Warn("could not read the setup", "err", err)
		person = setup.Values{}
	}
	return setup.Resolve(a.cfg.Policy.Values, a.cfg.envLayer(), person, BuildClientID)
}

// Setup implements agentapi.API.
func (a *Agent) Setup(context.Context) (agentapi.Setup, error) {
	var person setup.Values
	if err := a.store.Setup(&person); err != nil {
		return agentapi.Setup{}, problem(setupUnreadable, err)
	}
	r := setup.Resolve(a.cfg.Policy.Values, a.cfg.envLayer(), person, BuildClientID)
	return agentapi.Setup{
		Fields:          r.Fields,
		ClientIDBuiltIn: BuildClientID != "",
		PolicyProblems:  a.cfg.Policy.Problems,
		Version:         Version,
	}, nil
}

// LockedError is the refusal to change a value the organisation sets.
type LockedError struct{ Key string }

func (e LockedError) Error() string {
	return fmt.Sprintf(setByPolicy, e.Key)
}

// InvalidError is a value that is not valid for its key.
type InvalidError struct {
	Key string
	Err error
}

func (e InvalidError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e InvalidError) Unwrap() error { return e.Err }

// CheckSetup checks every change of values (key to value, "" to unset)
// against what the policy p locks, and returns the changes in their usual
// form. The error names the first key refused, in setup.Keys order.
func CheckSetup(p setup.Values, values map[string]string) (map[string]string, error) {
	for k := range values {
		if !slices.Contains(setup.Keys, k) {
			return nil, words.New(fmt.Sprintf(noSuchSetting, k, strings.Join(setup.Keys, ", ")))
		}
	}
	out := map[string]string{}
	for _, k := range setup.Keys {
		v, ok := values[k]
		if !ok {
			continue
		}
		if p.Get(k) != "" {
			return nil, LockedError{Key: k}
		}
		if strings.TrimSpace(v) == "" {
			out[k] = ""
			continue
		}
		norm, err := setup.Check(k, v)
		if err != nil {
			return nil, InvalidError{Key: k, Err: err}
		}
		out[k] = norm
	}
	return out, nil
}

// SetSetup implements agentapi.API. The sign-in and ClientSuccess clients
// in use are forgotten, so the next pass uses the new values (a pass in
// flight finishes with those it has).
func (a *Agent) SetSetup(ctx context.Context, values map[string]string) error {
	changes, err := CheckSetup(a.cfg.Policy.Values, values)
	if err != nil {
		return err
	}
	return a.do(ctx, func(s *loopState) error {
		var person setup.Values
		if err := a.store.Setup(&person); err != nil {
			return problem(setupUnreadable, err)
		}
		for k, v := range changes {
			person = person.With(k, v)
		}
		if err := a.store.SaveSetup(person); err != nil {
			return problem(setupNotSaved, err)
		}
		s.tokens, s.tokensFor = nil, ""
		s.crmAPI, s.crmFor = nil, ""
		s.mem.SetupSaves++
		s.publish()
		a.log.Info("setup changed", "keys", strings.Join(slices.Sorted(maps.Keys(changes)), ","))
		return nil
	})
}

// applyPolicy puts the organisation's rules over the person's: a locked
// option takes the policy's value, the policy's blocklist is added.
func (a *Agent) applyPolicy(s *match.Settings) {
	p := a.cfg.Policy
	if p.IgnoreInternal != nil {
		s.IgnoreInternal = *p.IgnoreInternal
	}
	if p.HistoryDays != nil {
		s.HistoryDays = *p.HistoryDays
	}
	for _, e := range p.Blocklist {
		if !slices.Contains(s.Blocklist, e) {
			s.Blocklist = append(s.Blocklist, e)
		}
	}
}

// policyRules is what the policy sets of the options, or nil.
func (a *Agent) policyRules() *agentapi.PolicyRules {
	p := a.cfg.Policy
	if p.IgnoreInternal == nil && p.StartAtLogin == nil && len(p.Blocklist) == 0 && p.HistoryDays == nil {
		return nil
	}
	return &agentapi.PolicyRules{IgnoreInternal: p.IgnoreInternal, StartAtLogin: p.StartAtLogin, Blocklist: slices.Clone(p.Blocklist), HistoryDays: p.HistoryDays}
}

// reportPolicy logs the organisation's policy: what it sets and what of it
// was ignored.
func (a *Agent) reportPolicy() {
	p := a.cfg.Policy
	if p.Source == "" {
		return
	}
	var set []string
	for _, f := range setup.Resolve(p.Values, setup.Env{}, setup.Values{}, "").Fields {
		if f.Source == setup.FromPolicy {
			set = append(set, f.Key)
		}
	}
	if p.IgnoreInternal != nil {
		set = append(set, "ignoreInternal")
	}
	if p.StartAtLogin != nil {
		set = append(set, "startAtLogin")
	}
	if len(p.Blocklist) > 0 {
		set = append(set, "blocklist")
	}
	if p.HistoryDays != nil {
		set = append(set, "historyDays")
	}
	a.log.Info("organization policy", "source", p.Source, "sets", strings.Join(set, ","))
	for _, pr := range p.Problems {
		a.log.Warn("organization policy value ignored", "problem", pr)
	}
}

// enforceStartAtLogin makes the login item what the policy says once Mail
// Sync is connected (before that, none exists whatever is chosen).
func (a *Agent) enforceStartAtLogin(m storage.Meta) {
	want := a.cfg.Policy.StartAtLogin
	if want == nil || m.ConnectedAt.IsZero() || a.hooks.SetAutostart == nil || a.hooks.Autostart == nil {
		return
	}
	if on, err := a.hooks.Autostart(); err == nil && on == *want {
		return
	}
	if err := a.hooks.SetAutostart(*want); err != nil {
		a.log.Warn("could not make start at login what the organization's policy says", "err", err)
	}
}

// storedAppSettings is what the person chose for the app (start at login
// is on unless turned off), whatever is installed right now.
func (a *Agent) storedAppSettings() (storage.AppSettings, error) {
	return a.store.AppSettings()
}

// Settings implements agentapi.API: the options in force (a policy's
// lock shows its value) and the person's own blocklist, with what the
// policy sets apart.
func (a *Agent) Settings(context.Context) (agentapi.Settings, error) {
	rules := match.DefaultSettings()
	if err := a.store.Rules(&rules); err != nil {
		return agentapi.Settings{}, err
	}
	app, err := a.storedAppSettings()
	if err != nil {
		return agentapi.Settings{}, err
	}
	// What the box shows is what is installed, at every moment: before
	// the first run turned it on, and after the person removed the login
	// item by other means, it is off.
	if a.hooks.Autostart != nil {
		if on, err := a.hooks.Autostart(); err == nil {
			app.StartAtLogin = on
		}
	}
	p := a.cfg.Policy
	if p.IgnoreInternal != nil {
		rules.IgnoreInternal = *p.IgnoreInternal
	}
	if p.HistoryDays != nil {
		rules.HistoryDays = *p.HistoryDays
	}
	if p.StartAtLogin != nil {
		app.StartAtLogin = *p.StartAtLogin
	}
	return agentapi.Settings{Rules: rules, StartAtLogin: app.StartAtLogin, Policy: a.policyRules()}, nil
}

// StartAtLoginOnFirstRun installs the login item on the first run of the
// agent, before anyone chose (start at login is on by default), and records
// the choice, so that from the first moment the Options box is ticked only
// when Mail Sync does start at login. Later runs leave the person's choice
// alone. The agent process calls it once when it starts; commands that run
// in-process do not install anything.
func (a *Agent) StartAtLoginOnFirstRun() error {
	if a.hooks.SetAutostart == nil {
		return nil
	}
	chosen, err := a.store.AppSettingsChosen()
	if err != nil || chosen {
		return err
	}
	rules := match.DefaultSettings()
	if err := a.store.Rules(&rules); err != nil {
		return err
	}
	if err := a.hooks.SetAutostart(true); err != nil {
		return problem(autostartOnFailed, err)
	}
	return a.store.SaveSettings(rules, storage.AppSettings{StartAtLogin: true})
}

// SetSettings implements agentapi.API. The blocklist is checked first: a
// line that is neither an address nor @domain is refused with its text, and
// nothing is saved. An option the policy locks keeps the person's own
// stored choice (it applies again should the policy go); s.Policy is
// ignored.
func (a *Agent) SetSettings(ctx context.Context, s agentapi.Settings) error {
	list, err := CleanBlocklist(s.Rules.Blocklist)
	if err != nil {
		return err
	}
	s.Rules.Blocklist = list
	if d := s.Rules.HistoryDays; d < 0 || d > match.MaxHistoryDays {
		return words.New(fmt.Sprintf(historyTooLong, match.MaxHistoryDays))
	}
	// An op, so that changes come one after the other; the login item is
	// changed on the op's goroutine, never on the loop.
	return a.runOp(ctx, op{run: func(ctx context.Context) error { return a.saveSettings(ctx, s) }})
}

// saveSettings is SetSettings's op, with s checked.
func (a *Agent) saveSettings(ctx context.Context, s agentapi.Settings) error {
	if strings.TrimSpace(s.Rules.PrivateCategory) == "" {
		s.Rules.PrivateCategory = match.DefaultSettings().PrivateCategory
	}
	before, err := a.Settings(ctx)
	if err != nil {
		return err
	}
	p := a.cfg.Policy
	if p.IgnoreInternal != nil || p.StartAtLogin != nil || p.HistoryDays != nil {
		own := match.DefaultSettings()
		if err := a.store.Rules(&own); err != nil {
			return err
		}
		app, err := a.storedAppSettings()
		if err != nil {
			return err
		}
		if p.IgnoreInternal != nil {
			s.Rules.IgnoreInternal = own.IgnoreInternal
		}
		if p.HistoryDays != nil {
			s.Rules.HistoryDays = own.HistoryDays
		}
		if p.StartAtLogin != nil {
			s.StartAtLogin, before.StartAtLogin = app.StartAtLogin, app.StartAtLogin
		}
	}
	if s.StartAtLogin != before.StartAtLogin && a.hooks.SetAutostart != nil {
		if err := a.hooks.SetAutostart(s.StartAtLogin); err != nil {
			return problem(autostartChangeFailed, err)
		}
	}
	if err := a.store.SaveSettings(s.Rules, storage.AppSettings{StartAtLogin: s.StartAtLogin}); err != nil {
		return err
	}
	a.redecide()
	return nil
}

// CleanBlocklist reads blocklist entries with match.CleanBlocklist,
// dropping blanks and duplicates. An entry that is neither an address nor
// @domain is an error naming it.
func CleanBlocklist(in []string) ([]string, error) {
	out, badLines := match.CleanBlocklist(in)
	if len(badLines) > 0 {
		bad := make([]string, len(badLines))
		for i, b := range badLines {
			bad[i] = b.Text
		}
		return nil, words.New(fmt.Sprintf(blocklistNotAddresses, strings.Join(bad, ", ")))
	}
	return out, nil
}
