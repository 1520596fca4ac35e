package agent_test

import (
	"testing"

	"mailsync/sync/agentapi"
	"mailsync/sync/match"
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
