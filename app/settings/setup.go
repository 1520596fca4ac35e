package settings

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agentapi"
	"mailsync/sync/setup"
)

// setupLabels names the fields as a person reads them, with a hint.
var setupLabels = map[string][2]string{
	setup.KeyClientID: {"Microsoft app (client) ID", ""},
	setup.KeyTenant:   {"Directory", "organizations (any work or school account), your company's domain (contoso.com) or its directory (tenant) ID."},
	setup.KeyCRMURL:   {"ClientSuccess address", ""},
}

// setupField is one field of a setup form: its entry, the sentence that
// says what is wrong with what is typed, and the lock note.
type setupField struct {
	key    string
	entry  *entry
	value  *widget.Label // stands in for the entry when the organisation sets the value
	hint   fyne.CanvasObject
	err    *widget.Label
	locked *widget.RichText // "Set by your organization", or the environment's note
	policy bool             // the organisation sets it: not editable
	shown  string           // the value the agent reported, as put in the entry
}

// setupForm edits the Microsoft app, directory and ClientSuccess address:
// each field is checked as it is typed, and Save is only possible when
// every field is valid; a value the organisation sets is shown locked.
type setupForm struct {
	w        *Window
	page     *sectionPage
	fields   []*setupField
	save     *widget.Button
	feedback *widget.Label
	saveErr  *widget.Label
	problems *widget.Label
	// requireClientID: the first-run page cannot be saved without one.
	requireClientID bool
	saving          bool
}

