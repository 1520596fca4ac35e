package policy

import "testing"

// TestHistoryDays: the days of history for a contact added later read as a
// JSON number, a REG_DWORD or text, from 0 to 90; anything else is named
// and ignored; the first policy that sets it wins.
func TestHistoryDays(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want int
		ok   bool
	}{
		{float64(30), 30, true}, {uint64(0), 0, true}, {" 90 ", 90, true},
		{float64(91), 0, false}, {float64(-1), 0, false}, {float64(7.5), 0, false},
		{uint64(1 << 40), 0, false}, {"a week", 0, false}, {true, 0, false},
	} {
		p := FromValues(map[string]any{KeyHistoryDays: tc.v}, "test")
		switch {
		case tc.ok && (p.HistoryDays == nil || *p.HistoryDays != tc.want || len(p.Problems) != 0):
			t.Errorf("%#v: days %v, problems %q; want %d", tc.v, p.HistoryDays, p.Problems, tc.want)
		case !tc.ok:
			if p.HistoryDays != nil {
				t.Errorf("%#v: days %d, want it ignored", tc.v, *p.HistoryDays)
			}
			wantProblems(t, p, KeyHistoryDays)
		}
	}
	seven, thirty := 7, 30
	if got := merge(Policy{HistoryDays: &seven}, Policy{HistoryDays: &thirty}); got.HistoryDays == nil || *got.HistoryDays != 7 {
		t.Errorf("merge kept %v, want the first policy's 7", got.HistoryDays)
	}
	if got := merge(Policy{}, Policy{HistoryDays: &thirty}); got.HistoryDays == nil || *got.HistoryDays != 30 {
		t.Errorf("merge kept %v, want the second policy's 30", got.HistoryDays)
	}
	if (Policy{HistoryDays: &seven}).Empty() {
		t.Error("a policy that sets only the days of history is empty")
	}
}
