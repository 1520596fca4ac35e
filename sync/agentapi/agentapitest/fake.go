// Package agentapitest holds Fake, an agentapi.API in memory that behaves
// like the agent as far as a client can tell, for the tests of the
// settings window, of the local API and of the command line, and for the
// pictures of the window.
package agentapitest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"mailsync/storage"
	"mailsync/sync/agentapi"
	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/match"
	"mailsync/sync/setup"
)

// State is what a Fake answers and what it was asked. A test sets it
// before the fake is in use, or inside Do while it is.
type State struct {
	// Status is what Status answers and Watch sends first; Publish and
	// Update change it and send it to every watcher.
	Status    engine.Status
	Settings  agentapi.Settings
	Setup     agentapi.Setup
	Decisions []agentapi.Decision // newest first, as the agent keeps them
	Unsure    []engine.UnsureUpload
	Report    doctor.Report       // what Doctor answers
	SignInURL string              // what Connect answers
	Pass      agentapi.PassResult // what Sync answers
	// Backfill is what PreviewBackfill and Backfill answer (with the days
	// asked) and what StartBackfill shows running.
	Backfill engine.Backfill

	// Down is an agent that is not running: every call fails with
	// agentapi.ErrNoAgent (GoAway, ComeBack).
	Down bool
	// Err makes every call fail with it; Errs by method name ("CRMLogin")
	// takes precedence.
	Err  error
	Errs map[string]error
	// Hold keeps a call of the named method waiting, once recorded, until
	// the channel is closed or the caller's context ends.
	Hold map[string]chan struct{}
	// CheckSetup checks a SetSetup against the fields the setup shows
	// locked, as the agent does (agent.CheckSetup), and returns the
	// changes to save; nil takes every value as it is.
	CheckSetup func(locked setup.Values, values map[string]string) (map[string]string, error)

	// What was asked, in order.
	Calls       []string            // method names
	Connects    []bool              // the openBrowser of each Connect
	Logins      [][2]string         // user name and password of each CRMLogin
	Saved       []agentapi.Settings // each SetSettings
	SetupSaved  []map[string]string // the changes of each SetSetup that was taken
	Queries     []Query             // each Decisions
	UnsureTaken []string            // "id copy" or "id leave", each DecideUnsure

	// Activity's fixes: what SuggestContact answers (with the address
	// asked), and what was asked.
	Suggestion agentapi.ContactSuggestion
	Shows      []string              // the filter of each Activity
	Added      []agentapi.NewContact // each AddContact
	Blocked    []string              // the entry of each BlockAddress
	Copied     []string              // the key of each CopyAnyway
	Backfills  []int                 // the days of each StartBackfill
}

// Query is one Decisions call.
type Query struct {
	Text  string
	Limit int
}

// Fake is an agentapi.API in memory. Watch sends the current status first,
// then every change, and closes when the caller's context ends or the agent
// goes away; Decisions searches and limits as the agent's store does;
// DecideUnsure forgets the upload decided. It records every call. Safe for
// concurrent use.
type Fake struct {
	mu       sync.Mutex
	st       State
	watchers []chan engine.Status
	answered map[string]chan struct{}
}

var _ agentapi.API = (*Fake)(nil)

// New returns a Fake showing status st, as it is, with the default
// settings.
func New(st engine.Status) *Fake {
	return NewWith(State{Status: st, Settings: agentapi.Settings{Rules: match.DefaultSettings()}})
}

// NewWith returns a Fake in state st.
func NewWith(st State) *Fake {
	if st.Errs == nil {
		st.Errs = map[string]error{}
	}
	if st.Hold == nil {
		st.Hold = map[string]chan struct{}{}
	}
	return &Fake{st: st, answered: map[string]chan struct{}{}}
}

// Do runs f with the fake's state locked; f must not call the fake. A
// change of Status made here is not sent to watchers (Publish does that).
func (f *Fake) Do(fn func(*State)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.st)
}

// Snapshot returns a copy of the fake's state.
func (f *Fake) Snapshot() State {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.st
	s.Calls = slices.Clone(s.Calls)
	s.Connects = slices.Clone(s.Connects)
	s.Logins = slices.Clone(s.Logins)
	s.Saved = slices.Clone(s.Saved)
	s.SetupSaved = slices.Clone(s.SetupSaved)
	s.Queries = slices.Clone(s.Queries)
	s.UnsureTaken = slices.Clone(s.UnsureTaken)
	s.Shows = slices.Clone(s.Shows)
	s.Added = slices.Clone(s.Added)
	s.Blocked = slices.Clone(s.Blocked)
	s.Copied = slices.Clone(s.Copied)
	return s
}

// Calls returns the names of the methods called so far, in order.
func (f *Fake) Calls() []string { return f.Snapshot().Calls }

// Called reports whether method was called.
func (f *Fake) Called(method string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.st.Calls, method)
}

// Answered returns a channel closed once method has answered a first time.
func (f *Fake) Answered(method string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.answeredLocked(method)
}

