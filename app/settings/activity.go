package settings

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
)

// The filters above the list.
const (
	filterAll     = "All"
	filterCopied  = "Copied"
	filterSkipped = "Skipped"
)

// showOf is the agent's name of a filter.
func showOf(filter string) string {
	switch filter {
	case filterCopied:
		return agentapi.ShowCopied
	case filterSkipped:
		return agentapi.ShowSkipped
	}
	return agentapi.ShowAll
}

// filterNoun names what a filter lists: "emails", "copied emails".
func filterNoun(filter string) string {
	switch filter {
	case filterCopied:
		return "copied emails"
	case filterSkipped:
		return "skipped emails"
	}
	return "emails"
}

// activityLimit is how many decisions the list asks the agent for.
const activityLimit = 200

// emptyActivityText is shown while the agent has no decisions at all.

// activityPage is the Activity section: the recent decisions with their
// reasons, searchable, so a person can find out why an email did or did not
// sync.
type activityPage struct {
	w    *Window
	root fyne.CanvasObject

	search  *entry
	filter  *widget.RadioGroup // All, Copied, Skipped
	unsure  *fyne.Container    // the uploads waiting for the person's choice
	list    *widget.List
	empty   *widget.Label
	errText *widget.Label
	rows    fyne.CanvasObject // the list and its empty text
	details *detailsView      // one row opened

	items []agentapi.Decision
	query string // the query items answer
	shown string // the filter items answer
	seq   int    // number of the newest request; older answers are dropped
	timer *time.Timer
}

func newActivityPage(w *Window) *activityPage {
	p := &activityPage{w: w}
	p.search = newEntry(w.win)
	p.search.SetPlaceHolder("Search subject, person, client or reason")
	p.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	p.search.OnChanged = p.typed

	p.list = widget.NewList(
		func() int { return len(p.items) },
		newDecisionRow,
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(p.items) {
				updateDecisionRow(o, p.items[id], p.w.opt.now())
			}
		},
	)
	p.list.OnSelected = func(id widget.ListItemID) {
		p.list.UnselectAll()
		if id < len(p.items) {
			p.open(p.items[id])
		}
	}
	p.filter = widget.NewRadioGroup([]string{filterAll, filterCopied, filterSkipped}, func(string) { p.refresh() })
	p.filter.Horizontal = true
	p.filter.Required = true
	p.filter.Selected = filterAll
	p.empty = wrapped(emptyActivityText)
	p.empty.Alignment = fyne.TextAlignCenter
	p.empty.Importance = widget.LowImportance
	p.errText = errorText()

	h := widget.NewLabelWithStyle(SectionActivity, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.SizeName = theme.SizeNameHeadingText
	p.unsure = container.NewVBox()
	p.unsure.Hide() // until there is something to ask
	top := container.NewVBox(h, p.unsure, p.search, p.filter, p.errText)
	p.details = newDetailsView(p)
	p.rows = container.NewStack(p.list, container.NewVBox(p.empty))
	// The list scrolls by itself, so this section is not wrapped in page().
	p.root = container.NewPadded(container.NewBorder(top, nil, nil, nil,
		container.NewStack(p.rows, p.details.root)))
	p.show()
	return p
}

// typed schedules a search once typing pauses.
func (p *activityPage) typed(string) {
	if p.timer != nil {
		p.timer.Stop()
	}
	seq := p.seq + 1
	p.seq = seq
	p.timer = time.AfterFunc(p.w.opt.debounce, func() {
		p.w.opt.do(func() {
			if p.seq == seq {
				p.refresh()
			}
		})
	})
}

// refresh asks the agent for the decisions matching the search text, and
// for the uploads waiting for a choice.
func (p *activityPage) refresh() {
	p.refreshUnsure()
	p.seq++
	seq, query, shown := p.seq, strings.TrimSpace(p.search.Text), p.filter.Selected
	var got []agentapi.Decision
	p.w.call(func(ctx context.Context) (err error) {
		got, err = p.w.api.Activity(ctx, agentapi.ActivityQuery{Text: query, Show: showOf(shown), Limit: activityLimit})
		return err
	}, func(err error) {
		if seq != p.seq {
			return
		}
		if err != nil {
			p.errText.SetText(err.Error())
			p.errText.Show()
			return
		}
		p.errText.Hide()
		p.items, p.query, p.shown = got, query, shown
		p.details.update(got)
		p.show()
	})
}

