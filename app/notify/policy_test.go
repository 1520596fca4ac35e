package notify

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailsync/sync/engine"
	"mailsync/sync/engine/clocktest"
)

func TestPolicy(t *testing.T) {
	const (
		reconnect = "Mail Sync: reconnect needed"
		failing   = "Mail Sync has not synced for over 3 hours"
	)
	type step struct {
		state engine.State
		at    time.Duration // since the start of the test
		want  string        // notice title, "" for none
	}
	h := time.Hour
	tests := []struct {
		name  string
		steps []step
	}{
		{"healthy passes never notify", []step{
			{engine.Idle, 0, ""}, {engine.Syncing, h, ""}, {engine.Idle, h + time.Minute, ""},
		}},
		{"reconnect notifies once a day however often reported", []step{
			{engine.Idle, 0, ""}, {engine.NeedsReconnect, h, reconnect},
			{engine.NeedsReconnect, 2 * h, ""}, {engine.NeedsReconnect, 24*h + 59*time.Minute, ""},
			{engine.NeedsReconnect, 25 * h, reconnect}, {engine.NeedsReconnect, 30 * h, ""},
			{engine.NeedsReconnect, 49 * h, reconnect},
		}},
		{"reconnect again after leaving the state", []step{
			{engine.NeedsReconnect, 0, reconnect}, {engine.Idle, h, ""},
			{engine.NeedsReconnect, 2 * h, reconnect},
		}},
		{"reconnect from the very first status", []step{
			{engine.NeedsReconnect, 0, reconnect},
		}},
		{"failures under 3 hours stay quiet", []step{
			{engine.Error, 0, ""}, {engine.Syncing, h, ""}, {engine.Error, h, ""},
			{engine.Error, 2 * h, ""}, {engine.Error, 3 * h, ""},
		}},
		{"failing over 3 hours notifies once", []step{
			{engine.Error, 0, ""}, {engine.Syncing, h, ""}, {engine.Error, h, ""},
			{engine.Error, 3*h + time.Second, failing}, {engine.Syncing, 4 * h, ""},
			{engine.Error, 4 * h, ""}, {engine.Error, 20 * h, ""},
		}},
		{"a success resets the failure clock", []step{
			{engine.Error, 0, ""}, {engine.Error, 2 * h, ""}, {engine.Idle, 3 * h, ""},
			{engine.Error, 4 * h, ""}, {engine.Error, 6 * h, ""}, {engine.Error, 7*h + time.Second, failing},
		}},
		{"notifies again after a success and new failures", []step{
			{engine.Error, 0, ""}, {engine.Error, 4 * h, failing}, {engine.Idle, 5 * h, ""},
			{engine.Error, 6 * h, ""}, {engine.Error, 10 * h, failing},
		}},
		{"time paused does not count as failing", []step{
			{engine.Error, 0, ""}, {engine.Paused, h, ""}, {engine.Error, 5 * h, ""},
			{engine.Error, 8 * h, ""}, {engine.Error, 8*h + time.Second, failing},
		}},
		{"pause does not repeat a failure notice", []step{
			{engine.Error, 0, ""}, {engine.Error, 4 * h, failing}, {engine.Paused, 5 * h, ""},
			{engine.Error, 6 * h, ""}, {engine.Error, 10 * h, ""},
		}},
		{"signing out clears everything", []step{
			{engine.Error, 0, ""}, {engine.Error, 4 * h, failing}, {engine.SignedOut, 5 * h, ""},
			{engine.Error, 6 * h, ""}, {engine.Error, 9*h + time.Second, failing},
		}},
	}
	start := time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Policy
			for i, st := range tt.steps {
				n, ok := p.Next(engine.Status{State: st.state, LastError: "No network"}, start.Add(st.at))
				if ok != (st.want != "") || n.Title != st.want {
					t.Fatalf("step %d (%v at %v): notice %q (shown %v), want %q", i, st.state, st.at, n.Title, ok, st.want)
				}
				if ok && n.Body == "" {
					t.Errorf("step %d: notice %q has no body", i, n.Title)
				}
			}
		})
	}
}