func (f *Fake) answeredLocked(method string) chan struct{} {
	ch, ok := f.answered[method]
	if !ok {
		ch = make(chan struct{})
		f.answered[method] = ch
	}
	return ch
}

// Publish makes st the status, as it is, and sends it to every watcher.
func (f *Fake) Publish(st engine.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publishLocked(st)
}

// Update changes the status with fn, derives its state as the agent's
// board does, and sends it to every watcher.
func (f *Fake) Update(fn func(*engine.Status)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.st.Status
	fn(&st)
	st.State = engine.Derive(st)
	f.publishLocked(st)
}

func (f *Fake) publishLocked(st engine.Status) {
	f.st.Status = st
	for _, ch := range f.watchers {
		ch <- st
	}
}

// GoAway stops the agent: open watches close, every later call fails.
func (f *Fake) GoAway() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Down = true
	for _, ch := range f.watchers {
		close(ch)
	}
	f.watchers = nil
}

// ComeBack starts the agent again, showing st.
func (f *Fake) ComeBack(st engine.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Down, f.st.Status = false, st
}

// call records method and returns the error it fails with, after any
// hold; the method's answer counts as given when it returns (Answered).
func (f *Fake) call(ctx context.Context, method string) error {
	f.mu.Lock()
	f.st.Calls = append(f.st.Calls, method)
	hold := f.st.Hold[method]
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errLocked(method)
}

func (f *Fake) errLocked(method string) error {
	if f.st.Down {
		return agentapi.ErrNoAgent
	}
	if err, ok := f.st.Errs[method]; ok {
		return err
	}
	return f.st.Err
}