func newSetupForm(w *Window, page func(objs ...fyne.CanvasObject) *sectionPage, saveText string, requireClientID bool) *setupForm {
	f := &setupForm{w: w, requireClientID: requireClientID}
	var objs []fyne.CanvasObject
	for _, k := range setup.Keys {
		sf := &setupField{key: k, entry: newEntry(w.win), err: errorText(), locked: dimText(lockedNote)}
		sf.entry.SetPlaceHolder(placeholder(k))
		sf.entry.OnChanged = func(string) { f.render() }
		sf.value = widget.NewLabel("")
		sf.value.Selectable = true
		sf.value.Hide()
		sf.locked.Hide()
		title := widget.NewLabelWithStyle(setupLabels[k][0], fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		f.fields = append(f.fields, sf)
		objs = append(objs, container.NewBorder(nil, nil, nil, container.NewCenter(sf.locked), title))
		if h := setupLabels[k][1]; h != "" {
			hint := dimText(h)
			hint.Wrapping = fyne.TextWrapWord
			sf.hint = hint
			objs = append(objs, hint)
		}
		objs = append(objs, sf.entry, sf.value, sf.err)
	}
	f.save = widget.NewButtonWithIcon(saveText, theme.ConfirmIcon(), f.saveChanges)
	f.save.Importance = widget.HighImportance
	f.feedback = widget.NewLabel("")
	f.feedback.Importance = widget.SuccessImportance
	f.saveErr = errorText()
	f.problems = wrapped("")
	f.problems.Importance = widget.WarningImportance
	f.problems.Hide()
	objs = append(objs, f.saveErr, buttons(f.save, f.feedback), f.problems)
	f.page = page(objs...)
	f.render()
	return f
}

func placeholder(key string) string {
	switch key {
	case setup.KeyClientID:
		return "00000000-0000-0000-0000-000000000000"
	case setup.KeyTenant:
		return setup.DefaultTenant
	}
	return setup.DefaultCRMAddress
}

// set shows the setup the agent reported. What the person typed and has
// not saved stays.
func (f *setupForm) set(s agentapi.Setup) {
	for _, sf := range f.fields {
		fl := s.Field(sf.key)
		v := fl.Value
		if sf.entry.Text == sf.shown {
			sf.entry.SetText(v)
		}
		sf.shown = v
		sf.policy = fl.Locked()
		for _, o := range []fyne.CanvasObject{sf.entry, sf.hint} {
			if o != nil && sf.policy {
				o.Hide()
			} else if o != nil {
				o.Show()
			}
		}
		if sf.policy {
			sf.value.Show()
		} else {
			sf.value.Hide()
		}
		switch {
		case sf.policy:
			sf.entry.SetText(v)
			setRich(sf.locked, lockedNote, theme.ColorNamePlaceHolder)
			sf.locked.Show()
			sf.value.SetText(v)
		case fl.Source == setup.FromEnv:
			setRich(sf.locked, envNote, theme.ColorNamePlaceHolder)
			sf.locked.Show()
		default:
			sf.locked.Hide()
		}
	}
	if len(s.PolicyProblems) > 0 {
		f.problems.SetText(policyTitle + "\n" + strings.Join(s.PolicyProblems, "\n"))
		f.problems.Show()
	} else {
		f.problems.Hide()
	}
	f.render()
}

// check returns the changes typed, or the first field's error; each
// field's error is shown under it.
func (f *setupForm) check() (map[string]string, bool) {
	changes := map[string]string{}
	ok := true
	for _, sf := range f.fields {
		locked := sf.policy
		text := strings.TrimSpace(sf.entry.Text)
		var err error
		switch {
		case locked:
		case text == "" && sf.key == setup.KeyClientID && f.requireClientID:
			err = errEmptyClientID
		case text == "":
			if sf.shown != "" {
				changes[sf.key] = ""
			}
		default:
			var norm string
			norm, err = setup.Check(sf.key, text)
			if err == nil && norm != sf.shown && text != sf.shown {
				changes[sf.key] = norm
			}
		}
		if err != nil && text != "" {
			sf.err.SetText(err.Error())
			sf.err.Show()
		} else {
			sf.err.Hide()
		}
		if err != nil {
			ok = false
		}
	}
	return changes, ok
}

func (f *setupForm) render() {
	defer f.page.relayout()
	changes, ok := f.check()
	for _, sf := range f.fields {
		if sf.policy || !f.w.online {
			sf.entry.Disable()
		} else {
			sf.entry.Enable()
		}
	}
	if ok && f.w.online && !f.saving && (len(changes) > 0 || f.requireClientID) {
		f.save.Enable()
	} else {
		f.save.Disable()
	}
	if len(changes) > 0 {
		f.feedback.SetText("")
	}
}

// saveChanges sends what changed; the agent checks it again and saves all
// of it or nothing.
func (f *setupForm) saveChanges() {
	changes, ok := f.check()
	if !ok {
		return
	}
	f.saving = true
	f.feedback.SetText("Saving…")
	f.render()
	f.w.call(func(ctx context.Context) error {
		if len(changes) == 0 {
			return nil
		}
		return f.w.api.SetSetup(ctx, changes)
	}, func(err error) {
		f.saving = false
		f.feedback.SetText("")
		f.page.showErr(f.saveErr, err)
		if err == nil {
			for _, sf := range f.fields {
				if v, ok := changes[sf.key]; ok {
					sf.shown = v
					sf.entry.SetText(v)
				}
			}
			f.feedback.SetText("Saved")
			f.w.loadSetup()
		}
		f.render()
	})
}

// aboutPage is the About section: the version, and where the
// organisation's policy comes from.
type aboutPage struct {
	root    *sectionPage
	version *widget.Label
}

func newAboutPage() *aboutPage {
	p := &aboutPage{version: widget.NewLabel("Mail Sync")}
	p.version.TextStyle.Bold = true
	p.root = page(SectionAbout, p.version,
		wrapped(aboutText))
	return p
}

func (p *aboutPage) set(s agentapi.Setup) {
	if s.Version != "" {
		p.version.SetText("Mail Sync " + s.Version)
	}
	p.root.relayout()
}

// loadSetup fetches the setup from the agent and shows it: the first-run
// page while no app ID is configured, the sections after.
func (w *Window) loadSetup() {
	var s agentapi.Setup
	w.call(func(ctx context.Context) (err error) {
		s, err = w.api.Setup(ctx)
		return err
	}, func(err error) {
		if err != nil {
			return
		}
		w.setupInfo, w.setupLoaded = s, true
		w.firstRun.set(s)
		w.advanced.set(s)
		w.about.set(s)
		w.render()
	})
}

// showFirstRun reports whether the first-run page stands in for the
// sections: the agent said no app ID is configured.
func (w *Window) showFirstRun() bool { return w.setupLoaded && !w.setupInfo.Ready() }

// TypeSetup puts text into the setup field of key (one of setup.Keys) on
// the first-run page while it shows, else under Advanced, as typing would:
// the field is checked at once. The screenshot tooling uses it.
func (w *Window) TypeSetup(key, text string) {
	f := w.advanced
	if w.showFirstRun() {
		f = w.firstRun
	}
	for _, sf := range f.fields {
		if sf.key == key {
			sf.entry.SetText(text)
		}
	}
}