func TestFailureNoticeCarriesError(t *testing.T) {
	var p Policy
	start := time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)
	p.Next(engine.Status{State: engine.Error, LastError: "ClientSuccess is under maintenance"}, start)
	n, ok := p.Next(engine.Status{State: engine.Error, LastError: "ClientSuccess is under maintenance"}, start.Add(4*time.Hour))
	if !ok {
		t.Fatal("no notice after 4 hours of failures")
	}
	if want := "ClientSuccess is under maintenance. Emails are not being copied to ClientSuccess. Mail Sync keeps trying every hour."; n.Body != want {
		t.Errorf("body = %q, want %q", n.Body, want)
	}
}

// A service's words in the notice are printable: no line forged by a
// newline, no text reordered by a bidi override.
func TestFailureNoticeIsPrintable(t *testing.T) {
	var p Policy
	start := time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)
	st := engine.Status{State: engine.Error, LastError: "ClientSuccess: quota\x1b[0m exceeded\nAll good\u202E"}
	p.Next(st, start)
	n, ok := p.Next(st, start.Add(4*time.Hour))
	if !ok {
		t.Fatal("no notice after 4 hours of failures")
	}
	if want := "ClientSuccess: quota[0m exceeded All good. Emails are not being copied to ClientSuccess. Mail Sync keeps trying every hour."; n.Body != want {
		t.Errorf("body = %q, want %q", n.Body, want)
	}
}

// TestReconnectNoticeSaysWhatWaits: the reconnect notice says since when
// mail is waiting (the start of the last sync that finished), in the
// person's time zone.
func TestReconnectNoticeSaysWhatWaits(t *testing.T) {
	var p Policy
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2025, 3, 14, 8, 0, 0, 0, loc)
	n, ok := p.Next(engine.Status{State: engine.NeedsReconnect, LastSuccess: time.Date(2025, 3, 12, 14, 5, 0, 0, time.UTC)}, now)
	if !ok || !strings.Contains(n.Body, "Email received since Wed 12 Mar 15:05 is waiting.") || !strings.Contains(n.Body, "connect again") {
		t.Errorf("notice %q (shown %v)", n.Body, ok)
	}
	var q Policy
	if n, _ := q.Next(engine.Status{State: engine.NeedsReconnect}, now); strings.Contains(n.Body, "since") {
		t.Errorf("without a last sync the notice still says since when: %q", n.Body)
	}
}

// TestFollowRepeatsTheReconnectNoticeDaily: with no status coming (no
// passes run while the sign-in is refused), the reconnect notice is shown
// at once and again each day, on the clock, until a new connection.
func TestFollowRepeatsTheReconnectNoticeDaily(t *testing.T) {
	start := time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)
	clock := clocktest.NewFakeClock(start)
	statuses := make(chan engine.Status)
	shown := make(chan Notice)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Follow(ctx, statuses, clock, func(n Notice) { shown <- n })
	}()
	defer func() { cancel(); <-done }()

	refused := engine.Status{State: engine.NeedsReconnect, LastSuccess: start.Add(-2 * time.Hour)}
	statuses <- refused
	if n := <-shown; !strings.Contains(n.Title, "reconnect") || !strings.Contains(n.Body, "since Fri 14 Mar 06:00") {
		t.Fatalf("first notice %+v", n)
	}
	for day := 1; day <= 3; day++ {
		// Follow's timer for the next notice exists once the notice
		// before was shown.
		if !clock.WaitTimersMade(day-1, time.Minute) {
			t.Fatalf("day %d: no timer for the next notice", day)
		}
		if fired := clock.Advance(ReconnectRepeat - time.Minute); fired != 0 {
			t.Fatalf("day %d: %d timers fired before a day had passed", day, fired)
		}
		if fired := clock.Advance(time.Minute); fired != 1 {
			t.Fatalf("day %d: %d timers fired after a day", day, fired)
		}
		if n := <-shown; !strings.Contains(n.Body, "is waiting") {
			t.Fatalf("day %d: notice %+v", day, n)
		}
	}
	// Connected again: no more notices, and no timer left.
	statuses <- engine.Status{State: engine.Idle}
	statuses <- engine.Status{State: engine.Idle} // the first was handled once this one is taken
	if d, ok := clock.UntilNextTimer(); ok {
		t.Errorf("a timer is still set %v ahead after the reconnect", d)
	}
	select {
	case n := <-shown:
		t.Errorf("notice after the reconnect: %+v", n)
	default:
	}
}
