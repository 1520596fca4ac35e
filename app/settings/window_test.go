package settings

import (
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
	"mailsync/sync/engine"
)

var dana = &engine.Account{Name: "Dana Whitfield", Email: "dana@contoso.com"}

// The sample statuses are facts with the state the agent's board derives
// from them (engine.Derive), as the agent sends them.
func derived(st engine.Status) engine.Status {
	st.State = engine.Derive(st)
	return st
}

func signedOut() engine.Status { return derived(engine.Status{}) }

func waiting() engine.Status {
	return derived(engine.Status{Connecting: true,
		SignInURL: "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=demo"})
}

func connectedIdle() engine.Status {
	return derived(engine.Status{
		Account: dana, CRMUser: "dana@contoso.com",
		LastPass:   time.Date(2026, 11, 26, 10, 42, 0, 0, time.UTC),
		LastCounts: engine.PassCounts{Listed: 52, Synced: 12, Skipped: map[string]int{"no contact": 30, "internal only": 10}},
		NextPass:   time.Date(2026, 11, 26, 11, 42, 0, 0, time.UTC),
	})
}

func syncing() engine.Status {
	st := connectedIdle()
	st.Running, st.Progress = true, &engine.Progress{Done: 18, Total: 52}
	return derived(st)
}

func needsReconnect() engine.Status {
	st := connectedIdle()
	st.Reconnect = "Microsoft ended the sign-in (it was revoked or unused for 90 days). Reconnect to keep syncing."
	st.LastError = st.Reconnect
	return derived(st)
}

func failed() engine.Status {
	st := connectedIdle()
	st.LastError = "ClientSuccess is down for maintenance. Mail Sync tries again at the next sync."
	return derived(st)
}

func paused() engine.Status {
	st := connectedIdle()
	st.Paused = true
	return derived(st)
}

func crmSignedOut() engine.Status {
	st := connectedIdle()
	st.CRMUser = ""
	return derived(st)
}

func sampleDecisions() []agentapi.Decision {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 26, h, m, 0, 0, time.UTC) }
	return []agentapi.Decision{
		{Time: at(10, 42), Received: at(10, 31), Subject: "Renewal quote for 2027", Counterpart: "Ann Lee <ann@acme.com>", Synced: true, Clients: []string{"ACME Corp"}},
		{Time: at(10, 42), Received: at(10, 5), Subject: "Lunch on Friday?", Counterpart: "Sam Ortiz <sam@contoso.com>", Reason: "only people in your organization"},
		{Time: at(10, 42), Received: at(9, 58), Subject: "Re: Onboarding plan", Counterpart: "Raj Patel <raj@globex.com>", Synced: true, Clients: []string{"Globex", "Initech"}},
		{Time: at(10, 42), Received: at(9, 12), Subject: "Board minutes", Counterpart: "Board <board@acme.com>", Reason: "you are only in Bcc"},
		{Time: at(10, 42), Received: time.Date(2026, 11, 25, 17, 40, 0, 0, time.UTC), Subject: "Newsletter — November", Counterpart: "news@vendor.io", Reason: "no ClientSuccess contact"},
	}
}

func TestConnectWaitCancel(t *testing.T) {
	h := newHarness(t, signedOut())
	h.wantText("Connect your Office 365 mailbox", "[Connect Office 365]", "Not connected", "Mail Sync does not ask for Mail.Send", "Mail Sync never sends email")
	h.tap("Connect Office 365", "Connect")

	h.publish(waiting())
	h.wantText("Waiting for you to sign in in your browser…", "If your browser did not open",
		"<https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=demo>", "[Cancel]")
	h.wantNoText("[Connect Office 365]")
	test.Tap(h.button("Copy address"))
	if got := h.w.app.Clipboard().Content(); got != waiting().SignInURL {
		t.Errorf("clipboard holds %q, want the sign-in address", got)
	}
	h.tap("Cancel", "CancelConnect")

	h.publish(connectedIdle())
	h.wantText("Dana Whitfield", "dana@contoso.com", "[Disconnect]")
	h.wantNoText("Waiting for you to sign in")
}

