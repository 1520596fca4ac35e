package settings

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agent"
	"mailsync/sync/engine"
)

// officePage is the Office 365 section: connect, wait for the browser
// sign-in, connected account, reconnect.
type officePage struct {
	w    *Window
	root *sectionPage

	signedOut, waiting, connected, reconnect *fyne.Container

	connectBtn, cancelBtn, disconnectBtn, reconnectBtn *widget.Button
	activity                                           *widget.Activity
	link                                               *widget.Hyperlink
	linkText                                           *widget.RichText
	linkRow                                            *fyne.Container
	copyBtn                                            *widget.Button
	accountName, accountEmail, reason                  *widget.Label
	continues                                          *widget.Label // what connecting again continues
	errText                                            *widget.Label
	outcome                                            *widget.Label // why the last browser sign-in did not connect
	approvalBtn                                        *widget.Button
	approvalCopied                                     *widget.RichText
	notice                                             *fyne.Container // outcome and the approval link

	signInURL string // the URL Connect returned, until the status carries one
}

func newOfficePage(w *Window) *officePage {
	p := &officePage{w: w}

	p.connectBtn = widget.NewButtonWithIcon("Connect Office 365", theme.LoginIcon(), p.connect)
	p.connectBtn.Importance = widget.HighImportance
	p.outcome = wrapped("")
	p.outcome.Importance = widget.WarningImportance
	// When the organization must approve Mail Sync, the agent's words say
	// so and the admin-consent link is one tap away, to paste into a
	// message to the IT admin.
	p.approvalBtn = widget.NewButtonWithIcon(agent.CopyApprovalLink, theme.ContentCopyIcon(), func() {
		w.app.Clipboard().SetContent(w.status.ApprovalURL)
		p.approvalCopied.Show()
		p.root.relayout()
	})
	p.approvalCopied = dimText(approvalCopied)
	p.approvalCopied.Hide()
	p.notice = container.NewVBox(p.outcome, buttons(p.approvalBtn), p.approvalCopied)
	p.signedOut = container.NewVBox(
		wrapped(connectPromise),
		buttons(p.connectBtn),
	)

	p.activity = widget.NewActivity()
	p.cancelBtn = widget.NewButton("Cancel", p.cancel)
	// The browser has opened the address already; it is shown on one line
	// for the rare case it did not, where Copy address takes it whole.
	p.link = widget.NewHyperlink("", nil)
	p.link.Truncation = fyne.TextTruncateEllipsis
	p.linkText = dimText(openThisAddress)
	p.copyBtn = widget.NewButtonWithIcon("Copy address", theme.ContentCopyIcon(), func() {
		w.app.Clipboard().SetContent(p.link.Text)
	})
	p.linkRow = container.NewBorder(nil, nil, nil, p.copyBtn, p.link)
	waitingTitle := widget.NewLabelWithStyle("Waiting for you to sign in in your browser…", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.waiting = container.NewVBox(
		container.NewHBox(p.activity, waitingTitle),
		buttons(p.cancelBtn),
		p.linkText, p.linkRow,
	)

	p.accountName = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.accountEmail = widget.NewLabel("")
	p.disconnectBtn = widget.NewButtonWithIcon("Disconnect", theme.LogoutIcon(), p.confirmDisconnect)
	p.connected = container.NewVBox(
		container.New(layout.NewFormLayout(),
			fieldName("Account"), p.accountName,
			fieldName("Email"), p.accountEmail),
		buttons(p.disconnectBtn),
	)

	p.reason = wrapped("")
	p.reason.Importance = widget.DangerImportance
	p.reconnectBtn = widget.NewButtonWithIcon("Reconnect", theme.ViewRefreshIcon(), p.connect)
	p.reconnectBtn.Importance = widget.HighImportance
	p.reconnect = container.NewVBox(
		widget.NewLabelWithStyle("Office 365 needs you to sign in again", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		p.reason,
		buttons(p.reconnectBtn),
	)

	p.continues = wrapped("")
	p.errText = errorText()

	perms := container.New(layout.NewFormLayout())
	for _, pm := range permissions {
		perms.Add(widget.NewLabelWithStyle(pm.scope, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		perms.Add(wrapped(pm.purpose))
	}
	permTitle := widget.NewLabelWithStyle("What Mail Sync may do, and why", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})

	p.root = page(SectionOffice,
		p.notice, p.signedOut, p.waiting, p.connected, p.reconnect, p.continues, p.errText,
		widget.NewSeparator(),
		permTitle, perms, wrapped(notAsked),
	)
	return p
}

// fieldName is the dimmed name column of a form.
func fieldName(s string) *widget.RichText { return dimText(s) }

func (p *officePage) render() {
	defer p.root.relayout()
	st := p.w.status
	only := func(c *fyne.Container) {
		for _, x := range []*fyne.Container{p.signedOut, p.waiting, p.connected, p.reconnect} {
			if x == c {
				x.Show()
			} else {
				x.Hide()
			}
		}
	}
	switch {
	case st.Connecting:
		only(p.waiting)
		p.activity.Start()
		u := st.SignInURL
		if u == "" {
			u = p.signInURL
		}
		p.link.SetText(u)
		parsed, err := url.Parse(u)
		if err != nil || u == "" {
			parsed = nil
		}
		p.link.SetURL(parsed)
		for _, o := range []fyne.CanvasObject{p.linkText, p.linkRow} {
			if u == "" {
				o.Hide()
			} else {
				o.Show()
			}
		}
	case st.State == engine.NeedsReconnect:
		only(p.reconnect)
		reason := st.Reconnect
		if reason == "" {
			reason = signInRefused
		}
		p.reason.SetText(reason)
	case st.Account != nil:
		only(p.connected)
		p.accountName.SetText(st.Account.Name)
		p.accountEmail.SetText(st.Account.Email)
	default:
		only(p.signedOut)
	}
	// Before connecting: whether the mailbox connected last continues
	// where it stopped (engine.Status.Continues) or another starts fresh.
	if words := continuesWords(st, p.w.opt.now()); words != "" && !st.Connecting && (st.Account == nil || st.State == engine.NeedsReconnect) {
		p.continues.SetText(words)
		p.continues.Show()
	} else {
		p.continues.Hide()
	}
	// The agent's words for a sign-in that ended without connecting
	// (cancelled in the browser or here, timed out, refused, waiting for
	// the organization's approval) stay above the signed-out or reconnect
	// page until the next sign-in starts and clears them.
	if st.SignInError != "" && !st.Connecting && (st.Account == nil || st.State == engine.NeedsReconnect) {
		p.outcome.SetText(st.SignInError)
		p.notice.Show()
		if st.ApprovalURL != "" {
			p.approvalBtn.Show()
		} else {
			p.approvalBtn.Hide()
			p.approvalCopied.Hide()
		}
	} else {
		p.notice.Hide()
		p.approvalCopied.Hide()
	}
	if !st.Connecting {
		p.activity.Stop()
		p.signInURL = ""
	}
	for _, b := range []*widget.Button{p.connectBtn, p.cancelBtn, p.disconnectBtn, p.reconnectBtn} {
		if p.w.online {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

func (p *officePage) showErr(err error) { p.root.showErr(p.errText, err) }

func (p *officePage) connect() {
	p.showErr(nil)
	var u string
	p.w.call(func(ctx context.Context) (err error) {
		u, err = p.w.api.Connect(ctx, true)
		return err
	}, func(err error) {
		p.showErr(err)
		if err == nil && p.w.status.SignInURL == "" {
			p.signInURL = u
			// The status saying Connecting may still be on its way.
			if p.w.status.Connecting {
				p.render()
			}
		}
	})
}

func (p *officePage) cancel() {
	p.showErr(nil)
	p.w.call(p.w.api.CancelConnect, p.showErr)
}

func (p *officePage) confirmDisconnect() {
	// "Stay connected", not "Keep syncing": nothing may be syncing (paused,
	// or signed out of ClientSuccess) when the person is asked.
	p.w.confirmDanger(disconnectQuestion, disconnectMessage, "Disconnect", "Stay connected", p.w.api.Disconnect, p.showErr)
}

// continuesWords says, before the person connects, what connecting does
// to the window: the mailbox connected last continues from where its last
// sync stopped (up to 30 days back); another account starts with the last
// 24 hours. "" when no mailbox was connected before.
func continuesWords(st engine.Status, now time.Time) string {
	acct, from := st.Continues(now)
	if acct == nil {
		return ""
	}
	return fmt.Sprintf(continuesFrom, acct.Email, when(from, now))
}
