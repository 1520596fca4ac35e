package settings

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agent"
	"mailsync/sync/sandbox"
	"mailsync/sync/words"
)

// signOutMessage is what signing out of ClientSuccess means, asked before
// it is done as Disconnect asks.

// sandboxSignIn tells a person trying the demo which account to use.
const sandboxSignIn = "Sandbox: sign in as " + sandbox.CRMUser + " with the password " + sandbox.CRMPassword + "."

// crmPage is the ClientSuccess section: sign in with username and password,
// or who is signed in and Sign out.
type crmPage struct {
	w    *Window
	root *sectionPage

	signedOut, signedIn *fyne.Container
	username, password  *entry
	signInBtn           *widget.Button
	signOutBtn          *widget.Button
	who                 *widget.Label
	sandboxHint         *widget.Label
	errText             *widget.Label
	busy                bool // a sign-in is in flight
	progress            *fyne.Container
	activity            *widget.Activity
}

func newCRMPage(w *Window) *crmPage {
	p := &crmPage{w: w}
	p.username = newEntry(w.win)
	p.username.SetPlaceHolder("you@company.com")
	p.password = newPasswordEntry(w.win)
	p.password.SetPlaceHolder("Password")
	p.username.OnChanged = func(string) { p.render() }
	p.password.OnChanged = func(string) { p.render() }
	p.username.OnSubmitted = func(string) { p.signIn() }
	p.password.OnSubmitted = func(string) { p.signIn() }

	p.signInBtn = widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), p.signIn)
	p.signInBtn.Importance = widget.HighImportance
	p.errText = errorText()

	p.sandboxHint = wrapped(sandboxSignIn)
	p.sandboxHint.Importance = widget.WarningImportance
	p.signedOut = container.NewVBox(
		wrapped("Sign in with your ClientSuccess account. Mail Sync looks up your contacts there "+
			"and adds the emails you exchange with them to their client's timeline."),
		p.sandboxHint,
		container.New(layout.NewFormLayout(),
			fieldName("Username"), p.username,
			fieldName("Password"), p.password),
		buttons(p.signInBtn),
	)
	// Shown from the moment Sign in is pressed: with no network the answer
	// can take seconds.
	p.activity = widget.NewActivity()
	p.progress = container.NewHBox(p.activity, wrapped(agent.SigningInCRM))
	p.progress.Hide()
	p.signedOut.Add(p.progress)

	p.who = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.signOutBtn = widget.NewButtonWithIcon("Sign out", theme.LogoutIcon(), p.confirmSignOut)
	p.signedIn = container.NewVBox(
		p.who,
		wrapped(crmIntro),
		buttons(p.signOutBtn),
	)
	p.root = page(SectionCRM, p.signedOut, p.signedIn, p.errText)
	return p
}

func (p *crmPage) render() {
	defer p.root.relayout()
	user := p.w.status.CRMUser
	if user == "" {
		p.signedIn.Hide()
		p.signedOut.Show()
	} else {
		p.signedOut.Hide()
		p.signedIn.Show()
		p.who.SetText("Signed in as " + user)
	}
	if p.w.status.Sandbox {
		p.sandboxHint.Show()
	} else {
		p.sandboxHint.Hide()
	}
	if p.busy {
		p.progress.Show()
		p.activity.Start()
	} else {
		p.progress.Hide()
		p.activity.Stop()
	}
	if p.w.online && !p.busy && p.username.Text != "" && p.password.Text != "" {
		p.signInBtn.Enable()
	} else {
		p.signInBtn.Disable()
	}
	if p.w.online {
		p.signOutBtn.Enable()
	} else {
		p.signOutBtn.Disable()
	}
}

func (p *crmPage) showErr(err error) { p.root.showErr(p.errText, err) }

func (p *crmPage) signIn() {
	user, pass := p.username.Text, p.password.Text
	if user == "" || pass == "" || p.busy || !p.w.online {
		return
	}
	// The password lives only as long as the call: the field is cleared now,
	// whatever the outcome.
	p.password.SetText("")
	p.busy = true
	p.showErr(nil)
	p.render()
	p.w.call(func(ctx context.Context) error {
		return p.w.api.CRMLogin(ctx, user, pass)
	}, func(err error) {
		p.busy = false
		if errors.Is(err, context.DeadlineExceeded) {
			// The agent bounds the sign-in below the window's wait; this
			// is the agent not answering while it tries.
			err = words.New(agent.CRMUnreachable)
		}
		p.showErr(err)
		p.render()
	})
}

func (p *crmPage) confirmSignOut() {
	p.w.confirmDanger(signOutQuestion, signOutMessage, "Sign out", "Stay signed in", p.w.api.CRMLogout, p.showErr)
}