func TestDisconnectAsksFirst(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.asksFirst("Disconnect", disconnectMessage, "Stay connected", "Disconnect")
}

// asksFirst taps the page's button, checks the dialog's message, that its
// dismiss button sends nothing, and that its confirm button (drawn above the
// page's button of the same name) sends call.
func (h *harness) asksFirst(button, message, dismiss, call string) {
	h.t.Helper()
	test.Tap(h.button(button))
	h.wantText(message, "["+dismiss+"]")
	test.Tap(h.button(dismiss))
	h.settle()
	if h.api.Called(call) {
		h.t.Fatalf("%s was sent although the person chose %q", call, dismiss)
	}
	test.Tap(h.button(button))
	buttons := 0
	h.visible(func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == button {
			buttons++
			if buttons == 2 { // the dialog's, drawn above the page's
				test.Tap(b)
			}
		}
	})
	if buttons != 2 {
		h.t.Fatalf("found %d %s buttons, want the page's and the dialog's", buttons, button)
	}
	h.pump(call+" sent", func() bool { return h.api.Called(call) })
}

func TestNeedsReconnect(t *testing.T) {
	h := newHarness(t, needsReconnect())
	h.wantText("Office 365 needs you to sign in again", needsReconnect().LastError, "Reconnect needed", "[Reconnect]")
	h.wantNoText("[Disconnect]")
	h.tap("Reconnect", "Connect")
	h.w.Select(SectionSync)
	if !h.button("Sync now").Disabled() {
		t.Error("Sync now is enabled while the mailbox must be reconnected")
	}
}

func TestCRMSignIn(t *testing.T) {
	st := connectedIdle()
	st.CRMUser = ""
	h := newHarness(t, st)
	h.w.Select(SectionCRM)
	h.wantText("Sign in with your ClientSuccess account")
	signIn := h.button("Sign in")
	if !signIn.Disabled() {
		t.Fatal("Sign in is enabled with empty fields")
	}
	test.Type(h.w.crm.username, "dana@contoso.com")
	if !signIn.Disabled() {
		t.Fatal("Sign in is enabled without a password")
	}
	test.Type(h.w.crm.password, "wrong")
	if signIn.Disabled() {
		t.Fatal("Sign in stays disabled with both fields filled")
	}

	h.api.Do(func(s *agentapitest.State) {
		s.Errs["CRMLogin"] = errors.New("ClientSuccess rejected the username or password")
	})
	test.Tap(signIn)
	if h.w.crm.password.Text != "" {
		t.Error("the password field was not cleared after the attempt")
	}
	h.pump("error shown", func() bool { return h.w.crm.errText.Visible() })
	h.wantText("ClientSuccess rejected the username or password")

	// Enter in the password field submits too.
	h.api.Do(func(s *agentapitest.State) {
		s.Errs["CRMLogin"] = nil
	})
	test.Type(h.w.crm.password, "s3cret")
	h.w.crm.password.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.pump("second login", func() bool {
		return len(h.api.Snapshot().Logins) == 2
	})
	h.settle()
	want := [][2]string{{"dana@contoso.com", "wrong"}, {"dana@contoso.com", "s3cret"}}
	got := h.api.Snapshot().Logins
	if !slices.Equal(got, want) {
		t.Errorf("logins = %q, want %q", got, want)
	}
	if h.w.crm.errText.Visible() {
		t.Error("the old error is still shown after a successful sign-in")
	}

	st.CRMUser = "dana@contoso.com"
	h.publish(st)
	h.wantText("Signed in as dana@contoso.com", "[Sign out]")

	// Signing out asks first, as Disconnect does.
	h.asksFirst("Sign out", signOutMessage, "Stay signed in", "CRMLogout")
}

// TestSandboxShowsItsClientSuccessAccount: in the demo, the ClientSuccess
// section says which account signs in to the sandbox.
func TestSandboxShowsItsClientSuccessAccount(t *testing.T) {
	st := crmSignedOut()
	h := newHarness(t, st)
	h.w.Select(SectionCRM)
	h.wantNoText(sandboxSignIn)
	st.Sandbox = true
	h.publish(st)
	h.wantText(sandboxSignIn)
}

