package agent_test

import (
	"bytes"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/match"
	"mailsync/sync/policy"
	"mailsync/sync/sandbox"
	"mailsync/sync/setup"
)

const goodID = "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21"

func openAgent(t *testing.T, cfg agent.Config) *agent.Agent {
	t.Helper()
	ag, err := agent.Open(cfg, agent.Hooks{}, nil)
	if err != nil {
		t.Fatalf("open agent: %v", err)
	}
	t.Cleanup(func() { ag.Close() })
	return ag
}

func sources(t *testing.T, ag *agent.Agent) map[string]string {
	t.Helper()
	s, err := ag.Setup(ctxFor(t))
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	out := map[string]string{}
	for _, f := range s.Fields {
		out[f.Key] = f.Value + " (" + string(f.Source) + ")"
	}
	return out
}

// TestSetupRefusalsSaveNothing checks that a wrong value, or one the
// policy locks, is refused naming its key and that nothing of the same
// change is saved; that a good change is kept in the state across a
// restart; and the precedence policy > environment > person > build.
func TestSetupRefusalsSaveNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := agent.Config{DataDir: dir, Policy: policy.Policy{Values: setup.Values{Tenant: "corp.example"}}}
	ag := openAgent(t, cfg)
	ctx := ctxFor(t)
	if _, err := ag.Connect(ctx, false); !errors.Is(err, agent.ErrNoClientID) {
		t.Fatalf("Connect with no app ID: %v, want ErrNoClientID", err)
	}
	if strings.Contains(agent.ErrNoClientID.Error(), "MAILSYNC_CLIENT_ID") || !strings.Contains(agent.ErrNoClientID.Error(), "mailsync config set client-id") {
		t.Errorf("ErrNoClientID does not point at the setup page and the command: %q", agent.ErrNoClientID)
	}
	before := sources(t, ag)
	want := map[string]string{setup.KeyClientID: " ()", setup.KeyTenant: "corp.example (policy)", setup.KeyCRMURL: setup.DefaultCRMAddress + " (default)"}
	if !maps.Equal(before, want) {
		t.Fatalf("fresh setup %v, want %v", before, want)
	}

	var invalid agent.InvalidError
	err := ag.SetSetup(ctx, map[string]string{setup.KeyCRMURL: setup.DefaultCRMAddress, setup.KeyClientID: "Mail Sync"})
	if !errors.As(err, &invalid) || invalid.Key != setup.KeyClientID || !strings.HasPrefix(err.Error(), "client-id: ") {
		t.Errorf("a wrong app ID: %v; want a refusal naming client-id", err)
	}
	var locked agent.LockedError
	err = ag.SetSetup(ctx, map[string]string{setup.KeyClientID: goodID, setup.KeyTenant: "other.example"})
	if !errors.As(err, &locked) || locked.Key != setup.KeyTenant || !strings.Contains(err.Error(), "organization") {
		t.Errorf("a tenant the policy sets: %v; want a refusal naming tenant and the organization", err)
	}
	if err := ag.SetSetup(ctx, map[string]string{"password": "x"}); err == nil || !strings.Contains(err.Error(), `"password"`) {
		t.Errorf("an unknown key: %v", err)
	}
	if got := sources(t, ag); !maps.Equal(got, before) {
		t.Fatalf("refused changes left %v, want %v unchanged", got, before)
	}

	if st, _ := ag.Status(ctx); st.SetupSaves != 0 {
		t.Errorf("refused changes counted as %d setup saves", st.SetupSaves)
	}
	if err := ag.SetSetup(ctx, map[string]string{setup.KeyClientID: strings.ToUpper(goodID), setup.KeyCRMURL: "https://cs.example.com/v1/"}); err != nil {
		t.Fatalf("SetSetup: %v", err)
	}
	if st, _ := ag.Status(ctx); st.SetupSaves != 1 {
		t.Errorf("a saved change is not on the board (SetupSaves %d), so open windows would not read it again", st.SetupSaves)
	}
	ag.Close()

	// A restart keeps what was set; the environment overrides it, the
	// policy overrides both, the build's app ID counts only when nothing
	// else sets one.
	ag = openAgent(t, cfg)
	want = map[string]string{setup.KeyClientID: goodID + " (set)", setup.KeyTenant: "corp.example (policy)", setup.KeyCRMURL: "https://cs.example.com (set)"}
	if got := sources(t, ag); !maps.Equal(got, want) {
		t.Errorf("after a restart %v, want %v", got, want)
	}
	ag.Close()
	old := agent.BuildClientID
	agent.BuildClientID = "44444444-4444-4444-4444-444444444444"
	t.Cleanup(func() { agent.BuildClientID = old })
	envCfg := cfg
	envCfg.ClientID, envCfg.CRMURL = "22222222-2222-2222-2222-222222222222", "http://127.0.0.1:1/root"
	ag = openAgent(t, envCfg)
	want = map[string]string{setup.KeyClientID: "22222222-2222-2222-2222-222222222222 (environment)", setup.KeyTenant: "corp.example (policy)", setup.KeyCRMURL: "http://127.0.0.1:1/root (environment)"}
	if got := sources(t, ag); !maps.Equal(got, want) {
		t.Errorf("with the environment %v, want %v", got, want)
	}
	if err := ag.SetSetup(ctx, map[string]string{setup.KeyClientID: ""}); err != nil {
		t.Fatalf("unset client-id: %v", err)
	}
	ag.Close()
	ag = openAgent(t, cfg)
	s, err := ag.Setup(ctx)
	if err != nil || s.Field(setup.KeyClientID).Source != setup.FromBuild || !s.ClientIDBuiltIn || !s.Ready() {
		t.Errorf("after unsetting, with a build's app ID: %+v, %v; want the build's", s, err)
	}
}

