package settings

import (
	"context"
	"errors"
	"image/color"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/match"
	"mailsync/sync/setup"
)

// fakeAgent is an agentapi.API that behaves like the agent as far as the
// window can tell: Watch sends the current status first and then every
// change, and closes when the agent goes away; Decisions filters and limits
// like the real store. It records every command.
type fakeAgent struct {
	mu         sync.Mutex
	status     engine.Status
	watchers   []chan engine.Status
	down       bool // the agent is not running: Watch fails
	calls      []string
	logins     [][2]string
	settings   agentapi.Settings
	setup      agentapi.Setup
	setupSaved []map[string]string
	saved      []agentapi.Settings
	decisions  []agentapi.Decision
	queries    []string
	loginErr   error
	signInURL  string
	report     doctor.Report
	doctorErr  error
	release    chan struct{} // holds Doctor until closed, when set
	loginHold  chan struct{} // holds CRMLogin until closed, when set
	unsure     []engine.UnsureUpload
	decided    []string // "id copy" or "id leave"
	// Activity's fixes: the suggestion given, and what was asked.
	suggestion agentapi.ContactSuggestion
	added      []agentapi.NewContact
	blocked    []string
	copied     []string
	shows      []string
}

func (f *fakeAgent) Unsure(context.Context) ([]engine.UnsureUpload, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.unsure), nil
}

// DecideUnsure records the choice and forgets the upload, as the agent
// does.
func (f *fakeAgent) DecideUnsure(_ context.Context, id string, copyAgain bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	what := "leave"
	if copyAgain {
		what = "copy"
	}
	f.decided = append(f.decided, id+" "+what)
	f.unsure = slices.DeleteFunc(f.unsure, func(u engine.UnsureUpload) bool { return u.ID == id })
	return nil
}

func (f *fakeAgent) decisionsMade() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.decided)
}

var errNotRunning = errors.New("mail sync is not running")

// testAppID is the app (client) ID the fake agent is set up with.
const testAppID = "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21"

func newFakeAgent(st engine.Status) *fakeAgent {
	return &fakeAgent{
		status:   st,
		settings: agentapi.Settings{Rules: match.DefaultSettings(), StartAtLogin: true},
		setup: agentapi.Setup{Version: "1.2.3", Fields: []setup.Field{
			{Key: setup.KeyClientID, Value: testAppID, Source: setup.FromPerson},
			{Key: setup.KeyTenant, Value: setup.DefaultTenant, Source: setup.FromDefault},
			{Key: setup.KeyCRMURL, Value: setup.DefaultCRMAddress, Source: setup.FromDefault},
		}},
		signInURL: "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=demo",
	}
}

func (f *fakeAgent) record(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
}

// called reports whether the command was received.
func (f *fakeAgent) called(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.calls, name)
}

func (f *fakeAgent) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// publish changes the status and sends it to every subscriber.
func (f *fakeAgent) publish(st engine.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = st
	for _, ch := range f.watchers {
		ch <- st
	}
}

// goAway stops the agent: open subscriptions close, new ones fail.
func (f *fakeAgent) goAway() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = true
	for _, ch := range f.watchers {
		close(ch)
	}
	f.watchers = nil
}

func (f *fakeAgent) comeBack(st engine.Status) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down, f.status = false, st
}

func (f *fakeAgent) Status(context.Context) (engine.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return engine.Status{}, errNotRunning
	}
	return f.status, nil
}

func (f *fakeAgent) Watch(ctx context.Context) (<-chan engine.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "Watch")
	if f.down {
		return nil, errNotRunning
	}
	ch := make(chan engine.Status, 64)
	ch <- f.status
	f.watchers = append(f.watchers, ch)
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		if i := slices.Index(f.watchers, ch); i >= 0 {
			f.watchers = slices.Delete(f.watchers, i, i+1)
			close(ch)
		}
	}()
	return ch, nil
}

func (f *fakeAgent) SyncNow(context.Context) error { f.record("SyncNow"); return nil }
func (f *fakeAgent) Sync(context.Context) (agentapi.PassResult, error) {
	f.record("Sync")
	return agentapi.PassResult{}, nil
}
func (f *fakeAgent) Pause(context.Context) error  { f.record("Pause"); return nil }
func (f *fakeAgent) Resume(context.Context) error { f.record("Resume"); return nil }

func (f *fakeAgent) Connect(context.Context, bool) (string, error) {
	f.record("Connect")
	return f.signInURL, nil
}

func (f *fakeAgent) CancelConnect(context.Context) error { f.record("CancelConnect"); return nil }
func (f *fakeAgent) Disconnect(context.Context) error    { f.record("Disconnect"); return nil }