// TestOfficePageSaysWhatConnectingAgainDoes: before the person connects,
// the Office 365 page says that the mailbox connected last continues where
// it stopped, and that another account starts with the last 24 hours.
func TestOfficePageSaysWhatConnectingAgainDoes(t *testing.T) {
	h := newHarness(t, signedOut())
	h.w.Select(SectionOffice)
	h.wantNoText("Connecting again")

	gone := signedOut()
	gone.Previous = dana
	gone.ConnectedAt = testNow.Add(-30 * 24 * time.Hour)
	gone.LastSuccess = testNow.Add(-3*24*time.Hour - 2*time.Hour)
	h.publish(derived(gone))
	h.wantText("Connecting again as "+dana.Email+" continues from Mon 08:05", "another account starts with the last 24 hours", "[Connect Office 365]")

	refused := needsReconnect()
	refused.ConnectedAt, refused.LastSuccess = gone.ConnectedAt, testNow.Add(-50*24*time.Hour)
	h.publish(derived(refused))
	h.wantText("[Reconnect]", "Connecting again as "+dana.Email+" continues from 27 Oct 11:05")

	h.publish(connectedIdle())
	h.wantNoText("Connecting again")
}

// TestSyncPageAfterAQuietPass: a pass that copied nothing does not replace
// the last one that did ("0 emails copied · 0 skipped" reads like a
// failure); it shows as checked, nothing new.
func TestSyncPageAfterAQuietPass(t *testing.T) {
	busy := connectedIdle()
	h := newHarness(t, busy)
	h.w.Select(SectionSync)
	quiet := busy
	quiet.LastCopy = &engine.PassRecord{End: busy.LastPass, Counts: busy.LastCounts}
	quiet.LastPass = busy.LastPass.Add(time.Hour)
	quiet.LastCounts = engine.PassCounts{Listed: 52, Already: 12, Skipped: map[string]int{"no contact": 30, "internal only": 10}}
	h.publish(derived(quiet))
	h.wantText("10:42 today · 12 emails copied · 40 skipped", "Checked 11:42 today, nothing new to copy")
	h.wantNoText("0 emails copied")
}

func TestSyncCommands(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.w.Select(SectionSync)
	h.wantText("Up to date", "10:42 today", "12 emails copied · 40 skipped", "11:42 today")
	h.tap("Sync now", "SyncNow")
	h.tap("Pause syncing", "Pause")

	h.publish(paused())
	h.wantText("Paused — resume to sync again")
	if !h.button("Sync now").Disabled() {
		t.Error("Sync now is enabled while paused")
	}
	h.tap("Resume", "Resume")
}

func TestSyncNowDisabledWhenSignedOut(t *testing.T) {
	h := newHarness(t, signedOut())
	h.w.Select(SectionSync)
	if !h.button("Sync now").Disabled() {
		t.Error("Sync now is enabled without a connected mailbox")
	}
	h.wantText("Not yet", "After you connect Office 365")
}

func TestSyncingShowsProgress(t *testing.T) {
	h := newHarness(t, syncing())
	h.w.Select(SectionSync)
	h.wantText("Syncing", "Looking at your email…", "Syncing 18 of 52")
	if got := h.w.sync.progress.Value; got != 18 || h.w.sync.progress.Max != 52 {
		t.Errorf("progress = %v of %v, want 18 of 52", got, h.w.sync.progress.Max)
	}
	h.publish(connectedIdle())
	h.wantNoText("Looking at your email…")
}

func TestErrorShown(t *testing.T) {
	h := newHarness(t, failed())
	h.w.Select(SectionSync)
	h.wantText("Sync failed", failed().LastError)
	h.publish(connectedIdle())
	h.wantNoText(failed().LastError)
}

