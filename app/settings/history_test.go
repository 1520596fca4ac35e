package settings

import (
	"slices"
	"testing"

	"mailsync/sync/agentapi"
)

// TestOptionsHistoryDays: the days of history for a contact added later
// show the agent's value, save at once when chosen, and a value set
// elsewhere that is not a preset is offered as it is.
func TestOptionsHistoryDays(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.w.Select(SectionOptions)
	o := h.w.options
	h.settle()
	if o.history.Selected != "24 hours" || o.history.Disabled() {
		t.Fatalf("history shows %q (disabled %v), want 24 hours, enabled", o.history.Selected, o.history.Disabled())
	}
	o.history.SetSelected("30 days")
	h.pump("saved", func() bool { return len(h.api.Snapshot().Saved) == 1 })
	h.settle()
	got := h.api.Snapshot().Saved[0]
	if got.Rules.HistoryDays != 30 || !got.Rules.SkipPrivate || got.Rules.PrivateCategory != "Private" {
		t.Errorf("saved %+v, want 30 days and the other rules kept", got.Rules)
	}
	h.wantText("Saved")

	if want := []string{"24 hours", "7 days", "14 days", "30 days", "45 days", "60 days", "90 days"}; !slices.Equal(historyChoices(45), want) {
		t.Errorf("historyChoices(45) = %q, want %q", historyChoices(45), want)
	}
	for _, d := range []int{0, 1, 45, 90} {
		if back, ok := historyDays(historyChoice(d)); !ok || back != d {
			t.Errorf("historyDays(historyChoice(%d)) = %d, %v", d, back, ok)
		}
	}
}

// TestOptionsHistoryLockedByPolicy: days of history set by the
// organisation are shown with the lock note and cannot be changed.
func TestOptionsHistoryLockedByPolicy(t *testing.T) {
	days := 14
	fresh := newFakeAgent(signedOut()).Snapshot()
	settings := fresh.Settings
	settings.Rules.HistoryDays = days
	settings.Policy = &agentapi.PolicyRules{HistoryDays: &days}
	h := setupHarness(t, fresh.Setup, &settings)
	h.pump("policy shown", func() bool { return h.w.options.historyLocked.Visible() })
	h.w.Select(SectionOptions)
	h.settle()
	o := h.w.options
	if !o.history.Disabled() || o.history.Selected != "14 days" {
		t.Errorf("history locked at 14 days shows %q, disabled %v", o.history.Selected, o.history.Disabled())
	}
	if o.startLocked.Visible() || o.internalLocked.Visible() {
		t.Error("options the policy does not set are shown locked")
	}
	h.wantText(lockedNote)
}
