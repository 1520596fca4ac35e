package settings

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agent"
	"mailsync/sync/doctor"
)

// checkTimeout bounds one Check connection: longer than the agent's own
// bound on the checks, which then answer with a result per check.
const checkTimeout = 150 * time.Second

// checkPanel is the Check connection part of the Sync section: a button
// that asks the agent to run its read-only checks of Office 365 and
// ClientSuccess (package doctor), and the outcome, one row per check with
// an ok or failed icon. The checks are the agent's; the panel only shows
// them.
type checkPanel struct {
	w *Window

	btn     *widget.Button
	summary *widget.Label
	rows    *fyne.Container
	errText *widget.Label
	box     *fyne.Container

	running bool
	report  *doctor.Report // the last result, nil before the first
}

func newCheckPanel(w *Window) *checkPanel {
	p := &checkPanel{w: w}
	p.btn = widget.NewButtonWithIcon("Check connection", theme.SearchIcon(), p.check)
	p.summary = wrapped("")
	p.summary.Hide()
	p.rows = container.NewVBox()
	p.errText = errorText()
	p.box = container.NewVBox(
		widget.NewSeparator(),
		wrapped(checkIntro),
		buttons(p.btn),
		p.summary,
		p.rows,
		p.errText,
	)
	return p
}

// CheckConnection runs the connection checks as the Check connection button
// does, and shows their outcome in the Sync section when they end.
func (w *Window) CheckConnection() { w.sync.checks.check() }

func (p *checkPanel) render() {
	if p.w.online && !p.running {
		p.btn.Enable()
	} else {
		p.btn.Disable()
	}
}

func (p *checkPanel) check() {
	if p.running {
		return
	}
	p.running = true
	p.errText.Hide()
	p.summary.SetText("Checking Office 365 and ClientSuccess…")
	p.summary.Show()
	p.rows.Objects = nil
	p.rows.Refresh()
	p.render()
	p.w.sync.root.relayout()
	go func() {
		ctx, cancel := context.WithTimeout(p.w.ctx, checkTimeout)
		defer cancel()
		rep, err := p.w.api.Doctor(ctx)
		if p.w.ctx.Err() != nil {
			return
		}
		p.w.opt.do(func() { p.done(rep, err) })
	}()
}

// done shows the outcome of a run, on the UI goroutine.
func (p *checkPanel) done(rep doctor.Report, err error) {
	p.running = false
	defer p.w.sync.root.relayout()
	defer p.render()
	if err != nil {
		p.summary.Hide()
		p.errText.SetText("The checks could not run: " + err.Error())
		p.errText.Show()
		return
	}
	p.report = &rep
	p.summary.SetText(reportSummary(rep))
	p.rows.Objects = p.rows.Objects[:0]
	for _, r := range rep.Results {
		p.rows.Add(checkRow(r))
	}
	p.rows.Refresh()
}

// reportSummary is the line above the rows, in the agent's words.
func reportSummary(rep doctor.Report) string { return agent.CheckSummary(rep) }

// checkRow is one check: its icon, its name in bold, and what it found.
func checkRow(r doctor.Result) fyne.CanvasObject {
	icon := widget.NewIcon(outcomeIcon(r.Outcome))
	segs := []widget.RichTextSegment{
		&widget.TextSegment{Text: r.Check, Style: widget.RichTextStyle{Inline: true, TextStyle: fyne.TextStyle{Bold: true}}},
	}
	if r.Detail != "" {
		color := theme.ColorNameForeground
		if r.Outcome == doctor.Passed {
			color = theme.ColorNamePlaceHolder
		}
		segs = append(segs, &widget.TextSegment{Text: " — " + r.Detail, Style: widget.RichTextStyle{Inline: true, ColorName: color}})
	}
	text := widget.NewRichText(segs...)
	text.Wrapping = fyne.TextWrapWord
	// The icon sits on the middle of the first line of text, however many
	// lines the detail wraps to.
	top := (widget.NewLabel("X").MinSize().Height - icon.MinSize().Height) / 2
	iconBox := container.New(layout.NewCustomPaddedLayout(max(top, 0), 0, 0, 0), icon)
	return container.NewBorder(nil, nil, container.NewVBox(iconBox), nil, text)
}

// outcomeIcon is a green tick for a pass, a red cross for a failure and a
// grey dash for a check that could not run.
func outcomeIcon(o doctor.Outcome) fyne.Resource {
	var r *theme.ThemedResource
	switch o {
	case doctor.Passed:
		r = theme.NewThemedResource(theme.ConfirmIcon())
		r.ColorName = theme.ColorNameSuccess
	case doctor.Failed:
		r = theme.NewThemedResource(theme.CancelIcon())
		r.ColorName = theme.ColorNameError
	default:
		r = theme.NewThemedResource(theme.ContentRemoveIcon())
		r.ColorName = theme.ColorNameDisabled
	}
	return r
}