func TestOptionsSave(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.w.Select(SectionOptions)
	o := h.w.options
	if !o.startAtLogin.Checked || !o.ignoreInternal.Checked || !o.skipPrivate.Checked {
		t.Fatal("the check boxes do not show the agent's settings")
	}

	test.Tap(o.ignoreInternal)
	h.pump("saved", func() bool { return len(h.api.Snapshot().Saved) == 1 })
	test.Tap(o.startAtLogin)
	h.pump("saved", func() bool { return len(h.api.Snapshot().Saved) == 2 })
	test.Tap(o.skipPrivate)
	h.pump("saved", func() bool { return len(h.api.Snapshot().Saved) == 3 })
	h.settle()
	got := h.api.Snapshot().Saved[2]
	if got.StartAtLogin || got.Rules.IgnoreInternal || got.Rules.SkipPrivate {
		t.Errorf("after unticking all three, saved %+v", got)
	}
	if got.Rules.PrivateCategory != "Private" {
		t.Errorf("saving a check box lost the private category: %+v", got.Rules)
	}
	h.wantText("Saved")
}

func TestBlocklistInvalidNotSaved(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.w.Select(SectionOptions)
	o := h.w.options
	typed := "ann@acme.com\nnot an address\n@globex.com"
	o.blocklist.SetText(typed)
	test.Tap(h.button("Save blocklist"))
	h.settle()
	if n := len(h.api.Snapshot().Saved); n != 0 {
		t.Fatalf("an invalid blocklist was saved (%d saves)", n)
	}
	h.wantText(`line 2 ("not an address") is not an email address or @domain`)
	if o.blocklist.Text != typed {
		t.Errorf("the typed blocklist changed to %q", o.blocklist.Text)
	}

	o.blocklist.SetText("Ann@Acme.com\n\n@globex.com\nann@acme.com")
	test.Tap(h.button("Save blocklist"))
	h.pump("saved", func() bool { return len(h.api.Snapshot().Saved) == 1 })
	h.settle()
	if got, want := h.api.Snapshot().Saved[0].Rules.Blocklist, []string{"ann@acme.com", "@globex.com"}; !slices.Equal(got, want) {
		t.Errorf("saved blocklist %q, want %q", got, want)
	}
	h.wantNoText("not an email address")
	h.wantText("Saved")
}

// TestBlocklistFixInOneClick: lines whose meaning is plain ("evil.com",
// "*@spam.example") are refused with a button that rewrites them as the
// entries they mean and saves; saving a change of the rules says that
// Activity is updated and copying waits for the next sync.
func TestBlocklistFixInOneClick(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.w.Select(SectionOptions)
	o := h.w.options
	h.wantNoText("Use @")
	o.blocklist.SetText("ann@acme.com\nevil.com\n*@spam.example\nnot an address at all")
	test.Tap(h.button("Save blocklist"))
	h.settle()
	if n := len(h.api.Snapshot().Saved); n != 0 {
		t.Fatalf("an invalid blocklist was saved (%d saves)", n)
	}
	// A line with no plain fix stays for the person to mend.
	test.Tap(h.button("Use @evil.com and 1 more"))
	h.settle()
	if want := "ann@acme.com\n@evil.com\n@spam.example\nnot an address at all"; o.blocklist.Text != want {
		t.Errorf("after the fix the blocklist reads %q, want %q", o.blocklist.Text, want)
	}
	h.wantText(`line 4 ("not an address at all") is not an email address or @domain`)
	h.wantNoText("Use @")

	o.blocklist.SetText("ann@acme.com\n*@spam.example")
	test.Tap(h.button("Save blocklist"))
	h.settle()
	test.Tap(h.button("Use @spam.example"))
	h.pump("saved", func() bool { return len(h.api.Snapshot().Saved) == 1 })
	h.settle()
	if got, want := h.api.Snapshot().Saved[0].Rules.Blocklist, []string{"ann@acme.com", "@spam.example"}; !slices.Equal(got, want) {
		t.Errorf("saved blocklist %q, want %q", got, want)
	}
	h.wantNoText("not an email address", "Use @")
	h.wantText(rulesSaved)
}

// TestLongBlocklistLineKeepsTheWindowSize: a long line that is not an
// entry is quoted shortened, so the error cannot widen the window and push
// Save out of it.
func TestLongBlocklistLineKeepsTheWindowSize(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.w.Select(SectionOptions)
	h.settle()
	before := h.w.win.Canvas().Content().MinSize()
	long := strings.Repeat("no-spaces-in-this-pasted-line-", 12)
	h.w.options.blocklist.SetText(long)
	test.Tap(h.button("Save blocklist"))
	h.settle()
	h.wantText("not an email address", `"no-spaces-in-this-pasted-line-no-spaces…"`)
	if after := h.w.win.Canvas().Content().MinSize(); after.Width > before.Width {
		t.Errorf("the window's minimum width grew from %v to %v", before.Width, after.Width)
	}
}

