// Package settings is the Mail Sync settings window: a Fyne window that holds
// no state of its own. It renders what the agent reports through
// agentapi.API (the status stream, settings and recent decisions) and sends
// the agent commands.
//
// Threading contract: every widget is touched only on the Fyne UI goroutine.
// Calls to the agent run in their own goroutines with a timeout and hand their
// outcome back through fyne.Do, so a slow or absent agent never freezes the
// window. When the agent goes away the window says so and subscribes again
// with a growing delay until the agent is back.
package settings

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
)

// Section names, in the order the navigation lists them. Select accepts them.
const (
	SectionOffice   = "Office 365"
	SectionCRM      = "ClientSuccess"
	SectionSync     = "Sync"
	SectionActivity = "Activity"
	SectionOptions  = "Options"
	SectionAdvanced = "Advanced"
	SectionAbout    = "About"
)

// Sections lists the section names in navigation order.
var Sections = []string{SectionOffice, SectionCRM, SectionSync, SectionActivity, SectionOptions, SectionAdvanced, SectionAbout}

// MinSize is the smallest size of the window's content.
var MinSize = fyne.NewSize(760, 540)

// Window titles: the ordinary one, and the one while the agent runs against
// the built-in sandbox (mailsync demo), so the demo is never mistaken for the
// person's real mailbox.
const (
	Title        = "Mail Sync Settings"
	SandboxTitle = "Mail Sync Settings — Sandbox"
)

// notRunningText is shown while the agent cannot be reached.
const notRunningText = "Mail Sync is not running — reconnecting…"

// sandboxNote explains the Sandbox badge in the header.
const sandboxNote = "demo data, no real accounts"

// closeShortcut closes the window: Ctrl+W, or Cmd+W on macOS.
var closeShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault}

// options are the seams tests use; New fills them with the real ones.
type options struct {
	now         func() time.Time // clock for every time shown
	do          func(func())     // runs a function on the UI goroutine
	callTimeout time.Duration    // limit of one call to the agent
	backoffMin  time.Duration    // first delay before subscribing again
	backoffMax  time.Duration    // longest delay between subscriptions
	debounce    time.Duration    // pause after typing before searching
}

func defaultOptions() options {
	return options{
		now:         time.Now,
		do:          fyne.Do,
		callTimeout: 15 * time.Second,
		backoffMin:  250 * time.Millisecond,
		backoffMax:  5 * time.Second,
		debounce:    250 * time.Millisecond,
	}
}

// Window is the settings window. Its methods must be called on the Fyne UI
// goroutine.
type Window struct {
	app    fyne.App
	win    fyne.Window
	api    agentapi.API
	opt    options
	ctx    context.Context
	cancel context.CancelFunc

	// status is the last status the agent reported; online says whether
	// the agent is reachable right now. Both only change on the UI goroutine.
	status engine.Status
	online bool
	seen   bool // a status has arrived at least once

	header  *widget.Label
	sandbox *fyne.Container // the Sandbox badge and its note
	top     *fyne.Container // the header bar, laid out again when sandbox shows
	titled  bool            // the title says Sandbox
	dialog  dialog.Dialog   // the dialog open above the window, if any
	banner  *fyne.Container
	main    *fyne.Container // the banner above the section
	nav     *widget.List
	content *fyne.Container
	pages   map[string]fyne.CanvasObject
	current string

	office   *officePage
	crm      *crmPage
	sync     *syncPage
	activity *activityPage
	options  *optionsPage
	advanced *setupForm
	about    *aboutPage

	// firstRun stands in for the sections while no app ID is configured;
	// body holds the sections.
	firstRun    *setupForm
	body        *fyne.Container
	first       fyne.CanvasObject
	setupInfo   agentapi.Setup
	setupLoaded bool
}

