package settings

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/storage"
	"mailsync/sync/engine"
)

// previewTimeout bounds one preview: it reads up to a year of mail.
const previewTimeout = 30 * time.Minute

// Choices of how far back to copy.
const (
	choice7     = "7 days"
	choice30    = "30 days"
	choice90    = "90 days"
	choiceOther = "Other:"
)

// backfillPanel is Copy older mail… in the Sync section: the person
// chooses how far back, sees what would be copied (emails, clients) before
// anything is uploaded, then copies with a progress bar and can cancel.
// While the agent copies, its Status.Backfill drives the panel, so the
// progress shows in every window and after the window is reopened.
type backfillPanel struct {
	w *Window

	openBtn *widget.Button
	choose  *widget.RadioGroup
	other   *entry
	chooser *fyne.Container

	previewBtn, copyBtn, closeBtn, cancelBtn *widget.Button
	text                                     *widget.Label
	clients                                  *fyne.Container
	bar                                      *widget.ProgressBar
	busy                                     *widget.ProgressBarInfinite
	errText                                  *widget.Label
	box                                      *fyne.Container

	// open: the chooser or a preview is shown; previewing: a preview is
	// being read (stop ends it); preview is the last one read.
	open       bool
	previewing bool
	stop       context.CancelFunc
	preview    *engine.Backfill
}

func newBackfillPanel(w *Window) *backfillPanel {
	p := &backfillPanel{w: w}
	p.openBtn = widget.NewButtonWithIcon("Copy older mail…", theme.HistoryIcon(), p.start)
	p.choose = widget.NewRadioGroup([]string{choice7, choice30, choice90, choiceOther}, func(string) { p.render() })
	p.choose.Horizontal = true
	p.choose.Required = true
	p.choose.Selected = choice30
	p.other = newEntry(w.win)
	p.other.SetPlaceHolder("days, up to 365")
	p.other.OnChanged = func(string) { p.render() }
	p.previewBtn = widget.NewButtonWithIcon("Preview", theme.SearchIcon(), p.runPreview)
	p.previewBtn.Importance = widget.HighImportance
	p.copyBtn = widget.NewButtonWithIcon("Copy", theme.UploadIcon(), p.copyNow)
	p.copyBtn.Importance = widget.HighImportance
	p.closeBtn = widget.NewButton("Close", p.close)
	p.cancelBtn = widget.NewButtonWithIcon("Cancel copying", theme.CancelIcon(), p.cancelCopy)
	p.text = wrapped("")
	p.clients = container.NewVBox()
	p.bar = widget.NewProgressBar()
	p.busy = widget.NewProgressBarInfinite()
	p.busy.Stop()
	p.errText = errorText()
	p.chooser = container.NewVBox(
		widget.NewLabel(backfillHowFar),
		container.NewHBox(p.choose, container.New(fixedWidth{150}, p.other)),
	)
	p.box = container.NewVBox(
		widget.NewSeparator(),
		wrapped(backfillIntro),
		p.chooser,
		p.busy,
		p.bar,
		p.text,
		p.clients,
		buttons(p.openBtn, p.previewBtn, p.copyBtn, p.cancelBtn, p.closeBtn),
		p.errText,
	)
	return p
}

// days is the number of days chosen, or 0 when the choice is not a number
// from 1 to 365.
func (p *backfillPanel) days() int {
	switch p.choose.Selected {
	case choice7:
		return 7
	case choice30:
		return 30
	case choice90:
		return 90
	}
	n, err := strconv.Atoi(strings.TrimSpace(p.other.Text))
	if err != nil || n < 1 || n > engine.MaxBackfillDays {
		return 0
	}
	return n
}

func (p *backfillPanel) running() bool {
	b := p.w.status.Backfill
	return b != nil && b.State == storage.BackfillRunning
}

// render shows the panel for the status and what the person chose.
func (p *backfillPanel) render() {
	hideAll := func(objs ...fyne.CanvasObject) {
		for _, o := range objs {
			o.Hide()
		}
	}
	hideAll(p.chooser, p.busy, p.bar, p.text, p.clients, p.openBtn, p.previewBtn, p.copyBtn, p.cancelBtn, p.closeBtn)
	p.busy.Stop()
	online := p.w.online && (p.w.status.Actions().SyncNow || p.w.status.State == engine.Syncing)
	b := p.w.status.Backfill
	switch {
	case p.running():
		p.showProgress(*b)
		p.cancelBtn.Show()
		enable(p.cancelBtn, p.w.online)
	case p.previewing:
		p.text.SetText(fmt.Sprintf(backfillReading, p.days()))
		p.text.Show()
		p.busy.Show()
		p.busy.Start()
		p.closeBtn.SetText("Cancel")
		p.closeBtn.Show()
	case p.open && p.preview != nil:
		p.showPreview(*p.preview)
		if p.preview.Emails > 0 {
			p.copyBtn.Show()
			enable(p.copyBtn, online)
		}
		p.closeBtn.SetText("Close")
		p.closeBtn.Show()
	case p.open:
		p.chooser.Show()
		if p.choose.Selected == choiceOther {
			p.other.Show()
		} else {
			p.other.Hide()
		}
		p.previewBtn.Show()
		enable(p.previewBtn, online && p.days() > 0)
		p.closeBtn.SetText("Cancel")
		p.closeBtn.Show()
	default:
		if b != nil {
			p.showEnded(*b)
		}
		p.openBtn.Show()
		enable(p.openBtn, online)
	}
}