func TestActivity(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.w.Select(SectionActivity)
	h.wantText(emptyActivityText)

	// A pass ends: the list is fetched again.
	h.api.Do(func(s *agentapitest.State) {
		s.Decisions = sampleDecisions()
	})
	st := connectedIdle()
	st.LastPass = st.LastPass.Add(time.Minute)
	h.publish(st)
	h.pump("list filled", func() bool { return len(h.w.activity.items) == 5 })
	h.w.activity.list.Refresh()
	h.wantText("Renewal quote for 2027", "Copied to ACME Corp", "Ann Lee <ann@acme.com>", "10:31",
		"Skipped: you are only in Bcc", "Copied to Globex, Initech", "17:40 yesterday")
	h.wantNoText(emptyActivityText)

	test.Type(h.w.activity.search, "bcc")
	h.pump("search answered", func() bool { return h.w.activity.query == "bcc" })
	if q := h.api.Snapshot().Queries; q[len(q)-1].Text != "bcc" {
		t.Errorf("last query %q, want %q", q[len(q)-1].Text, "bcc")
	}
	if n := len(h.w.activity.items); n != 1 {
		t.Errorf("search for bcc lists %d emails, want 1", n)
	}
	h.wantText("Board minutes")
	h.wantNoText("Renewal quote for 2027")

	h.w.activity.search.SetText("nothing like this")
	h.pump("empty result", func() bool { return len(h.w.activity.items) == 0 && h.w.activity.query != "" })
	h.wantText("No emails match “nothing like this”.")
}

func sandboxed() engine.Status {
	st := connectedIdle()
	st.Sandbox = true
	return st
}

func TestCloseShortcut(t *testing.T) {
	ctrlW := &desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault}
	h := newHarness(t, connectedIdle())
	h.shortcut(&desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault})
	if h.closed() {
		t.Fatal("Ctrl+Q closed the window")
	}
	h.shortcut(ctrlW)
	if !h.closed() {
		t.Fatal("Ctrl+W did not close the window")
	}

	// A focused field keeps ordinary shortcuts but lets Ctrl+W through.
	crmOut := connectedIdle()
	crmOut.CRMUser = "" // the sign-in fields show
	for _, section := range []string{SectionActivity, SectionCRM, SectionOptions} {
		t.Run(section, func(t *testing.T) {
			h := newHarness(t, crmOut)
			h.w.Select(section)
			field := map[string]*entry{
				SectionActivity: h.w.activity.search,
				SectionCRM:      h.w.crm.username,
				SectionOptions:  h.w.options.blocklist,
			}[section]
			h.w.win.Canvas().Focus(field)
			h.w.app.Clipboard().SetContent("pasted")
			h.shortcut(&fyne.ShortcutPaste{Clipboard: h.w.app.Clipboard()})
			if !strings.Contains(field.Text, "pasted") {
				t.Errorf("paste into the focused field gave %q", field.Text)
			}
			if h.closed() {
				t.Fatal("pasting closed the window")
			}
			h.shortcut(ctrlW)
			if !h.closed() {
				t.Error("Ctrl+W in a focused field did not close the window")
			}
		})
	}
}

func TestEscapeClosesDialogOnly(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.key(fyne.KeyEscape)
	if h.closed() {
		t.Fatal("Escape closed the window")
	}
	test.Tap(h.button("Disconnect"))
	h.wantText(disconnectMessage, "[Stay connected]")
	h.key(fyne.KeyEscape)
	h.wantNoText(disconnectMessage, "[Stay connected]")
	h.key(fyne.KeyEscape)
	h.settle()
	if h.closed() {
		t.Error("Escape closed the window")
	}
	if h.api.Called("Disconnect") {
		t.Error("Escape on the Disconnect question disconnected")
	}
	if h.w.dialog != nil {
		t.Error("the closed dialog is still remembered")
	}
}

