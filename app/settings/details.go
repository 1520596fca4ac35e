package settings

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agentapi"
	"mailsync/sync/match"
)

// Words of a row's details and its fixes.
const (
	backText          = "Back to the list"
	addContactText    = "Add as contact…"
	blockAddressText  = "Never copy this address"
	copyAnywayText    = "Copy this one anyway"
	addText           = "Add contact"
	cancelText        = "Cancel"
	searchClientsText = "Search clients"
	noFolderText      = "a folder Mail Sync reads"
)

func blockDomainText(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return "Never copy " + shorten("@"+d, 32)
}

// detailsView shows one row of Activity opened: the fixes on offer first,
// then the email's participants, folder, each rule's verdict and where it
// was copied.
type detailsView struct {
	p    *activityPage
	root *fyne.Container
	body *fyne.Container
	note *widget.Label // what the last fix did, or why it failed

	d    agentapi.Decision
	open bool
	form *contactForm // the Add as contact form, while open
}

func newDetailsView(p *activityPage) *detailsView {
	v := &detailsView{p: p, body: container.NewVBox(), note: wrapped("")}
	v.note.Hide()
	back := widget.NewButtonWithIcon(backText, theme.NavigateBackIcon(), v.close)
	v.root = container.NewBorder(buttons(back), nil, nil, nil,
		container.NewVScroll(container.NewVBox(v.note, v.body)))
	v.root.Hide()
	return v
}

// open shows d's details in place of the list.
func (p *activityPage) open(d agentapi.Decision) {
	v := p.details
	v.d, v.open, v.form = d, true, nil
	v.note.Hide()
	v.render()
	p.rows.Hide()
	v.root.Show()
}

func (v *detailsView) close() {
	v.open, v.form = false, nil
	v.root.Hide()
	v.p.rows.Show()
	v.p.list.Refresh()
}

// update follows the open row into a new answer of the list (copied by
// the pass a fix started, say); a row no longer listed stays as it was.
func (v *detailsView) update(items []agentapi.Decision) {
	if !v.open || v.form != nil {
		return
	}
	for _, d := range items {
		if d.Key == v.d.Key && d.Key != "" {
			v.d = d
			v.render()
			return
		}
	}
}

// say shows what a fix did, or its error.
func (v *detailsView) say(text string, failed bool) {
	v.note.SetText(text)
	v.note.Importance = widget.SuccessImportance
	if failed {
		v.note.Importance = widget.DangerImportance
	}
	v.note.Show()
	v.note.Refresh()
}

