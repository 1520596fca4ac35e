package settings

import (
	"context"
	"maps"
	"testing"

	"fyne.io/fyne/v2/test"

	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
	"mailsync/sync/setup"
)

// setupHarness is a window whose agent answers Setup with s.
func setupHarness(t *testing.T, s agentapi.Setup, settings *agentapi.Settings) *harness {
	t.Helper()
	h := newHarness(t, signedOut())
	h.api.Do(func(st *agentapitest.State) {
		st.Setup = s
		if settings != nil {
			st.Settings = *settings
		}
	})
	// The harness loaded the fake's defaults; load again as the agent's
	// return would.
	h.w.loadSetup()
	h.w.options.load()
	h.pump("setup loaded", func() bool { return h.w.setupLoaded && h.w.setupInfo.Version == s.Version })
	h.settle()
	return h
}

func notReady() agentapi.Setup {
	return agentapi.Setup{Version: "9.9.9", Fields: []setup.Field{
		{Key: setup.KeyClientID},
		{Key: setup.KeyTenant, Value: setup.DefaultTenant, Source: setup.FromDefault},
		{Key: setup.KeyCRMURL, Value: setup.DefaultCRMAddress, Source: setup.FromDefault},
	}}
}

func (f *setupForm) field(key string) *setupField {
	for _, sf := range f.fields {
		if sf.key == key {
			return sf
		}
	}
	return nil
}

// TestFirstRunPageUntilAppIDSaved checks that the first-run page stands in
// for the sections while no app ID is configured, that a wrong ID gets a
// sentence and cannot be saved, and that saving a good one (in its usual
// form) brings the sections back.
func TestFirstRunPageUntilAppIDSaved(t *testing.T) {
	h := setupHarness(t, notReady(), nil)
	if !h.w.first.Visible() || h.w.body.Visible() {
		t.Fatal("no app ID is configured, but the first-run page is not what the window shows")
	}
	h.wantText(firstRunTitle, "Microsoft app (client) ID", "Directory", "ClientSuccess address")
	h.wantNoText(SectionActivity)
	test.AssertImageMatches(t, "first_run.png", h.w.win.Canvas().Capture())

	f := h.w.firstRun
	cid := f.field(setup.KeyClientID)
	if !f.save.Disabled() {
		t.Error("Continue is enabled with no app ID typed")
	}
	cid.entry.SetText("not-a-guid")
	h.settle()
	h.wantText("is a GUID like 00000000-0000-0000-0000-000000000000")
	if !f.save.Disabled() {
		t.Fatal("Continue is enabled with a wrong app ID")
	}
	test.Tap(f.save)
	f.tenantTyped(h, "contoso")
	h.wantText(`"contoso" is not a directory`)
	h.settle()
	if n := len(h.api.Snapshot().SetupSaved); n != 0 {
		t.Fatalf("a wrong value was saved (%d saves)", n)
	}

	f.tenantTyped(h, "Contoso.COM")
	cid.entry.SetText("{0D2A6C6E-4B1F-4E5B-9A55-1F7C3B8A9E21}")
	h.settle()
	h.wantNoText("is a GUID", "is not a directory")
	if f.save.Disabled() {
		t.Fatal("Continue is disabled with a good app ID and directory")
	}
	test.Tap(f.save)
	h.pump("saved", func() bool { return len(h.api.Snapshot().SetupSaved) == 1 })
	want := map[string]string{setup.KeyClientID: testAppID, setup.KeyTenant: "contoso.com"}
	if got := h.api.Snapshot().SetupSaved[0]; !maps.Equal(got, want) {
		t.Errorf("saved %v, want %v (the changed fields, in their usual form)", got, want)
	}
	h.pump("sections back", func() bool { return !h.w.first.Visible() && h.w.body.Visible() })
}

func (f *setupForm) tenantTyped(h *harness, text string) {
	f.field(setup.KeyTenant).entry.SetText(text)
	h.settle()
}