func TestSandboxLabelled(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.wantNoText("(Sandbox)", sandboxNote)
	if got := h.w.win.Title(); got != Title {
		t.Errorf("title %q, want %q", got, Title)
	}

	h.publish(sandboxed())
	h.wantText("Mail Sync", "(Sandbox)", sandboxNote, "Up to date")
	if got := h.w.win.Title(); got != SandboxTitle {
		t.Errorf("title %q, want %q", got, SandboxTitle)
	}
	// The badge stays while the agent is away: the window still shows the
	// sandbox's data.
	h.api.GoAway()
	h.pump("offline shown", func() bool { return !h.w.online })
	h.wantText("(Sandbox)", notRunningText)

	h.api.ComeBack(connectedIdle())
	h.pump("back online", func() bool { return h.w.online })
	h.wantNoText("(Sandbox)", sandboxNote)
	if got := h.w.win.Title(); got != Title {
		t.Errorf("title %q after leaving the sandbox, want %q", got, Title)
	}
}

func TestAgentGoesAwayAndComesBack(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.api.GoAway()
	h.pump("offline shown", func() bool { return !h.w.online })
	h.wantText(notRunningText)
	test.AssertImageMatches(t, "agent_not_running.png", h.w.win.Canvas().Capture())
	if !h.button("Disconnect").Disabled() {
		t.Error("Disconnect is enabled while the agent is not running")
	}

	st := paused()
	h.api.ComeBack(st)
	h.pump("back online", func() bool { return h.w.online && h.w.status.State == engine.Paused })
	h.wantNoText(notRunningText)
	h.wantText("Paused")
	if h.button("Disconnect").Disabled() {
		t.Error("Disconnect stays disabled after the agent came back")
	}
}

func TestHeaderSummary(t *testing.T) {
	for _, tc := range []struct {
		st   engine.Status
		want string
	}{
		{signedOut(), "Not connected"},
		{waiting(), "Waiting for sign-in"},
		{connectedIdle(), "Up to date"},
		{syncing(), "Syncing 18 of 52"},
		{needsReconnect(), "Reconnect needed"},
		{paused(), "Paused"},
		{crmSignedOut(), "Sign in to ClientSuccess to start syncing"},
	} {
		if got := summary(tc.st); got != tc.want {
			t.Errorf("summary(%v) = %q, want %q", tc.st.State, got, tc.want)
		}
	}
}