func (v *detailsView) render() {
	d := v.d
	v.body.RemoveAll()
	for _, o := range v.fixes(d) {
		v.body.Add(o)
	}
	subject := d.Subject
	if subject == "" {
		subject = "(no subject)"
	}
	title := widget.NewLabelWithStyle(subject, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	color := theme.ColorNamePlaceHolder
	if d.Synced {
		color = theme.ColorNameSuccess
	}
	outcome := dimText("")
	setRich(outcome, d.Result(), color)
	when := d.Received
	if when.IsZero() {
		when = d.Time
	}
	folder := d.Folder
	if folder == "" {
		folder = noFolderText
	}
	v.body.Add(title)
	v.body.Add(outcome)
	v.body.Add(wrapped("Received " + shortWhen(when, v.p.w.opt.now()) + " · in " + folder))
	if len(d.Participants) > 0 {
		v.body.Add(heading("People"))
		for _, pt := range d.Participants {
			v.body.Add(wrapped(pt.Role + ": " + personText(pt)))
		}
	}
	if len(d.Verdicts) > 0 {
		v.body.Add(heading("Rules"))
		for _, vd := range d.Verdicts {
			v.body.Add(verdictLine(vd))
		}
	}
	if len(d.Copies) > 0 {
		v.body.Add(heading("In ClientSuccess"))
		for _, c := range d.Copies {
			line := "Copied to " + c.Client
			if c.Client == "" {
				line = fmt.Sprintf("Copied to client %d", c.ClientID)
			}
			if c.InteractionID != 0 {
				line += fmt.Sprintf(" as interaction %d", c.InteractionID)
			}
			v.body.Add(wrapped(line))
		}
	}
	v.body.Refresh()
}

func heading(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// personText is a participant with what Mail Sync knows of them.
func personText(p match.Participant) string {
	who := p.Address
	if p.Name != "" && !strings.EqualFold(p.Name, p.Address) {
		who = p.Name + " <" + p.Address + ">"
	}
	switch {
	case p.You:
		return who + " · you"
	case p.Contact:
		return who + " · ClientSuccess contact"
	case p.Internal:
		return who + " · your organization"
	}
	return who + " · not a ClientSuccess contact"
}

// verdictLine is one rule with a tick or a cross.
func verdictLine(vd match.Verdict) fyne.CanvasObject {
	icon := widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
	text := vd.Rule
	switch {
	case vd.Lifted:
		text += " (" + string(vd.Reason) + ", copied anyway by you)"
	case !vd.Passed:
		icon = widget.NewIcon(theme.NewColoredResource(theme.CancelIcon(), theme.ColorNamePlaceHolder))
		text += ": no, " + string(vd.Reason)
	}
	return container.NewBorder(nil, nil, icon, nil, wrapped(text))
}

// fixes are the actions on offer for d: for an email no contact was in,
// per outside address, Add as contact and the two blocks; for one a rule
// of the person's skipped, Copy this one anyway.
func (v *detailsView) fixes(d agentapi.Decision) []fyne.CanvasObject {
	if d.Synced {
		return nil
	}
	var out []fyne.CanvasObject
	if d.Reason == string(match.NoContact) {
		for _, pt := range d.Participants {
			if pt.You || pt.Internal || pt.Contact {
				continue
			}
			addr := pt.Address
			// Two rows, so that a long domain does not widen the window.
			out = append(out, wrapped(personText(pt)), buttons(
				widget.NewButtonWithIcon(addContactText, theme.ContentAddIcon(), func() { v.openContactForm(addr) }),
			), buttons(
				widget.NewButton(blockAddressText, func() { v.block(addr, false) }),
				widget.NewButton(blockDomainText(addr), func() { v.block(addr, true) }),
			))
		}
	}
	if match.Liftable(match.Reason(d.Reason)) && !strings.HasPrefix(d.Key, "graph:") {
		var b *widget.Button
		b = widget.NewButtonWithIcon(copyAnywayText, theme.MailForwardIcon(), func() {
			b.Disable()
			v.copyAnyway(d.Key, b)
		})
		b.Importance = widget.HighImportance
		out = append(out, buttons(b))
	}
	return out
}

func (v *detailsView) block(addr string, wholeDomain bool) {
	var entry string
	v.p.w.call(func(ctx context.Context) (err error) {
		entry, err = v.p.w.api.BlockAddress(ctx, addr, wholeDomain)
		return err
	}, func(err error) {
		if err != nil {
			v.say(err.Error(), true)
			return
		}
		v.say(blockedWords(entry), false)
		v.p.w.options.load()
	})
}

func (v *detailsView) copyAnyway(key string, b *widget.Button) {
	v.p.w.call(func(ctx context.Context) error {
		return v.p.w.api.CopyAnyway(ctx, key)
	}, func(err error) {
		if err != nil {
			b.Enable()
			v.say(err.Error(), true)
			return
		}
		v.say(copiedAnywayWords, false)
		v.p.refresh()
	})
}

// contactForm is Add as contact: the names, and the client picked from a
// searchable list, the suggested one chosen to start with.
type contactForm struct {
	addr    string
	first   *entry
	last    *entry
	search  *entry
	list    *widget.List
	hint    *widget.Label
	add     *widget.Button
	all     []agentapi.ClientChoice
	shown   []agentapi.ClientChoice
	chosen  int64
	pending bool
}

func (v *detailsView) openContactForm(addr string) {
	f := &contactForm{addr: addr}
	v.form = f
	win := v.p.w.win
	f.first, f.last, f.search = newEntry(win), newEntry(win), newEntry(win)
	f.first.SetPlaceHolder("First name")
	f.last.SetPlaceHolder("Last name")
	f.search.SetPlaceHolder(searchClientsText)
	f.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	f.hint = wrapped(lookingUpClients)
	f.list = widget.NewList(func() int { return len(f.shown) },
		func() fyne.CanvasObject { return widget.NewLabel("Client name") },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(f.shown) {
				o.(*widget.Label).SetText(f.shown[id].Name)
			}
		})
	f.list.OnSelected = func(id widget.ListItemID) {
		if id < len(f.shown) {
			f.chosen = f.shown[id].ID
			f.enable()
		}
	}
	f.search.OnChanged = func(string) { f.filter() }
	f.add = widget.NewButtonWithIcon(addText, theme.ConfirmIcon(), func() { v.addContact(f) })
	f.add.Importance = widget.HighImportance
	f.add.Disable()
	cancel := widget.NewButton(cancelText, func() { v.form = nil; v.render() })
	v.body.RemoveAll()
	v.body.Add(heading("Add " + addr + " to ClientSuccess"))
	v.body.Add(container.NewGridWithColumns(2, f.first, f.last))
	v.body.Add(f.hint)
	v.body.Add(f.search)
	// A list needs a height of its own inside the scroll.
	v.body.Add(container.NewGridWrap(fyne.NewSize(360, 160), f.list))
	v.body.Add(buttons(f.add, cancel))
	v.body.Refresh()
	v.note.Hide()

	var s agentapi.ContactSuggestion
	v.p.w.call(func(ctx context.Context) (err error) {
		s, err = v.p.w.api.SuggestContact(ctx, addr)
		return err
	}, func(err error) {
		if v.form != f {
			return
		}
		if err != nil {
			f.hint.SetText(err.Error())
			f.hint.Importance = widget.DangerImportance
			f.hint.Refresh()
			return
		}
		f.fill(s)
	})
}

// fill puts the suggestion into the form.
func (f *contactForm) fill(s agentapi.ContactSuggestion) {
	f.first.SetText(s.FirstName)
	f.last.SetText(s.LastName)
	f.all = s.Clients
	_, domain, _ := strings.Cut(s.Address, "@")
	switch len(s.Suggested) {
	case 0:
		f.hint.SetText(noContactAtWords(domain))
	case 1:
		f.chosen = s.Suggested[0].ID
		f.hint.SetText(suggestedWords(s.Suggested[0].Name, plural(s.Suggested[0].Contacts, "contact"), domain))
	default:
		names := make([]string, len(s.Suggested))
		for i, c := range s.Suggested {
			names[i] = c.Name
		}
		f.chosen = s.Suggested[0].ID
		f.hint.SetText(severalClientsWords(domain, names))
	}
	f.filter()
	f.enable()
}

// filter shows the clients whose name contains the search text, the
// chosen one selected.
func (f *contactForm) filter() {
	q := strings.ToLower(strings.TrimSpace(f.search.Text))
	f.shown = f.shown[:0]
	for _, c := range f.all {
		if q == "" || strings.Contains(strings.ToLower(c.Name), q) {
			f.shown = append(f.shown, c)
		}
	}
	f.list.UnselectAll()
	f.list.Refresh()
	for i, c := range f.shown {
		if c.ID == f.chosen {
			f.list.Select(i)
			f.list.ScrollTo(i)
		}
	}
}

func (f *contactForm) enable() {
	if f.chosen != 0 && !f.pending {
		f.add.Enable()
	} else {
		f.add.Disable()
	}
}

func (v *detailsView) addContact(f *contactForm) {
	f.pending = true
	f.enable()
	in := agentapi.NewContact{Address: f.addr, FirstName: f.first.Text, LastName: f.last.Text, ClientID: f.chosen}
	var out agentapi.AddedContact
	v.p.w.call(func(ctx context.Context) (err error) {
		out, err = v.p.w.api.AddContact(ctx, in)
		return err
	}, func(err error) {
		f.pending = false
		if v.form != f {
			return
		}
		if err != nil {
			var ce *agentapi.ClientChoiceError
			if errors.As(err, &ce) {
				f.hint.SetText(ce.Words)
			} else {
				f.hint.SetText(err.Error())
			}
			f.hint.Importance = widget.DangerImportance
			f.hint.Refresh()
			f.enable()
			return
		}
		v.form = nil
		v.render()
		v.say(addedWords(f.addr, out), false)
		v.p.refresh()
	})
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// OpenActivity shows Activity with the row of the email with key opened,
// as a click on it does, and with addContact set, its Add as contact form
// for that address. It reports false when Activity does not list the
// email. Call it on the Fyne thread.
func (w *Window) OpenActivity(key, addContact string) bool {
	for _, d := range w.activity.items {
		if d.Key == key {
			w.Select(SectionActivity)
			w.activity.open(d)
			if addContact != "" {
				w.activity.details.openContactForm(addContact)
			}
			return true
		}
	}
	return false
}