// showProgress is the backfill in flight: a bar over the days it covers,
// the emails read and copied, and the clients they went to.
func (p *backfillPanel) showProgress(b engine.Backfill) {
	p.bar.Max = 1
	p.bar.TextFormatter = func() string {
		return itoa(int(engine.BackfillShare(b)*100+0.5)) + "% of " + itoa(b.Days) + " days"
	}
	p.bar.SetValue(engine.BackfillShare(b))
	p.bar.Show()
	p.text.SetText(fmt.Sprintf(backfillCopying, b.Read, emailCount(b.Emails), clientsSuffix(b)))
	p.text.Show()
	p.fillClients(b.Clients, "copied")
}

// showPreview says what a copy would do, before anything is uploaded.
func (p *backfillPanel) showPreview(b engine.Backfill) {
	span := fmt.Sprintf(backfillSpan, day(b.From), day(b.To))
	var s string
	switch {
	case b.Emails == 0:
		s = fmt.Sprintf(backfillNothing, b.Read, span) + leftOut(b)
	case b.LeftOut > 0:
		s = fmt.Sprintf(backfillWouldLeftOut, emailCount(b.Emails), b.Read, span, leftOut(b))
	default:
		s = fmt.Sprintf(backfillWould, emailCount(b.Emails), b.Read, span)
	}
	p.text.SetText(s)
	p.text.Show()
	p.fillClients(b.Clients, "")
}

// leftOut is what b leaves out because Mail Sync cannot tell whether it
// copied it, as a sentence after a space; "" when nothing.
func leftOut(b engine.Backfill) string {
	if s := engine.BackfillLeftOut(b); s != "" {
		return " " + s
	}
	return ""
}

// showEnded says how the last backfill ended.
func (p *backfillPanel) showEnded(b engine.Backfill) {
	var s string
	switch b.State {
	case storage.BackfillDone:
		s = fmt.Sprintf(backfillDone, emailCount(b.Emails), b.Days) + leftOut(b)
	case storage.BackfillCancelled:
		s = fmt.Sprintf(backfillCancelled, emailCount(b.Emails))
	case storage.BackfillFailed:
		s = backfillStopped + b.Error
	default:
		return
	}
	p.text.SetText(s)
	p.text.Show()
}

func (p *backfillPanel) fillClients(cs []storage.BackfillClient, verb string) {
	p.clients.Objects = p.clients.Objects[:0]
	for _, c := range cs {
		line := c.Name + " — " + emailCount(c.Emails)
		if verb != "" {
			line += " " + verb
		}
		p.clients.Add(container.New(layout.NewCustomPaddedLayout(0, 0, theme.Padding()*4, 0), widget.NewLabel(line)))
	}
	p.clients.Refresh()
	if len(cs) > 0 {
		p.clients.Show()
	}
}

func (p *backfillPanel) start() {
	p.errText.Hide()
	p.open, p.preview = true, nil
	p.render()
	p.w.sync.root.relayout()
}

func (p *backfillPanel) close() {
	if p.stop != nil {
		p.stop()
		p.stop = nil
	}
	p.open, p.previewing, p.preview = false, false, nil
	p.render()
	p.w.sync.root.relayout()
}

// runPreview asks the agent what a copy of the days chosen would do.
func (p *backfillPanel) runPreview() {
	days := p.days()
	if days == 0 || p.previewing {
		return
	}
	p.errText.Hide()
	p.previewing = true
	ctx, cancel := context.WithTimeout(p.w.ctx, previewTimeout)
	p.stop = cancel
	p.render()
	p.w.sync.root.relayout()
	go func() {
		defer cancel()
		b, err := p.w.api.PreviewBackfill(ctx, days)
		if p.w.ctx.Err() != nil || ctx.Err() != nil {
			return
		}
		p.w.opt.do(func() {
			if !p.previewing {
				return // closed meanwhile
			}
			p.previewing, p.stop = false, nil
			if err != nil {
				p.showErr(err)
			} else {
				p.preview = &b
			}
			p.render()
			p.w.sync.root.relayout()
		})
	}()
}

// copyNow starts the copy the preview showed.
func (p *backfillPanel) copyNow() {
	if p.preview == nil {
		return
	}
	days := p.preview.Days
	p.w.call(func(ctx context.Context) error { return p.w.api.StartBackfill(ctx, days) }, func(err error) {
		if err != nil {
			p.showErr(err)
			return
		}
		p.open, p.preview = false, nil
		p.render()
		p.w.sync.root.relayout()
	})
}

func (p *backfillPanel) cancelCopy() {
	p.w.call(p.w.api.CancelBackfill, p.showErr)
}

func (p *backfillPanel) showErr(err error) {
	p.w.sync.root.showErr(p.errText, err)
}

// emailCount is "1 email" or "n emails".
func emailCount(n int) string {
	if n == 1 {
		return "1 email"
	}
	return itoa(n) + " emails"
}

// clientsSuffix names how many clients the copied emails went to.
func clientsSuffix(b engine.Backfill) string {
	switch n := len(b.Clients); n {
	case 0:
		return ""
	case 1:
		return " to 1 client"
	default:
		return " to " + itoa(n) + " clients"
	}
}

// day is a date as the panel shows it.
func day(t time.Time) string { return t.Local().Format("2 Jan 2006") }

// PreviewBackfill opens Copy older mail… with days chosen and asks for the
// preview, as the person does with the buttons.
func (w *Window) PreviewBackfill(days int) {
	p := w.sync.backfill
	switch days {
	case 7:
		p.choose.SetSelected(choice7)
	case 30:
		p.choose.Selected = choice30
	case 90:
		p.choose.SetSelected(choice90)
	default:
		p.choose.SetSelected(choiceOther)
		p.other.SetText(itoa(days))
	}
	p.start()
	p.runPreview()
}
