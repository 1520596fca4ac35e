package engine

import (
	"testing"
	"time"
)

// TestNextSyncOnlyWhenAPassWillRun checks that a next pass is promised only
// in the states where the scheduler will run one: the board keeps NextPass
// while the person is signed out of ClientSuccess, so `mailsync status` said
// "Next sync: 06:41" while the window said "After you sign in to
// ClientSuccess".
func TestNextSyncOnlyWhenAPassWillRun(t *testing.T) {
	next := time.Date(2026, 12, 1, 6, 41, 0, 0, time.UTC)
	for _, c := range []struct {
		state State
		want  time.Time
	}{
		{Idle, next},
		{Error, next},
		{SignedOut, time.Time{}},
		{NeedsReconnect, time.Time{}},
		{CRMSignedOut, time.Time{}},
		{Paused, time.Time{}},
		{Syncing, time.Time{}},
	} {
		s := Status{State: c.state, NextPass: next}
		if got := s.NextSync(); !got.Equal(c.want) {
			t.Errorf("%v: NextSync %v, want %v", c.state, got, c.want)
		}
	}
}