func (p *activityPage) show() {
	switch {
	case len(p.items) > 0:
		p.empty.Hide()
		p.list.Show()
	case p.query != "":
		p.empty.SetText("No " + filterNoun(p.shown) + " match “" + p.query + "”.")
		p.empty.Show()
		p.list.Hide()
	case p.shown != filterAll && p.shown != "":
		p.empty.SetText("No " + filterNoun(p.shown) + " yet.")
		p.empty.Show()
		p.list.Hide()
	default:
		p.empty.SetText(emptyActivityText)
		p.empty.Show()
		p.list.Hide()
	}
	p.list.Refresh()
}

// decisionRow is one line pair of the list: icon, subject and time on the
// first line; outcome and counterpart on the second.
type decisionRow struct {
	icon        *widget.Icon
	subject     *widget.Label
	time        *widget.RichText
	outcome     *widget.RichText
	counterpart *widget.RichText
}

func newDecisionRow() fyne.CanvasObject {
	r := &decisionRow{
		icon:        widget.NewIcon(theme.ConfirmIcon()),
		subject:     widget.NewLabelWithStyle("Subject", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		time:        dimText("00:00 yesterday"),
		outcome:     dimText("Copied"),
		counterpart: dimText("Counterpart"),
	}
	r.subject.Truncation = fyne.TextTruncateEllipsis
	r.counterpart.Truncation = fyne.TextTruncateEllipsis
	// Labels carry their own padding; the negative gap keeps the two lines
	// of one email visually together.
	lines := container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()),
		container.NewBorder(nil, nil, nil, r.time, r.subject),
		container.NewBorder(nil, nil, r.outcome, nil, r.counterpart),
	)
	b := &rowBox{row: r, content: container.NewBorder(nil, nil, container.NewCenter(r.icon), nil, lines)}
	b.ExtendBaseWidget(b)
	return b
}

// rowBox is a list row that carries its decisionRow, so the list's update
// function finds the widgets without walking the tree.
type rowBox struct {
	widget.BaseWidget
	row     *decisionRow
	content fyne.CanvasObject
}

func (b *rowBox) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(b.content) }

func updateDecisionRow(o fyne.CanvasObject, d agentapi.Decision, now time.Time) {
	r := o.(*rowBox).row
	subject := d.Subject
	if subject == "" {
		subject = "(no subject)"
	}
	r.subject.SetText(subject)
	t := d.Received
	if t.IsZero() {
		t = d.Time
	}
	setRich(r.time, shortWhen(t, now), theme.ColorNamePlaceHolder)
	setRich(r.counterpart, d.Counterpart, theme.ColorNamePlaceHolder)
	if d.Synced {
		r.icon.SetResource(theme.NewSuccessThemedResource(theme.ConfirmIcon()))
		setRich(r.outcome, d.Result(), theme.ColorNameSuccess)
	} else {
		// The colour of the quieter text beside it: a disabled icon is
		// too faint to make out, above all in the dark theme.
		r.icon.SetResource(theme.NewColoredResource(theme.CancelIcon(), theme.ColorNamePlaceHolder))
		setRich(r.outcome, d.Result(), theme.ColorNamePlaceHolder)
	}
	// The outcome's width changed: lay the row out again.
	o.(*rowBox).content.Refresh()
}

// Buttons of an unsure upload.
const (
	copyAgainText = "Copy again"
	dontCopyText  = "Don't copy"
)

// refreshUnsure asks the agent for the uploads it could not confirm and
// shows each with its two choices above the list.
func (p *activityPage) refreshUnsure() {
	var got []engine.UnsureUpload
	p.w.call(func(ctx context.Context) (err error) {
		got, err = p.w.api.Unsure(ctx)
		return err
	}, func(err error) {
		if err != nil {
			// The decisions' own request says what went wrong.
			return
		}
		p.showUnsure(got)
	})
}

func (p *activityPage) showUnsure(us []engine.UnsureUpload) {
	p.unsure.RemoveAll()
	for _, u := range us {
		text := wrapped(u.Words())
		text.Importance = widget.WarningImportance
		var again, leave *widget.Button
		decide := func(copyAgain bool) {
			again.Disable()
			leave.Disable()
			p.w.call(func(ctx context.Context) error {
				return p.w.api.DecideUnsure(ctx, u.ID, copyAgain)
			}, func(err error) {
				if err != nil {
					again.Enable()
					leave.Enable()
					p.errText.SetText(err.Error())
					p.errText.Show()
					return
				}
				p.refresh()
			})
		}
		again = widget.NewButton(copyAgainText, func() { decide(true) })
		leave = widget.NewButton(dontCopyText, func() { decide(false) })
		p.unsure.Add(container.NewVBox(text, buttons(again, leave)))
	}
	if len(us) == 0 {
		p.unsure.Hide()
	} else {
		p.unsure.Show()
	}
	p.unsure.Refresh()
}
