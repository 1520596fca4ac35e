package settings

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agentapi"
	"mailsync/sync/match"
)

// optionsPage is the Options section. Check boxes save at once; the
// blocklist is saved with its button, because it is edited a line at a time.
type optionsPage struct {
	w    *Window
	root *sectionPage

	startAtLogin, ignoreInternal, skipPrivate *widget.Check
	// history is how many days of mail a contact added later gets.
	history   *widget.Select
	blocklist *entry
	saveBtn   *widget.Button
	feedback  *widget.Label
	blockErr  *widget.Label
	fixBtn    *widget.Button // rewrites the lines that have a plain fix, and saves
	// startLocked and internalLocked say an option is set by the
	// organisation; orgBlocklist lists the entries the policy adds.
	startLocked, internalLocked *widget.RichText
	// historyLocked says the organisation sets the days of history.
	historyLocked *widget.RichText
	orgBlocklist  *widget.Label

	saved    agentapi.Settings // the settings as the agent last confirmed them
	loaded   bool              // saved came from the agent
	updating bool              // the checks are being set from saved, not by the person
	dirty    bool              // the blocklist text differs from saved
	saveSeq  int               // number of the newest save; older answers only update saved
}

func newOptionsPage(w *Window) *optionsPage {
	p := &optionsPage{w: w}
	p.startAtLogin = widget.NewCheck("Start Mail Sync when I log in", func(bool) { p.checked() })
	p.ignoreInternal = widget.NewCheck("Ignore mail within my organization", func(bool) { p.checked() })
	p.skipPrivate = widget.NewCheck("Never sync private or confidential messages", func(bool) { p.checked() })
	p.history = widget.NewSelect(historyChoices(0), func(string) { p.checked() })
	historyTitle := widget.NewLabel("When a contact is added in ClientSuccess, also copy their mail from the last")
	historyHelp := dimText(historyHelpText)
	historyHelp.Wrapping = fyne.TextWrapWord

	p.blocklist = newMultiLineEntry(w.win)
	p.blocklist.SetMinRowsVisible(5)
	p.blocklist.OnChanged = func(string) {
		p.dirty = true
		p.feedback.SetText("")
		p.fixBtn.Hide()
		p.render()
	}
	p.saveBtn = widget.NewButtonWithIcon("Save blocklist", theme.DocumentSaveIcon(), p.saveBlocklist)
	p.feedback = widget.NewLabel("")
	p.feedback.Importance = widget.SuccessImportance
	p.blockErr = errorText()
	p.fixBtn = p.newFixButton()

	blockTitle := widget.NewLabelWithStyle("Blocklist", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	blockHelp := dimText(blocklistHelp)
	blockHelp.Wrapping = fyne.TextWrapWord

	p.startLocked, p.internalLocked = dimText(lockedNote), dimText(lockedNote)
	p.historyLocked = dimText(lockedNote)
	p.startLocked.Hide()
	p.internalLocked.Hide()
	p.historyLocked.Hide()
	p.orgBlocklist = wrapped("")
	p.orgBlocklist.Hide()

	p.root = page(SectionOptions,
		container.NewHBox(p.startAtLogin, container.NewCenter(p.startLocked)),
		container.NewHBox(p.ignoreInternal, container.NewCenter(p.internalLocked)),
		p.skipPrivate,
		historyTitle,
		container.NewHBox(container.NewGridWrap(fyne.NewSize(160, p.history.MinSize().Height), p.history), container.NewCenter(p.historyLocked)),
		historyHelp,
		widget.NewSeparator(),
		// Save and the fix right under the list, so that a long error
		// below never hides them.
		blockTitle, blockHelp, p.blocklist, buttons(p.saveBtn, p.fixBtn, p.feedback), p.blockErr, p.orgBlocklist,
	)
	return p
}

// load fetches the settings from the agent. Text the person typed into the
// blocklist and has not saved is kept.
func (p *optionsPage) load() {
	var s agentapi.Settings
	p.w.call(func(ctx context.Context) (err error) {
		s, err = p.w.api.Settings(ctx)
		return err
	}, func(err error) {
		if err != nil {
			p.feedback.SetText("")
			p.blockErr.SetText("Could not read the settings: " + err.Error())
			p.blockErr.Show()
			p.root.relayout()
			return
		}
		p.set(s)
	})
}

// set shows s as the saved settings.
func (p *optionsPage) set(s agentapi.Settings) {
	p.saved, p.loaded = s, true
	p.updating = true
	p.startAtLogin.SetChecked(s.StartAtLogin)
	p.ignoreInternal.SetChecked(s.Rules.IgnoreInternal)
	p.skipPrivate.SetChecked(s.Rules.SkipPrivate)
	p.history.Options = historyChoices(s.Rules.HistoryDays)
	p.history.SetSelected(historyChoice(s.Rules.HistoryDays))
	if !p.dirty {
		p.blocklist.SetText(strings.Join(s.Rules.Blocklist, "\n"))
		p.dirty = false
	}
	p.updating = false
	pol := s.Policy
	if pol == nil {
		pol = &agentapi.PolicyRules{}
	}
	for _, x := range []struct {
		locked bool
		note   *widget.RichText
	}{{pol.StartAtLogin != nil, p.startLocked}, {pol.IgnoreInternal != nil, p.internalLocked}, {pol.HistoryDays != nil, p.historyLocked}} {
		if x.locked {
			x.note.Show()
		} else {
			x.note.Hide()
		}
	}
	if len(pol.Blocklist) > 0 {
		p.orgBlocklist.SetText("Your organization also blocks: " + strings.Join(pol.Blocklist, ", "))
		p.orgBlocklist.Show()
	} else {
		p.orgBlocklist.Hide()
	}
	p.render()
}

func (p *optionsPage) render() {
	defer p.root.relayout()
	ok := p.w.online && p.loaded
	for _, c := range []*widget.Check{p.startAtLogin, p.ignoreInternal, p.skipPrivate} {
		locked := c == p.startAtLogin && p.startLocked.Visible() || c == p.ignoreInternal && p.internalLocked.Visible()
		if ok && !locked {
			c.Enable()
		} else {
			c.Disable()
		}
	}
	if ok && !p.historyLocked.Visible() {
		p.history.Enable()
	} else {
		p.history.Disable()
	}
	if ok && p.dirty {
		p.saveBtn.Enable()
	} else {
		p.saveBtn.Disable()
	}
}

func (p *optionsPage) checked() {
	if p.updating || !p.loaded {
		return
	}
	s := p.saved
	s.StartAtLogin = p.startAtLogin.Checked
	s.Rules.IgnoreInternal = p.ignoreInternal.Checked
	s.Rules.SkipPrivate = p.skipPrivate.Checked
	if d, ok := historyDays(p.history.Selected); ok {
		s.Rules.HistoryDays = d
	}
	p.save(s)
}

// historyPresets are the days of history offered for a contact added
// later; 0 is ClientSuccess's own 24-hour rule.
var historyPresets = []int{0, 7, 14, 30, 60, match.MaxHistoryDays}

// historyChoice words a number of days of history.
func historyChoice(days int) string {
	switch days {
	case 0:
		return "24 hours"
	case 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", days)
}

// historyChoices are the presets, with days among them when it is another
// number (set from the command line or an older version).
func historyChoices(days int) []string {
	ds := slices.Clone(historyPresets)
	if !slices.Contains(ds, days) && days > 0 && days <= match.MaxHistoryDays {
		ds = append(ds, days)
		slices.Sort(ds)
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = historyChoice(d)
	}
	return out
}

// historyDays reads a choice back into days.
func historyDays(choice string) (int, bool) {
	for d := 0; d <= match.MaxHistoryDays; d++ {
		if historyChoice(d) == choice {
			return d, true
		}
	}
	return 0, false
}

func (p *optionsPage) saveBlocklist() {
	list, err := parseBlocklist(p.blocklist.Text)
	if err != nil {
		p.feedback.SetText("")
		p.blockErr.SetText("Not saved: " + err.Error() + ".")
		p.blockErr.Show()
		p.showFixes()
		p.root.relayout()
		// The refusal, the fix and Save are at the page's end: in view.
		p.root.ScrollToBottom()
		return
	}
	p.blockErr.Hide()
	p.fixBtn.Hide()
	p.root.relayout()
	s := p.saved
	s.Rules.Blocklist = list
	p.save(s)
}

// save sends s to the agent; on success s becomes the saved settings, on
// failure the controls go back to what is saved (the blocklist text stays, so
// nothing typed is lost).
func (p *optionsPage) save(s agentapi.Settings) {
	p.saveSeq++
	seq := p.saveSeq
	p.feedback.SetText("Saving…")
	p.w.call(func(ctx context.Context) error {
		return p.w.api.SetSettings(ctx, s)
	}, func(err error) {
		if seq != p.saveSeq {
			// A newer save, built from the controls as they are now, is on
			// its way; its answer decides what the controls show.
			if err == nil {
				p.saved = s
			}
			return
		}
		if err != nil {
			p.feedback.SetText("")
			p.blockErr.SetText("Not saved: " + err.Error())
			p.blockErr.Show()
			p.root.relayout()
			p.set(p.saved)
			return
		}
		p.blockErr.Hide()
		p.root.relayout()
		if strings.Join(s.Rules.Blocklist, "\n") != strings.Join(p.saved.Rules.Blocklist, "\n") {
			p.dirty = false
		}
		rules := !slices.Equal(s.Rules.Blocklist, p.saved.Rules.Blocklist) ||
			s.Rules.IgnoreInternal != p.saved.Rules.IgnoreInternal || s.Rules.SkipPrivate != p.saved.Rules.SkipPrivate
		p.set(s)
		if !rules {
			p.feedback.SetText("Saved")
			return
		}
		// The agent decided Activity's rows again with the new rules
		// (engine.Redecide); uploads wait for a sync.
		p.feedback.SetText(rulesSaved)
		p.w.activity.refresh()
	})
}

// parseBlocklist reads one address or @domain per line; blank lines are
// ignored and duplicates dropped. The error names every line that is
// neither, so the person can fix them all at once.
func parseBlocklist(text string) ([]string, error) {
	list, bad := match.CleanBlocklist(strings.Split(text, "\n"))
	if len(bad) == 0 {
		return list, nil
	}
	lines := make([]string, len(bad))
	for i, b := range bad {
		lines[i] = fmt.Sprintf("line %d (%q%s)", b.Line, shorten(b.Text, 40), blockHint(b))
	}
	return nil, fmt.Errorf("%s %s not an email address or @domain",
		strings.Join(lines, ", "), map[bool]string{true: "is", false: "are"}[len(bad) == 1])
}

// blockHint says the entry a person probably meant for a line that is not
// one (match.ReadBlockLine's fix).
func blockHint(b match.BadBlockLine) string {
	switch {
	case b.Fix == "":
		return ""
	case strings.HasPrefix(b.Text, "*@"):
		return ": write " + shorten(b.Fix, 40) + ", without the *"
	}
	return ": for the whole domain write " + shorten(b.Fix, 40)
}