// New builds the settings window content on a for api and starts following
// the agent's status. The window is not shown until Show is called; closing it
// stops every goroutine New started.
func New(a fyne.App, api agentapi.API) *Window {
	return newWindow(a, api, defaultOptions())
}

// NewWithClock is New with the clock that every shown time is relative to
// ("10:42 today"), so screenshots and demos can be reproduced.
func NewWithClock(a fyne.App, api agentapi.API, now func() time.Time) *Window {
	opt := defaultOptions()
	opt.now = now
	return newWindow(a, api, opt)
}

func newWindow(a fyne.App, api agentapi.API, opt options) *Window {
	w := &Window{app: a, api: api, opt: opt, pages: map[string]fyne.CanvasObject{}}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.win = a.NewWindow(Title)

	w.office = newOfficePage(w)
	w.crm = newCRMPage(w)
	w.sync = newSyncPage(w)
	w.activity = newActivityPage(w)
	w.options = newOptionsPage(w)
	w.advanced = newSetupForm(w, func(objs ...fyne.CanvasObject) *sectionPage {
		return page(SectionAdvanced, append([]fyne.CanvasObject{wrapped(advancedIntro)}, objs...)...)
	}, "Save", false)
	w.about = newAboutPage()
	w.firstRun = newSetupForm(w, func(objs ...fyne.CanvasObject) *sectionPage {
		return page(firstRunTitle, append([]fyne.CanvasObject{wrapped(firstRunIntro)}, objs...)...)
	}, "Continue", true)
	w.pages[SectionOffice] = w.office.root.Scroll
	w.pages[SectionCRM] = w.crm.root.Scroll
	w.pages[SectionSync] = w.sync.root.Scroll
	w.pages[SectionActivity] = w.activity.root
	w.pages[SectionOptions] = w.options.root.Scroll
	w.pages[SectionAdvanced] = w.advanced.page.Scroll
	w.pages[SectionAbout] = w.about.root.Scroll

	w.header = widget.NewLabel("Connecting to Mail Sync…")
	w.header.Alignment = fyne.TextAlignTrailing
	w.header.Truncation = fyne.TextTruncateEllipsis
	title := widget.NewLabelWithStyle("Mail Sync", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	w.sandbox = container.NewHBox(container.NewCenter(newBadge("Sandbox")), container.NewCenter(dimText(sandboxNote)))
	w.sandbox.Hide()
	// The state sits on the centre line of the larger title beside it.
	w.top = container.NewBorder(nil, nil, container.NewHBox(title, w.sandbox), nil,
		container.NewVBox(layout.NewSpacer(), w.header, layout.NewSpacer()))

	bannerText := widget.NewLabel(notRunningText)
	bannerText.Importance = widget.WarningImportance
	bannerText.Wrapping = fyne.TextWrapWord
	w.banner = container.NewVBox(container.NewPadded(bannerText), widget.NewSeparator())
	w.banner.Hide()

	w.nav = widget.NewList(
		func() int { return len(Sections) },
		func() fyne.CanvasObject { return widget.NewLabel("ClientSuccess") },
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(Sections[id]) },
	)
	w.nav.OnSelected = func(id widget.ListItemID) { w.show(Sections[id]) }
	w.content = container.NewStack()
	w.main = container.NewBorder(w.banner, nil, nil, nil, w.content)

	w.body = container.NewBorder(nil, nil,
		container.NewHBox(container.New(fixedWidth{170}, w.nav), widget.NewSeparator()), nil,
		w.main)
	w.first = w.firstRun.page.Scroll
	w.first.Hide()
	root := container.NewBorder(container.NewVBox(container.NewPadded(w.top), widget.NewSeparator()), nil, nil, nil,
		container.NewStack(w.body, w.first))
	w.win.SetContent(container.New(minSize{MinSize}, root))
	w.win.Resize(MinSize)
	w.win.SetOnClosed(w.cancel)
	w.win.Canvas().AddShortcut(closeShortcut, func(fyne.Shortcut) { w.win.Close() })
	// Escape only ever closes a dialog: a person pressing it twice must not
	// lose the window. The canvas sees the key when no field has the focus,
	// which is the case while a dialog is up unless the person tabbed into it.
	w.win.Canvas().SetOnTypedKey(func(ev *fyne.KeyEvent) {
		if ev.Name == fyne.KeyEscape && w.dialog != nil {
			w.dialog.Hide()
		}
	})

	w.Select(SectionOffice)
	w.render()
	go w.follow()
	return w
}