func (f *fakeAgent) CRMLogin(_ context.Context, user, pass string) error {
	f.mu.Lock()
	hold := f.loginHold
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "CRMLogin")
	f.logins = append(f.logins, [2]string{user, pass})
	return f.loginErr
}

func (f *fakeAgent) CRMLogout(context.Context) error { f.record("CRMLogout"); return nil }

func (f *fakeAgent) Settings(context.Context) (agentapi.Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return agentapi.Settings{}, errNotRunning
	}
	return f.settings, nil
}

func (f *fakeAgent) SetSettings(_ context.Context, s agentapi.Settings) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "SetSettings")
	f.settings = s
	f.saved = append(f.saved, s)
	return nil
}

func (f *fakeAgent) Setup(context.Context) (agentapi.Setup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return agentapi.Setup{}, errNotRunning
	}
	return f.setup, nil
}

// SetSetup checks and applies changes as the agent does (agent.CheckSetup
// against the fields the fake's policy locks).
func (f *fakeAgent) SetSetup(_ context.Context, values map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "SetSetup")
	var locked setup.Values
	for _, fl := range f.setup.Fields {
		if fl.Locked() {
			locked = locked.With(fl.Key, fl.Value)
		}
	}
	changes, err := agent.CheckSetup(locked, values)
	if err != nil {
		return err
	}
	f.setupSaved = append(f.setupSaved, changes)
	for k, v := range changes {
		fields := f.setup.Fields
		for i := range fields {
			if fields[i].Key == k {
				fields[i].Value, fields[i].Source = v, setup.FromPerson
			}
		}
	}
	return nil
}

func (f *fakeAgent) setupSaves() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.setupSaved)
}

func (f *fakeAgent) savedSettings() []agentapi.Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.saved)
}

func (f *fakeAgent) Decisions(_ context.Context, query string, limit int) ([]agentapi.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, query)
	q := strings.ToLower(query)
	var out []agentapi.Decision
	for _, d := range f.decisions {
		hay := strings.ToLower(d.Subject + "\x00" + d.Counterpart + "\x00" + strings.Join(d.Clients, "\x00") + "\x00" + d.Reason)
		if strings.Contains(hay, q) {
			out = append(out, d)
		}
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func (f *fakeAgent) queryList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.queries)
}

func (f *fakeAgent) ShowWindow(context.Context) error { f.record("ShowWindow"); return nil }

// Doctor answers f.report once f.release lets it (at once when release is
// nil), or f.doctorErr.
func (f *fakeAgent) Doctor(ctx context.Context) (doctor.Report, error) {
	f.mu.Lock()
	f.calls = append(f.calls, "Doctor")
	release, rep, err := f.release, f.report, f.doctorErr
	f.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return doctor.Report{}, ctx.Err()
		}
	}
	return rep, err
}

// harness runs a Window against a fakeAgent. Functions the window hands to
// the UI goroutine are queued and run by pump on the test goroutine, which
// plays the part of Fyne's main goroutine.
type harness struct {
	t     *testing.T
	api   *fakeAgent
	w     *Window
	queue chan func()
	done  chan struct{}
}

// testNow is the clock of every test: Thursday 26 November 2026, 11:05 UTC.
var testNow = time.Date(2026, 11, 26, 11, 5, 0, 0, time.UTC)

func newHarness(t *testing.T, st engine.Status) *harness {
	return newHarnessTheme(t, st, theme.VariantLight)
}

func newHarnessTheme(t *testing.T, st engine.Status, variant fyne.ThemeVariant) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), variant})
	h := &harness{t: t, api: newFakeAgent(st), queue: make(chan func(), 256), done: make(chan struct{})}
	opt := options{
		now: func() time.Time { return testNow },
		do: func(f func()) {
			select {
			case h.queue <- f:
			case <-h.done:
			}
		},
		callTimeout: waitLimit,
		backoffMin:  time.Millisecond,
		backoffMax:  10 * time.Millisecond,
		debounce:    time.Millisecond,
	}
	h.w = newWindow(a, h.api, opt)
	t.Cleanup(func() {
		h.w.stop()
		close(h.done)
	})
	h.pump("first status", func() bool { return h.w.seen && h.w.options.loaded })
	return h
}

// waitLimit bounds every wait of these tests; only a broken window reaches
// it, so it is generous for a busy machine running -race.
const waitLimit = 90 * time.Second

