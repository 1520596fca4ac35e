package settings

import (
	"slices"
	"testing"
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
	h.pump("saved", func() bool { return len(h.api.savedSettings()) == 1 })
	h.settle()
	got := h.api.savedSettings()[0]
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