// Window returns the Fyne window, e.g. to set its icon or capture it.
func (w *Window) Window() fyne.Window { return w.win }

// Show shows the window and brings it to the front.
func (w *Window) Show() {
	w.win.Show()
	w.win.RequestFocus()
}

// Select shows the named section (one of Sections); unknown names are
// ignored. The screenshot tooling uses it to walk through the sections.
func (w *Window) Select(section string) {
	for i, s := range Sections {
		if s == section {
			w.nav.Select(i)
			w.show(section) // Select does not call OnSelected when already selected
			return
		}
	}
}

func (w *Window) show(section string) {
	if w.current == section {
		return
	}
	w.current = section
	w.content.Objects = []fyne.CanvasObject{w.pages[section]}
	w.content.Refresh()
}

// stop ends the goroutines of the window, as closing it does.
func (w *Window) stop() { w.cancel() }

// follow keeps a status subscription open for the life of the window.
func (w *Window) follow() {
	delay := w.opt.backoffMin
	for w.ctx.Err() == nil {
		ch, err := w.api.Watch(w.ctx)
		if err == nil {
			got := false
			for st := range ch {
				if !got {
					got = true
					delay = w.opt.backoffMin
					w.loadAfterConnect()
				}
				w.opt.do(func() { w.apply(st) })
			}
		}
		if w.ctx.Err() != nil {
			return
		}
		w.opt.do(w.setOffline)
		select {
		case <-w.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, w.opt.backoffMax)
	}
}

// loadAfterConnect fetches what the status does not carry whenever the agent
// (re)appears, because a restarted agent may hold different settings.
func (w *Window) loadAfterConnect() {
	w.opt.do(func() {
		w.loadSetup()
		w.options.load()
		w.activity.refresh()
	})
}

func (w *Window) setOffline() {
	w.online = false
	w.render()
}

func (w *Window) apply(st engine.Status) {
	prev, seen := w.status, w.seen
	w.status, w.online, w.seen = st, true, true
	// Only a change of the sandbox flag touches the title, so a title set
	// by whoever opened the window stays otherwise.
	if st.Sandbox != w.titled {
		w.titled = st.Sandbox
		if st.Sandbox {
			w.win.SetTitle(SandboxTitle)
		} else {
			w.win.SetTitle(Title)
		}
	}
	w.render()
	if seen && !prev.LastPass.Equal(st.LastPass) {
		w.activity.refresh()
	}
	if seen && prev.SetupSaves != st.SetupSaves {
		w.loadSetup() // changed elsewhere, e.g. with `mailsync config set`
	}
}

// render brings every section in line with w.status and w.online.
func (w *Window) render() {
	if w.online {
		w.banner.Hide()
		w.header.SetText(summary(w.status))
	} else if w.seen {
		w.banner.Show()
		w.header.SetText("Not running")
	} else {
		w.header.SetText("Connecting to Mail Sync…")
	}
	if w.status.Sandbox != w.sandbox.Visible() {
		if w.status.Sandbox {
			w.sandbox.Show()
		} else {
			w.sandbox.Hide()
		}
		w.top.Refresh() // containers do not notice a part coming or going
	}
	w.main.Refresh() // the banner may have come or gone
	if first := w.showFirstRun(); first != w.first.Visible() {
		if first {
			w.first.Show()
			w.body.Hide()
		} else {
			w.first.Hide()
			w.body.Show()
		}
	}
	w.firstRun.render()
	w.advanced.render()
	w.office.render()
	w.crm.render()
	w.sync.render()
	w.options.render()
}

