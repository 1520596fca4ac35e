package agent_test

import (
	"testing"

	"mailsync/sync/agentapi"
	"mailsync/sync/match"
	"mailsync/sync/policy"
)

// TestSetSettingsHistoryDays: the days of history for a contact added
// later are kept as set, from 0 to match.MaxHistoryDays; outside that the
// settings are refused and stay as they were.
func TestSetSettingsHistoryDays(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	s := agentapi.Settings{Rules: match.DefaultSettings(), StartAtLogin: true}
	s.Rules.HistoryDays = 30
	if err := f.ag.SetSettings(ctx, s); err != nil {
		t.Fatalf("SetSettings(30 days): %v", err)
	}
	if got, err := f.ag.Settings(ctx); err != nil || got.Rules.HistoryDays != 30 {
		t.Fatalf("Settings = %d days, %v; want 30", got.Rules.HistoryDays, err)
	}
	for _, d := range []int{-1, match.MaxHistoryDays + 1} {
		bad := s
		bad.Rules.HistoryDays = d
		if err := f.ag.SetSettings(ctx, bad); err == nil {
			t.Errorf("SetSettings(%d days) accepted", d)
		}
	}
	if got, _ := f.ag.Settings(ctx); got.Rules.HistoryDays != 30 {
		t.Errorf("after refused changes: %d days, want 30", got.Rules.HistoryDays)
	}
}

// TestPolicyLocksHistoryDays: days of history set by the policy are in
// force and shown locked; the person's own choice is kept apart.
func TestPolicyLocksHistoryDays(t *testing.T) {
	f := newFixture(t)
	f.ag.Close()
	days := 14
	f.cfg.Policy = policy.Policy{HistoryDays: &days, Source: "test"}
	f.open(t)
	ctx := ctxFor(t)
	own := match.DefaultSettings()
	own.HistoryDays = 60
	if err := f.ag.SetSettings(ctx, agentapi.Settings{Rules: own, StartAtLogin: true}); err != nil {
		t.Fatalf("SetSettings: %v", err)
	}
	s, err := f.ag.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rules.HistoryDays != 14 || s.Policy == nil || s.Policy.HistoryDays == nil || *s.Policy.HistoryDays != 14 {
		t.Errorf("Settings = %d days (policy %+v); want the policy's 14, locked", s.Rules.HistoryDays, s.Policy)
	}
	stored := match.DefaultSettings()
	if err := f.ag.Store().Rules(&stored); err != nil || stored.HistoryDays != 0 {
		t.Errorf("stored %d days, %v; want the person's own choice (0) untouched while locked", stored.HistoryDays, err)
	}
}
