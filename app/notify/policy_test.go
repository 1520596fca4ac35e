package notify

import (
	"testing"
	"time"

	"mailsync/sync/engine"
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
		{"reconnect notifies once however often reported", []step{
			{engine.Idle, 0, ""}, {engine.NeedsReconnect, h, reconnect},
			{engine.NeedsReconnect, 2 * h, ""}, {engine.NeedsReconnect, 30 * h, ""},
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