// call runs fn against the agent off the UI goroutine with a timeout, then
// hands its error to done on the UI goroutine (done may be nil).
func (w *Window) call(fn func(ctx context.Context) error, done func(error)) {
	go func() {
		ctx, cancel := context.WithTimeout(w.ctx, w.opt.callTimeout)
		defer cancel()
		err := fn(ctx)
		if w.ctx.Err() != nil {
			return
		}
		if done != nil {
			w.opt.do(func() { done(err) })
		}
	}()
}

// confirmDanger asks before an action that ends something (Disconnect, Sign
// out): act runs against the agent only once the person confirms, and its
// error goes to showErr.
func (w *Window) confirmDanger(title, message, confirm, dismiss string, act func(context.Context) error, showErr func(error)) {
	d := dialog.NewConfirm(title, message, func(ok bool) {
		if ok {
			showErr(nil)
			w.call(act, showErr)
		}
	}, w.win)
	d.SetConfirmText(confirm)
	d.SetDismissText(dismiss)
	d.SetConfirmImportance(widget.DangerImportance)
	w.showDialog(d)
}

// showDialog shows d above the window and remembers it until it closes, so
// Escape can close it.
func (w *Window) showDialog(d dialog.Dialog) {
	w.dialog = d
	d.SetOnClosed(func() {
		if w.dialog == d {
			w.dialog = nil
		}
	})
	d.Show()
}

// summary is the one-line state shown in the header.
func summary(st engine.Status) string {
	switch {
	case st.Connecting:
		return "Waiting for sign-in"
	case st.State == engine.Syncing && st.Progress != nil && st.Progress.Total > 0:
		return "Syncing " + itoa(st.Progress.Done) + " of " + itoa(st.Progress.Total)
	case st.State == engine.CRMSignedOut:
		return "Sign in to ClientSuccess to start syncing"
	}
	return st.State.String()
}

// sectionPage is the standard frame of a section: a title, its content and
// scrolling when the window is small.
type sectionPage struct {
	*container.Scroll
	box *fyne.Container
}

func page(title string, objs ...fyne.CanvasObject) *sectionPage {
	h := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.SizeName = theme.SizeNameHeadingText
	box := container.NewVBox(append([]fyne.CanvasObject{h}, objs...)...)
	return &sectionPage{Scroll: container.NewVScroll(container.NewPadded(box)), box: box}
}

// relayout lays the section out again after parts were shown or hidden,
// which containers do not notice by themselves.
func (p *sectionPage) relayout() {
	p.box.Refresh()
	p.Scroll.Refresh()
}

// showErr shows err in l, or hides l when err is nil, and lays the section
// out again.
func (p *sectionPage) showErr(l *widget.Label, err error) {
	defer p.relayout()
	if err == nil {
		l.Hide()
		return
	}
	l.SetText(err.Error())
	l.Show()
}

// errorText is a wrapped label in the danger colour, hidden until there is
// an error to show.
func errorText() *widget.Label {
	l := wrapped("")
	l.Importance = widget.DangerImportance
	l.Hide()
	return l
}

// dimText is secondary text: readable in both themes, but quieter than the
// content beside it (a low-importance label is too faint to read).
func dimText(text string) *widget.RichText {
	return widget.NewRichText(&widget.TextSegment{Text: text,
		Style: widget.RichTextStyle{ColorName: theme.ColorNamePlaceHolder, Inline: true}})
}

// setRich replaces the text and colour of a single-segment RichText.
func setRich(rt *widget.RichText, text string, colorName fyne.ThemeColorName) {
	seg := rt.Segments[0].(*widget.TextSegment)
	seg.Text, seg.Style.ColorName = text, colorName
	rt.Refresh()
}