func TestWhen(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2026, 11, 26, 10, 42, 0, 0, time.UTC), "10:42 today"},
		{time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC), "23:59 today"},
		{time.Date(2026, 11, 25, 17, 40, 0, 0, time.UTC), "17:40 yesterday"},
		{time.Date(2026, 11, 27, 0, 5, 0, 0, time.UTC), "00:05 tomorrow"},
		{time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), "Mon 09:00"},
		{time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), "2 Nov 09:00"},
		{time.Date(2025, 12, 31, 9, 0, 0, 0, time.UTC), "31 Dec 2025 09:00"},
		// Shown in the clock's zone, not the zone the time came in.
		{time.Date(2026, 11, 26, 12, 0, 0, 0, time.FixedZone("CET", 3600)), "11:00 today"},
	} {
		if got := when(tc.t, testNow); got != tc.want {
			t.Errorf("when(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestParseBlocklist(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"ann@acme.com", []string{"ann@acme.com"}, ""},
		{" @Globex.COM \n\nANN@acme.com\nann@acme.com", []string{"@globex.com", "ann@acme.com"}, ""},
		{"acme.com", nil, `line 1 ("acme.com": for the whole domain write @acme.com) is not`},
		{"*@Acme.com\nacme.com\nbad", nil, `line 1 ("*@Acme.com": write @acme.com, without the *), line 2 ("acme.com": for the whole domain write @acme.com), line 3 ("bad") are not`},
		{"@localhost", nil, `line 1 ("@localhost") is not`},
		{"Ann <ann@acme.com>", nil, `line 1 ("Ann <ann@acme.com>") is not`},
		{"ok@a.com\nbad\n@-x.com", nil, `line 2 ("bad"), line 3 ("@-x.com") are not`},
	} {
		got, err := parseBlocklist(tc.in)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseBlocklist(%q) error %v, want one containing %q", tc.in, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("parseBlocklist(%q): %v", tc.in, err)
		case !slices.Equal(got, tc.want):
			t.Errorf("parseBlocklist(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestGolden renders each state and compares it with testdata/. Failing
// renders land in testdata/failed/ for review.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name    string
		st      engine.Status
		section string
		variant fyne.ThemeVariant
		fill    bool // Activity filled with sampleDecisions
	}{
		{"signed_out", signedOut(), SectionOffice, theme.VariantLight, false},
		{"waiting_for_sign_in", waiting(), SectionOffice, theme.VariantLight, false},
		{"connected_idle", connectedIdle(), SectionSync, theme.VariantLight, false},
		{"syncing", syncing(), SectionSync, theme.VariantLight, false},
		{"needs_reconnect", needsReconnect(), SectionOffice, theme.VariantLight, false},
		{"error", failed(), SectionSync, theme.VariantLight, false},
		{"paused", paused(), SectionSync, theme.VariantLight, false},
		{"crm_signed_out", signedOut(), SectionCRM, theme.VariantLight, false},
		{"activity_filled", connectedIdle(), SectionActivity, theme.VariantLight, true},
		{"options", connectedIdle(), SectionOptions, theme.VariantLight, false},
		{"connected_dark", connectedIdle(), SectionOffice, theme.VariantDark, false},
		{"activity_dark", connectedIdle(), SectionActivity, theme.VariantDark, true},
		{"sandbox", sandboxed(), SectionOffice, theme.VariantLight, false},
		{"sandbox_dark", sandboxed(), SectionActivity, theme.VariantDark, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessTheme(t, tc.st, tc.variant)
			if tc.fill {
				h.api.Do(func(s *agentapitest.State) {
					s.Decisions = sampleDecisions()
				})
				h.w.activity.refresh()
				h.pump("list filled", func() bool { return len(h.w.activity.items) == 5 })
			}
			h.w.Select(tc.section)
			h.settle()
			img := h.w.win.Canvas().Capture()
			if dir := os.Getenv("MAILSYNC_SCREENSHOT_DIR"); dir != "" {
				writePNG(t, filepath.Join(dir, tc.name+".png"), img)
			}
			test.AssertImageMatches(t, tc.name+".png", img)
		})
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// A sign-in that ends without connecting (here: Cancel on Microsoft's
// page) leaves the agent's words on the signed-out page, until the next
// sign-in starts.
func TestSignInCancelledInBrowserIsSaid(t *testing.T) {
	const cancelled = "Sign-in was cancelled in the browser, so Mail Sync is not connected."
	h := newHarness(t, signedOut())
	h.wantNoText(cancelled)
	h.publish(waiting())
	ended := signedOut()
	ended.SignIns, ended.SignInError = 1, cancelled
	h.publish(ended)
	h.wantText(cancelled, "[Connect Office 365]")
	h.wantNoText("Waiting for you to sign in")

	h.publish(waiting()) // the next sign-in clears it
	h.wantNoText(cancelled)
	h.publish(connectedIdle())
	h.wantNoText(cancelled)
}

// TestActivityUnsureUpload: an upload Mail Sync could not confirm for a
// day is shown above the list with its two choices; a choice goes to the
// agent and the question goes away.
func TestActivityUnsureUpload(t *testing.T) {
	for _, again := range []bool{true, false} {
		h := newHarness(t, connectedIdle())
		u := engine.UnsureUpload{ID: "abc-7", Subject: "Renewal quote", Client: "ACME Corp",
			Why: "ClientSuccess did not give the whole list (the same page came twice)"}
		h.api.Do(func(s *agentapitest.State) {
			s.Unsure = []engine.UnsureUpload{u}
		})
		h.w.Select(SectionActivity)
		h.w.activity.refresh()
		h.pump("question shown", func() bool { return len(h.w.activity.unsure.Objects) == 1 })
		h.wantText(u.Words())
		button, want := dontCopyText, "abc-7 leave"
		if again {
			button, want = copyAgainText, "abc-7 copy"
		}
		test.Tap(h.button(button))
		h.pump("choice sent", func() bool { return len(h.api.Snapshot().UnsureTaken) == 1 })
		if got := h.api.Snapshot().UnsureTaken; got[0] != want {
			t.Errorf("decided %q, want %q", got[0], want)
		}
		h.pump("question gone", func() bool { return len(h.w.activity.unsure.Objects) == 0 })
	}
}

// needsApproval is the status after a sign-in Microsoft refused because
// the organization must approve Mail Sync.
func needsApproval() engine.Status {
	st := signedOut()
	st.SignIns = 1
	st.SignInError = "Your organization allows only administrators to approve apps like Mail Sync, so you cannot connect yet."
	st.ApprovalURL = "https://login.microsoftonline.com/organizations/v2.0/adminconsent?client_id=demo&redirect_uri=http%3A%2F%2Flocalhost&scope=openid"
	return st
}

// When the organization must approve Mail Sync, the Office 365 page says
// what the agent said and offers the approval link for the IT admin, which
// a tap copies; a sign-in that ended otherwise offers no link, and the next
// sign-in clears both. A reconnect refused the same way says so too.
func TestApprovalLinkOffered(t *testing.T) {
	h := newHarness(t, signedOut())
	h.wantNoText("[" + agent.CopyApprovalLink + "]")
	h.publish(needsApproval())
	h.wantText(needsApproval().SignInError, "["+agent.CopyApprovalLink+"]", "[Connect Office 365]")
	test.Tap(h.button(agent.CopyApprovalLink))
	if got := h.w.app.Clipboard().Content(); got != needsApproval().ApprovalURL {
		t.Errorf("clipboard holds %q, want the approval link", got)
	}
	h.wantText("Copied. Paste it into an email to your IT admin")

	h.publish(waiting())
	h.wantNoText(needsApproval().SignInError, "["+agent.CopyApprovalLink+"]", "Copied.")

	cancelled := signedOut()
	cancelled.SignIns, cancelled.SignInError = 2, "Sign-in was cancelled in the browser, so Mail Sync is not connected."
	h.publish(cancelled)
	h.wantText(cancelled.SignInError)
	h.wantNoText("[" + agent.CopyApprovalLink + "]")

	again := needsReconnect()
	again.SignIns, again.SignInError, again.ApprovalURL = 3, needsApproval().SignInError, needsApproval().ApprovalURL
	h.publish(again)
	h.wantText("Office 365 needs you to sign in again", needsApproval().SignInError, "["+agent.CopyApprovalLink+"]")
}

// The signed-out page promises what connecting does: mail from the 24
// hours before the connect on, not every email ever exchanged.
func TestConnectPromiseIsTrue(t *testing.T) {
	h := newHarness(t, signedOut())
	h.wantText("starting with those of the 24 hours before you connect", "Older emails are not copied.")
	h.wantNoText("every email you exchange")
}

// Signing in to ClientSuccess shows progress the moment Sign in is
// pressed, and an answer that never came reads as ClientSuccess not
// reached, in the agent's words, never "context deadline exceeded".
func TestCRMSignInShowsProgressAtOnce(t *testing.T) {
	st := connectedIdle()
	st.CRMUser = ""
	h := newHarness(t, st)
	h.w.Select(SectionCRM)
	h.wantNoText(agent.SigningInCRM)
	hold := make(chan struct{})
	h.api.Do(func(s *agentapitest.State) {
		s.Hold["CRMLogin"] = hold
		s.Errs["CRMLogin"] = context.DeadlineExceeded
	})
	test.Type(h.w.crm.username, "dana@contoso.com")
	test.Type(h.w.crm.password, "pw")
	test.Tap(h.button("Sign in"))
	h.wantText(agent.SigningInCRM)
	if !h.button("Sign in").Disabled() {
		t.Error("Sign in is enabled while a sign-in is checked")
	}
	close(hold)
	h.pump("error shown", func() bool { return h.w.crm.errText.Visible() })
	h.wantText(agent.CRMUnreachable)
	h.wantNoText(agent.SigningInCRM, "context deadline exceeded")
}
