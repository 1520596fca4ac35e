package settings

import (
	"image/color"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
	"mailsync/sync/engine"
	"mailsync/sync/match"
	"mailsync/sync/setup"
)

// testAppID is the app (client) ID the fake agent is set up with.
const testAppID = "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21"

// newFakeAgent returns the agent the window's tests talk to: showing st,
// set up with an app ID the person set, checking setup changes as the
// agent does (agent.CheckSetup).
func newFakeAgent(st engine.Status) *agentapitest.Fake {
	return agentapitest.NewWith(agentapitest.State{
		Status:   st,
		Settings: agentapi.Settings{Rules: match.DefaultSettings(), StartAtLogin: true},
		Setup: agentapi.Setup{Version: "1.2.3", Fields: []setup.Field{
			{Key: setup.KeyClientID, Value: testAppID, Source: setup.FromPerson},
			{Key: setup.KeyTenant, Value: setup.DefaultTenant, Source: setup.FromDefault},
			{Key: setup.KeyCRMURL, Value: setup.DefaultCRMAddress, Source: setup.FromDefault},
		}},
		SignInURL:  "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=demo",
		CheckSetup: agent.CheckSetup,
	})
}

// harness runs a Window against a fake agent. Functions the window hands to
// the UI goroutine are queued and run by pump on the test goroutine, which
// plays the part of Fyne's main goroutine.
type harness struct {
	t     *testing.T
	api   *agentapitest.Fake
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
			h.t.Fatalf("timed out waiting for %s; calls so far %v; visible text:\n%s", what, h.api.Calls(), h.texts())
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
	h.api.Publish(st)
	h.pump("status applied", func() bool { return statusEqual(h.w.status, st) })
}

func statusEqual(a, b engine.Status) bool {
	return a.State == b.State && a.Paused == b.Paused && a.Reconnect == b.Reconnect && a.SignInError == b.SignInError && a.ApprovalURL == b.ApprovalURL && a.Connecting == b.Connecting && a.CRMUser == b.CRMUser && a.Sandbox == b.Sandbox &&
		a.LastError == b.LastError && a.LastPass.Equal(b.LastPass) &&
		(a.Account == nil) == (b.Account == nil) && (a.Progress == nil) == (b.Progress == nil) &&
		(a.Progress == nil || *a.Progress == *b.Progress) &&
		(a.Previous == nil) == (b.Previous == nil) && a.ConnectedAt.Equal(b.ConnectedAt) && a.LastSuccess.Equal(b.LastSuccess) &&
		(a.LastCopy == nil) == (b.LastCopy == nil)
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
	h.pump(cmd+" sent", func() bool { return h.api.Called(cmd) })
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