// pump runs queued UI work until cond holds, failing after waitLimit.
func (h *harness) pump(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(waitLimit)
	for !cond() {
		select {
		case f := <-h.queue:
			f()
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s; calls so far %v; visible text:\n%s", what, h.api.callList(), h.texts())
		}
	}
}

// settle runs queued UI work until none arrives for a moment.
func (h *harness) settle() {
	for {
		select {
		case f := <-h.queue:
			f()
		case <-time.After(20 * time.Millisecond):
			return
		}
	}
}

// publish sends st from the agent and waits until the window shows it.
func (h *harness) publish(st engine.Status) {
	h.t.Helper()
	h.api.publish(st)
	h.pump("status applied", func() bool { return statusEqual(h.w.status, st) })
}

func statusEqual(a, b engine.Status) bool {
	return a.State == b.State && a.Paused == b.Paused && a.Reconnect == b.Reconnect && a.SignInError == b.SignInError && a.ApprovalURL == b.ApprovalURL && a.Connecting == b.Connecting && a.CRMUser == b.CRMUser && a.Sandbox == b.Sandbox &&
		a.LastError == b.LastError && a.LastPass.Equal(b.LastPass) &&
		(a.Account == nil) == (b.Account == nil) && (a.Progress == nil) == (b.Progress == nil) &&
		(a.Progress == nil || *a.Progress == *b.Progress)
}

// visible walks the visible objects of the window, overlays included.
func (h *harness) visible(visit func(fyne.CanvasObject)) {
	c := h.w.win.Canvas()
	walk(c.Content(), visit)
	for _, o := range c.Overlays().List() {
		walk(o, visit)
	}
}

func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	visit(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, visit)
		}
	case *widget.Label, *widget.Button, *widget.Hyperlink, *widget.Check, *widget.RichText, *badge:
		// leaves: their text is read directly
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, visit)
		}
	}
}

// texts is the text of every visible label, button, link and check box.
func (h *harness) texts() string {
	var b strings.Builder
	h.visible(func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *widget.Button:
			b.WriteString("[" + x.Text + "]\n")
		case *widget.RichText:
			b.WriteString(x.String() + "\n")
		case *widget.Hyperlink:
			b.WriteString("<" + x.Text + ">\n")
		case *widget.Check:
			b.WriteString("{" + x.Text + "}\n")
		case *badge:
			b.WriteString("(" + x.text + ")\n")
		}
	})
	return b.String()
}

func (h *harness) wantText(want ...string) {
	h.t.Helper()
	got := h.texts()
	for _, s := range want {
		if !strings.Contains(got, s) {
			h.t.Errorf("window does not show %q; it shows:\n%s", s, got)
		}
	}
}

func (h *harness) wantNoText(unwanted ...string) {
	h.t.Helper()
	got := h.texts()
	for _, s := range unwanted {
		if strings.Contains(got, s) {
			h.t.Errorf("window shows %q but should not; it shows:\n%s", s, got)
		}
	}
}

// button finds the visible button with the given text.
func (h *harness) button(text string) *widget.Button {
	h.t.Helper()
	var found *widget.Button
	h.visible(func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && found == nil {
			found = b
		}
	})
	if found == nil {
		h.t.Fatalf("no visible button %q; the window shows:\n%s", text, h.texts())
	}
	return found
}

// tap taps the named button and waits until the agent received cmd.
func (h *harness) tap(button, cmd string) {
	h.t.Helper()
	b := h.button(button)
	if b.Disabled() {
		h.t.Fatalf("button %q is disabled", button)
	}
	test.Tap(b)
	h.pump(cmd+" sent", func() bool { return h.api.called(cmd) })
}

// shortcut delivers s as the desktop driver does: to the focused widget if it
// handles shortcuts, else to the canvas.
func (h *harness) shortcut(s fyne.Shortcut) {
	c := h.w.win.Canvas()
	if f, ok := c.Focused().(fyne.Shortcutable); ok {
		f.TypedShortcut(s)
		return
	}
	c.(fyne.Shortcutable).TypedShortcut(s)
}

// key delivers a key press as the desktop driver does: to the focused
// widget, else to the canvas.
func (h *harness) key(name fyne.KeyName) {
	c := h.w.win.Canvas()
	ev := &fyne.KeyEvent{Name: name}
	if f := c.Focused(); f != nil {
		f.TypedKey(ev)
		return
	}
	if on := c.OnTypedKey(); on != nil {
		on(ev)
	}
}

// closed reports whether the window was closed.
func (h *harness) closed() bool { return h.w.ctx.Err() != nil }

// variantTheme pins the default theme to one variant, light or dark.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (v variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return v.Theme.Color(n, v.variant)
}
