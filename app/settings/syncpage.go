package settings

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/engine"
)

// syncPage is the Sync section: state, last and next pass, Sync now,
// Pause/Resume, the progress of the pass in flight, and Check connection.
type syncPage struct {
	w    *Window
	root *sectionPage

	state, last, next *widget.Label
	progress          *widget.ProgressBar
	progressBox       *fyne.Container
	errText           *widget.Label
	syncBtn, pauseBtn *widget.Button
	callErr           *widget.Label
	checks            *checkPanel
	backfill          *backfillPanel
}

func newSyncPage(w *Window) *syncPage {
	p := &syncPage{w: w}
	p.state = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.last = widget.NewLabel("")
	p.next = widget.NewLabel("")
	p.progress = widget.NewProgressBar()
	p.progressBox = container.NewVBox(dimText("Looking at your email…"), p.progress)
	p.errText = errorText()
	p.callErr = errorText()

	p.syncBtn = widget.NewButtonWithIcon("Sync now", theme.ViewRefreshIcon(), p.syncNow)
	p.syncBtn.Importance = widget.HighImportance
	p.pauseBtn = widget.NewButtonWithIcon("Pause syncing", theme.MediaPauseIcon(), p.pauseOrResume)
	p.checks = newCheckPanel(w)
	p.backfill = newBackfillPanel(w)

	p.root = page(SectionSync,
		container.New(layout.NewFormLayout(),
			fieldName("State"), p.state,
			fieldName("Last sync"), p.last,
			fieldName("Next sync"), p.next),
		p.errText,
		p.progressBox,
		buttons(p.syncBtn, p.pauseBtn),
		p.callErr,
		p.backfill.box,
		p.checks.box,
	)
	return p
}

func (p *syncPage) render() {
	defer p.root.relayout()
	st, now := p.w.status, p.w.opt.now()
	p.state.SetText(st.State.String())
	// A pass that copied nothing does not hide the last one that did.
	if lines := st.PassLines(func(t time.Time) string { return when(t, now) }); len(lines) == 0 {
		p.last.SetText("Not yet")
	} else {
		p.last.SetText(strings.Join(lines, "\n"))
	}
	switch st.State {
	case engine.Paused:
		p.next.SetText("Paused — resume to sync again")
	case engine.SignedOut, engine.NeedsReconnect:
		p.next.SetText("After you connect Office 365")
	case engine.CRMSignedOut:
		p.next.SetText("After you sign in to ClientSuccess")
	case engine.Syncing:
		p.next.SetText("Now")
	default:
		if st.NextPass.IsZero() {
			p.next.SetText("Not planned")
		} else {
			p.next.SetText(when(st.NextPass, now))
		}
	}
	// Only the state's own problem shows: an error of an earlier pass goes
	// once a pass succeeds or its cause is gone.
	if problem := st.Problem(); st.State == engine.Error && problem != "" {
		p.errText.SetText(problem)
		p.errText.Show()
	} else {
		p.errText.Hide()
	}
	if st.State == engine.Syncing {
		if st.Progress != nil && st.Progress.Total > 0 {
			p.progress.Max = float64(st.Progress.Total)
			p.progress.TextFormatter = func() string {
				return itoa(st.Progress.Done) + " of " + itoa(st.Progress.Total)
			}
			p.progress.SetValue(float64(st.Progress.Done))
		} else {
			p.progress.Max = 1
			p.progress.TextFormatter = func() string { return "Starting…" }
			p.progress.SetValue(0)
		}
		p.progressBox.Show()
	} else {
		p.progressBox.Hide()
	}

	// The same actions as the tray's menu, enabled under the same
	// conditions (engine.Status.Actions).
	act := st.Actions()
	enable(p.syncBtn, p.w.online && act.SyncNow)
	if act.Resume {
		p.pauseBtn.SetText("Resume")
		p.pauseBtn.SetIcon(theme.MediaPlayIcon())
	} else {
		p.pauseBtn.SetText("Pause syncing")
		p.pauseBtn.SetIcon(theme.MediaPauseIcon())
	}
	enable(p.pauseBtn, p.w.online && (act.Pause || act.Resume))
	p.checks.render()
	p.backfill.render()
}

func enable(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

func (p *syncPage) showErr(err error) { p.root.showErr(p.callErr, err) }

func (p *syncPage) syncNow() {
	p.showErr(nil)
	p.w.call(p.w.api.SyncNow, p.showErr)
}

func (p *syncPage) pauseOrResume() {
	p.showErr(nil)
	if p.w.status.Actions().Resume {
		p.w.call(p.w.api.Resume, p.showErr)
	} else {
		p.w.call(p.w.api.Pause, p.showErr)
	}
}