// TestSetUpInTheWindowThenConnect checks that an app ID set through the
// API (as the first-run page and `config set` do) is the one the sign-in
// uses, with no environment variable.
func TestSetUpInTheWindowThenConnect(t *testing.T) {
	f := newFixture(t)
	f.ag.Close()
	id := f.cfg.ClientID
	f.cfg.ClientID = ""
	f.open(t)
	ctx := ctxFor(t)
	if _, err := f.ag.Connect(ctx, false); !errors.Is(err, agent.ErrNoClientID) {
		t.Fatalf("Connect before setup: %v", err)
	}
	if err := f.ag.SetSetup(ctx, map[string]string{setup.KeyClientID: id}); err != nil {
		t.Fatalf("SetSetup: %v", err)
	}
	acct := f.connect(t)
	if acct.Email != f.svc.World.Me.Mail {
		t.Errorf("connected as %s", acct.Email)
	}
}

// TestPolicyRulesApplyToThePass checks that the policy's options lock the
// person's (shown in force, the person's own kept) and that its blocklist
// is added to the person's in a pass: the sandbox's blocked message is not
// uploaded although the person's own list is empty.
func TestPolicyRulesApplyToThePass(t *testing.T) {
	f := newFixture(t)
	f.ag.Close()
	yes, no := true, false
	f.cfg.Policy = policy.Policy{IgnoreInternal: &no, StartAtLogin: &yes, Blocklist: []string{sandbox.BlockedEntry}, Source: "test"}
	f.open(t)
	ctx := ctxFor(t)
	f.connect(t)
	f.ready(t) // the sandbox's rules, blocklist included
	own := sandbox.Settings()
	own.Blocklist, own.IgnoreInternal = nil, true
	if err := f.ag.SetSettings(ctx, agentapi.Settings{Rules: own, StartAtLogin: false}); err != nil {
		t.Fatalf("SetSettings: %v", err)
	}
	s, err := f.ag.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rules.IgnoreInternal || !s.StartAtLogin || len(s.Rules.Blocklist) != 0 ||
		s.Policy == nil || !slices.Equal(s.Policy.Blocklist, []string{sandbox.BlockedEntry}) || s.Policy.StartAtLogin == nil {
		t.Errorf("Settings = %+v (policy %+v); want the policy's options in force, its blocklist apart", s, s.Policy)
	}
	stored := match.DefaultSettings()
	if err := f.ag.Store().Rules(&stored); err != nil || !stored.IgnoreInternal {
		t.Errorf("the person's own ignore-internal choice was not kept: %+v, %v", stored, err)
	}

	sum, err := f.ag.PassNow(ctx)
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	if sum.Counts.Skipped[string(match.Blocked)] == 0 {
		t.Errorf("no message was blocked by the policy's blocklist: %+v", sum.Counts)
	}
	if got, want := f.svc.CRM.MessageIDs(), f.svc.World.Expected(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("uploaded %v, want %v", got, want)
	}
}

// TestPolicyProblemsLoggedAndReported checks that the values a policy got
// wrong are in the log and in Setup (which the window and `status` show),
// and that the good ones apply.
func TestPolicyProblemsLoggedAndReported(t *testing.T) {
	p := policy.ParseJSON([]byte(`{"tenant": "corp.example", "clientId": "Mail Sync"}`), "/etc/mail-sync/policy.json")
	var logs bytes.Buffer
	ag, err := agent.Open(agent.Config{DataDir: t.TempDir(), Policy: p}, agent.Hooks{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer ag.Close()
	if !strings.Contains(logs.String(), "The policy's clientId is ignored") || !strings.Contains(logs.String(), "/etc/mail-sync/policy.json") {
		t.Errorf("the log does not name the ignored value and the policy:\n%s", logs.String())
	}
	s, err := ag.Setup(ctxFor(t))
	if err != nil || len(s.PolicyProblems) != 1 || !strings.Contains(s.PolicyProblems[0], "clientId") || s.Ready() ||
		s.Field(setup.KeyTenant).Source != setup.FromPolicy {
		t.Errorf("Setup = %+v, %v; want the clientId problem, no app ID, the policy's tenant", s, err)
	}
}
