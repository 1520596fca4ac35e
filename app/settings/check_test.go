package settings

import (
	"errors"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/agentapi/agentapitest"
	"mailsync/sync/doctor"
)

var sampleReport = doctor.Report{Results: []doctor.Result{
	{Check: doctor.CheckMicrosoftSignIn, Outcome: doctor.Passed},
	{Check: doctor.CheckMail, Outcome: doctor.Passed, Detail: "12 messages in the last 24 hours on the first page"},
	{Check: doctor.CheckContactSearch, Outcome: doctor.Failed, Detail: "answered HTTP 404, object{userMessage:string}: not available"},
	{Check: doctor.CheckInteractions, Outcome: doctor.Skipped, Detail: "no contact found to take a client from"},
}}

// icons counts the visible icons of the check rows by their colour.
func (h *harness) icons() map[fyne.ThemeColorName]int {
	n := map[fyne.ThemeColorName]int{}
	h.visible(func(o fyne.CanvasObject) {
		if i, ok := o.(*widget.Icon); ok {
			if r, ok := i.Resource.(*theme.ThemedResource); ok {
				n[r.ColorName]++
			}
		}
	})
	return n
}

// waitCalled polls until the agent received cmd.
func waitCalled(t *testing.T, f *agentapitest.Fake, cmd string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !f.Called(cmd) {
		if time.Now().After(deadline) {
			t.Fatalf("the agent never received %s; calls %v", cmd, f.Calls())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCheckConnectionShowsEveryCheck(t *testing.T) {
	h := newHarness(t, connectedIdle())
	release := make(chan struct{})
	h.api.Do(func(s *agentapitest.State) {
		s.Report = sampleReport
		s.Hold["Doctor"] = release
	})
	h.w.Select(SectionSync)

	test.Tap(h.button("Check connection"))
	// Doctor is held until release closes, so no UI work follows the
	// call: poll for it rather than pump.
	waitCalled(t, h.api, "Doctor")
	h.wantText("Checking Office 365 and ClientSuccess…")
	if !h.button("Check connection").Disabled() {
		t.Error("Check connection is enabled while the checks run")
	}
	close(release)
	h.pump("the report shown", func() bool { return h.w.sync.checks.report != nil })

	h.wantText("1 check failed, and 1 more could not run until they pass. Start with "+doctor.CheckContactSearch+".",
		doctor.CheckMicrosoftSignIn, doctor.CheckMail, doctor.CheckContactSearch, doctor.CheckInteractions,
		"12 messages in the last 24 hours on the first page",
		"answered HTTP 404, object{userMessage:string}: not available",
		"no contact found to take a client from")
	h.wantNoText("Checking Office 365 and ClientSuccess…")
	if got := h.icons(); got[theme.ColorNameSuccess] != 2 || got[theme.ColorNameError] != 1 || got[theme.ColorNameDisabled] != 1 {
		t.Errorf("icons by colour %v, want 2 ok, 1 failed, 1 skipped", got)
	}
	if h.button("Check connection").Disabled() {
		t.Error("Check connection stays disabled after the checks")
	}

	// A second run that passes replaces the rows.
	h.api.Do(func(s *agentapitest.State) {
		s.Report = doctor.Report{Results: []doctor.Result{{Check: doctor.CheckMicrosoftSignIn, Outcome: doctor.Passed}}}
		delete(s.Hold, "Doctor")
	})
	h.w.sync.checks.report = nil
	h.tap("Check connection", "Doctor")
	h.pump("the second report shown", func() bool { return h.w.sync.checks.report != nil })
	h.wantText("Every check passed.")
	h.wantNoText(doctor.CheckContactSearch)
	if got := h.icons(); got[theme.ColorNameSuccess] != 1 || len(got) != 1 {
		t.Errorf("icons by colour %v after a clean run, want 1 ok", got)
	}
}

func TestCheckConnectionSaysWhenTheAgentCannotRunIt(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.api.Do(func(s *agentapitest.State) {
		s.Errs["Doctor"] = errors.New("Mail Sync is not running")
	})
	h.w.Select(SectionSync)
	h.tap("Check connection", "Doctor")
	h.pump("the error shown", func() bool { return h.w.sync.checks.errText.Visible() })
	h.wantText("The checks could not run: Mail Sync is not running")
	if h.button("Check connection").Disabled() {
		t.Error("Check connection stays disabled after a failed call")
	}
}

func TestCheckConnectionDisabledWhileAgentAway(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.w.Select(SectionSync)
	h.api.GoAway()
	h.pump("offline", func() bool { return !h.w.online })
	if !h.button("Check connection").Disabled() {
		t.Error("Check connection is enabled while the agent is not running")
	}
}

// On a fresh install the two sign-ins fail and the six checks that need
// them are skipped: the summary counts them apart (not "8 of 8 did not
// pass") and names the first thing to do, in the agent's words.
func TestCheckConnectionFreshInstall(t *testing.T) {
	const noApp = "No Microsoft app registration is configured."
	var rep doctor.Report
	for _, c := range doctor.Checks {
		r := doctor.Result{Check: c, Outcome: doctor.Skipped, Detail: "needs the sign-in"}
		switch c {
		case doctor.CheckMicrosoftSignIn:
			r.Outcome, r.Detail = doctor.Failed, noApp
		case doctor.CheckCRMSignIn:
			r.Outcome, r.Detail = doctor.Failed, "Sign in to ClientSuccess."
		}
		rep.Results = append(rep.Results, r)
	}
	h := newHarness(t, signedOut())
	h.api.Do(func(s *agentapitest.State) {
		s.Report = rep
	})
	h.w.Select(SectionSync)
	h.tap("Check connection", "Doctor")
	h.pump("the report shown", func() bool { return h.w.sync.checks.report != nil })
	h.wantText("2 checks failed, and 6 more could not run until they pass. Start with "+doctor.CheckMicrosoftSignIn+".", noApp)
	h.wantNoText("8 of 8")
}