// TestAdvancedShowsPolicyLocks checks that a value the organisation sets
// is shown as such and cannot be edited, that what the policy got wrong is
// reported, and that the other fields still save.
func TestAdvancedShowsPolicyLocks(t *testing.T) {
	s := agentapi.Setup{Version: "2.0.0", ClientIDBuiltIn: true,
		PolicyProblems: []string{"The policy's crmUrl is ignored: it must be a string."},
		Fields: []setup.Field{
			{Key: setup.KeyClientID, Value: testAppID, Source: setup.FromBuild},
			{Key: setup.KeyTenant, Value: "contoso.com", Source: setup.FromPolicy},
			{Key: setup.KeyCRMURL, Value: setup.DefaultCRMAddress, Source: setup.FromDefault},
		}}
	h := setupHarness(t, s, nil)
	if h.w.first.Visible() {
		t.Fatal("the build carries an app ID, yet the first-run page shows")
	}
	h.w.Select(SectionAdvanced)
	h.settle()
	h.wantText(lockedNote, "contoso.com", policyTitle, "The policy's crmUrl is ignored")
	a := h.w.advanced
	tenant := a.field(setup.KeyTenant)
	if tenant.entry.Visible() || !tenant.value.Visible() {
		t.Error("the directory set by the organisation is editable")
	}
	if !a.field(setup.KeyClientID).entry.Visible() {
		t.Error("the built-in app ID is not editable under Advanced")
	}

	crm := a.field(setup.KeyCRMURL)
	crm.entry.SetText("http://cs.example.com")
	h.settle()
	h.wantText("must start with https://")
	if !a.save.Disabled() {
		t.Fatal("Save is enabled with a plain http address")
	}
	crm.entry.SetText("http://127.0.0.1:8080/v1/")
	h.settle()
	test.Tap(a.save)
	h.pump("saved", func() bool { return len(h.api.Snapshot().SetupSaved) == 1 })
	want := map[string]string{setup.KeyCRMURL: "http://127.0.0.1:8080"}
	if got := h.api.Snapshot().SetupSaved[0]; !maps.Equal(got, want) {
		t.Errorf("saved %v, want %v", got, want)
	}
	h.w.Select(SectionAbout)
	h.settle()
	h.wantText("Mail Sync 2.0.0")
}

// TestOptionsShowPolicyLocks checks that options the organisation sets are
// shown as such and cannot be changed, and that its blocklist is shown
// beside the person's own.
func TestOptionsShowPolicyLocks(t *testing.T) {
	on := true
	fake := newFakeAgent(signedOut()).Snapshot()
	settings := fake.Settings
	settings.Policy = &agentapi.PolicyRules{StartAtLogin: &on, Blocklist: []string{"@rival.example"}}
	h := setupHarness(t, fake.Setup, &settings)
	h.pump("policy shown", func() bool { return h.w.options.startLocked.Visible() })
	h.w.Select(SectionOptions)
	h.settle()
	o := h.w.options
	if !o.startAtLogin.Disabled() {
		t.Error("start at login is locked by the policy but can be changed")
	}
	if o.ignoreInternal.Disabled() || o.internalLocked.Visible() {
		t.Error("ignore internal is not set by the policy but is locked")
	}
	h.wantText(lockedNote, "Your organization also blocks: @rival.example")
}

// TestSetupChangedElsewhereIsShown checks that an app ID set with `mailsync
// config set` while the first-run page shows (the agent counts setup
// saves in its status) takes the page away.
func TestSetupChangedElsewhereIsShown(t *testing.T) {
	h := setupHarness(t, notReady(), nil)
	if !h.w.first.Visible() {
		t.Fatal("no first-run page")
	}
	if err := h.api.SetSetup(context.Background(), map[string]string{setup.KeyClientID: testAppID}); err != nil {
		t.Fatal(err)
	}
	st := h.w.status
	st.SetupSaves++
	h.api.Publish(st)
	h.pump("sections back", func() bool { return !h.w.first.Visible() && h.w.body.Visible() })
}