// wrapped is a label that wraps at word boundaries.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// buttons lays out buttons at their natural size, leading aligned. Labels
// inset their text by the inner padding and buttons have no such inset, so
// the row is indented by it to line the buttons up with the text above.
func buttons(b ...fyne.CanvasObject) *fyne.Container {
	return container.New(layout.NewCustomPaddedLayout(0, 0, theme.InnerPadding(), 0),
		container.NewHBox(append(b, layout.NewSpacer())...))
}

// entry is a widget.Entry that hands the close shortcut to the window: a
// focused Fyne entry keeps every shortcut to itself, so Ctrl+W would
// otherwise do nothing while the cursor is in a field.
type entry struct {
	widget.Entry
	win fyne.Window
}

func newEntry(win fyne.Window) *entry {
	e := &entry{Entry: widget.Entry{Wrapping: fyne.TextWrap(fyne.TextTruncateClip)}, win: win}
	e.ExtendBaseWidget(e)
	return e
}

func newPasswordEntry(win fyne.Window) *entry {
	e := newEntry(win)
	e.Password = true // the entry adds its reveal button itself
	return e
}

func newMultiLineEntry(win fyne.Window) *entry {
	e := newEntry(win)
	e.MultiLine = true
	return e
}

// TypedShortcut closes the window on the close shortcut and leaves every
// other shortcut to the entry.
func (e *entry) TypedShortcut(s fyne.Shortcut) {
	if s.ShortcutName() == closeShortcut.ShortcutName() {
		e.win.Close()
		return
	}
	e.Entry.TypedShortcut(s)
}

// badge is a short word on a coloured rounded background, e.g. the
// Sandbox marker in the header. Its colours follow the theme.
type badge struct {
	widget.BaseWidget
	text string
}

func newBadge(text string) *badge {
	b := &badge{text: text}
	b.ExtendBaseWidget(b)
	return b
}

func (b *badge) CreateRenderer() fyne.WidgetRenderer {
	r := &badgeRenderer{b: b, bg: canvas.NewRectangle(nil), label: canvas.NewText(b.text, nil)}
	r.label.TextStyle.Bold = true
	r.Refresh()
	return r
}

type badgeRenderer struct {
	b     *badge
	bg    *canvas.Rectangle
	label *canvas.Text
}

func (r *badgeRenderer) pad() fyne.Size {
	th := r.b.Theme()
	return fyne.NewSize(th.Size(theme.SizeNameInnerPadding), th.Size(theme.SizeNameInnerPadding)/2)
}

func (r *badgeRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	text := r.label.MinSize()
	r.label.Move(fyne.NewPos((size.Width-text.Width)/2, (size.Height-text.Height)/2))
	r.label.Resize(text)
}

func (r *badgeRenderer) MinSize() fyne.Size {
	p := r.pad()
	return r.label.MinSize().Add(fyne.NewSize(2*p.Width, 2*p.Height))
}

func (r *badgeRenderer) Refresh() {
	th, v := r.b.Theme(), fyne.CurrentApp().Settings().ThemeVariant()
	r.bg.FillColor = th.Color(theme.ColorNameWarning, v)
	r.bg.CornerRadius = th.Size(theme.SizeNameSelectionRadius)
	r.label.Color = th.Color(theme.ColorNameForegroundOnWarning, v)
	r.label.TextSize = th.Size(theme.SizeNameText)
	r.label.Text = r.b.text
	r.bg.Refresh()
	r.label.Refresh()
}

func (r *badgeRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.label} }
func (r *badgeRenderer) Destroy()                     {}

// fixedWidth lays its objects out at a fixed width (the navigation column).
type fixedWidth struct{ width float32 }

func (f fixedWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (f fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(f.width, h)
}

// minSize stretches its objects and never reports less than its size, which
// gives the window its minimum size.
type minSize struct{ size fyne.Size }

func (m minSize) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (m minSize) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := m.size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}