// done marks method answered.
func (f *Fake) done(method string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.answeredLocked(method)
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// Status answers the current status.
func (f *Fake) Status(ctx context.Context) (engine.Status, error) {
	defer f.done("Status")
	if err := f.call(ctx, "Status"); err != nil {
		return engine.Status{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Status, nil
}

// Watch sends the current status, then every one published, until ctx
// ends or the agent goes away.
func (f *Fake) Watch(ctx context.Context) (<-chan engine.Status, error) {
	defer f.done("Watch")
	if err := f.call(ctx, "Watch"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.st.Down { // gone while the call was held
		return nil, agentapi.ErrNoAgent
	}
	ch := make(chan engine.Status, 64)
	ch <- f.st.Status
	f.watchers = append(f.watchers, ch)
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if i := slices.Index(f.watchers, ch); i >= 0 {
			f.watchers = slices.Delete(f.watchers, i, i+1)
			close(ch)
		}
	})
	return ch, nil
}

// SyncNow records the call.
func (f *Fake) SyncNow(ctx context.Context) error {
	defer f.done("SyncNow")
	return f.call(ctx, "SyncNow")
}

// Pause records the call.
func (f *Fake) Pause(ctx context.Context) error {
	defer f.done("Pause")
	return f.call(ctx, "Pause")
}

// Resume records the call.
func (f *Fake) Resume(ctx context.Context) error {
	defer f.done("Resume")
	return f.call(ctx, "Resume")
}

// CancelConnect records the call.
func (f *Fake) CancelConnect(ctx context.Context) error {
	defer f.done("CancelConnect")
	return f.call(ctx, "CancelConnect")
}

// Disconnect records the call.
func (f *Fake) Disconnect(ctx context.Context) error {
	defer f.done("Disconnect")
	return f.call(ctx, "Disconnect")
}

// CRMLogout records the call.
func (f *Fake) CRMLogout(ctx context.Context) error {
	defer f.done("CRMLogout")
	return f.call(ctx, "CRMLogout")
}

// ShowWindow records the call.
func (f *Fake) ShowWindow(ctx context.Context) error {
	defer f.done("ShowWindow")
	return f.call(ctx, "ShowWindow")
}

// Sync answers State.Pass.
func (f *Fake) Sync(ctx context.Context) (agentapi.PassResult, error) {
	defer f.done("Sync")
	if err := f.call(ctx, "Sync"); err != nil {
		return agentapi.PassResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Pass, nil
}

// Connect records the browser choice and answers State.SignInURL.
func (f *Fake) Connect(ctx context.Context, openBrowser bool) (string, error) {
	defer f.done("Connect")
	f.mu.Lock()
	f.st.Connects = append(f.st.Connects, openBrowser)
	f.mu.Unlock()
	if err := f.call(ctx, "Connect"); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.SignInURL, nil
}

// CRMLogin records the user name and password.
func (f *Fake) CRMLogin(ctx context.Context, username, password string) error {
	defer f.done("CRMLogin")
	f.mu.Lock()
	f.st.Logins = append(f.st.Logins, [2]string{username, password})
	f.mu.Unlock()
	return f.call(ctx, "CRMLogin")
}

// Settings answers State.Settings.
func (f *Fake) Settings(ctx context.Context) (agentapi.Settings, error) {
	defer f.done("Settings")
	if err := f.call(ctx, "Settings"); err != nil {
		return agentapi.Settings{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Settings, nil
}

// SetSettings keeps s as the settings.
func (f *Fake) SetSettings(ctx context.Context, s agentapi.Settings) error {
	defer f.done("SetSettings")
	if err := f.call(ctx, "SetSettings"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Settings = s
	f.st.Saved = append(f.st.Saved, s)
	return nil
}

// Setup answers State.Setup.
func (f *Fake) Setup(ctx context.Context) (agentapi.Setup, error) {
	defer f.done("Setup")
	if err := f.call(ctx, "Setup"); err != nil {
		return agentapi.Setup{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Setup, nil
}

// SetSetup checks values with State.CheckSetup and applies the changes to
// the setup's fields, as set by the person.
func (f *Fake) SetSetup(ctx context.Context, values map[string]string) error {
	defer f.done("SetSetup")
	if err := f.call(ctx, "SetSetup"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	changes := values
	if f.st.CheckSetup != nil {
		var locked setup.Values
		for _, fl := range f.st.Setup.Fields {
			if fl.Locked() {
				locked = locked.With(fl.Key, fl.Value)
			}
		}
		var err error
		if changes, err = f.st.CheckSetup(locked, values); err != nil {
			return err
		}
	}
	f.st.SetupSaved = append(f.st.SetupSaved, changes)
	fields := f.st.Setup.Fields
	for k, v := range changes {
		for i := range fields {
			if fields[i].Key == k {
				fields[i].Value, fields[i].Source = v, setup.FromPerson
			}
		}
	}
	return nil
}

// Decisions answers the decisions whose subject, counterpart, clients or
// reason contain query (case-insensitive), at most limit of them when
// limit > 0.
func (f *Fake) Decisions(ctx context.Context, query string, limit int) ([]agentapi.Decision, error) {
	defer f.done("Decisions")
	f.mu.Lock()
	f.st.Queries = append(f.st.Queries, Query{Text: query, Limit: limit})
	f.mu.Unlock()
	if err := f.call(ctx, "Decisions"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := strings.ToLower(query)
	var out []agentapi.Decision
	for _, d := range f.st.Decisions {
		hay := strings.ToLower(d.Subject + "\x00" + d.Counterpart + "\x00" + strings.Join(d.Clients, "\x00") + "\x00" + d.Reason)
		if strings.Contains(hay, q) {
			out = append(out, d)
		}
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// Unsure answers State.Unsure.
func (f *Fake) Unsure(ctx context.Context) ([]engine.UnsureUpload, error) {
	defer f.done("Unsure")
	if err := f.call(ctx, "Unsure"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.st.Unsure), nil
}

// DecideUnsure records the choice and forgets the upload, as the agent
// does.
func (f *Fake) DecideUnsure(ctx context.Context, id string, copyAgain bool) error {
	defer f.done("DecideUnsure")
	if err := f.call(ctx, "DecideUnsure"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	what := "leave"
	if copyAgain {
		what = "copy"
	}
	f.st.UnsureTaken = append(f.st.UnsureTaken, id+" "+what)
	f.st.Unsure = slices.DeleteFunc(f.st.Unsure, func(u engine.UnsureUpload) bool { return u.ID == id })
	return nil
}

// Doctor answers State.Report.
func (f *Fake) Doctor(ctx context.Context) (doctor.Report, error) {
	defer f.done("Doctor")
	if err := f.call(ctx, "Doctor"); err != nil {
		return doctor.Report{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st.Report, nil
}

// PreviewBackfill answers State.Backfill for the days asked.
func (f *Fake) PreviewBackfill(ctx context.Context, days int) (engine.Backfill, error) {
	defer f.done("PreviewBackfill")
	if err := f.call(ctx, "PreviewBackfill"); err != nil {
		return engine.Backfill{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.st.Backfill
	b.Days = days
	return b, nil
}

// StartBackfill records the days and shows the backfill running, as the
// agent does.
func (f *Fake) StartBackfill(ctx context.Context, days int) error {
	defer f.done("StartBackfill")
	if err := f.call(ctx, "StartBackfill"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Backfills = append(f.st.Backfills, days)
	b := f.st.Backfill
	b.Days, b.State, b.Emails, b.Clients, b.Reached = days, storage.BackfillRunning, 0, nil, b.To
	st := f.st.Status
	st.Backfill = &b
	f.publishLocked(st)
	return nil
}

// Backfill answers State.Backfill for the days asked, as a backfill run
// to its end.
func (f *Fake) Backfill(ctx context.Context, days int) (engine.Backfill, error) {
	defer f.done("Backfill")
	if err := f.call(ctx, "Backfill"); err != nil {
		return engine.Backfill{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.st.Backfill
	b.Days = days
	return b, nil
}

// CancelBackfill shows the backfill in the status cancelled.
func (f *Fake) CancelBackfill(ctx context.Context) error {
	defer f.done("CancelBackfill")
	if err := f.call(ctx, "CancelBackfill"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.st.Status
	if st.Backfill != nil {
		b := *st.Backfill
		b.State = storage.BackfillCancelled
		st.Backfill = &b
		f.publishLocked(st)
	}
	return nil
}
