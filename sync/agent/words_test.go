package agent_test

import (
	"fmt"
	"testing"

	"mailsync/sync/agent"
	"mailsync/sync/remote"
)

// A service's words reach the window, the CLI and the status printable.
func TestWordsArePrintable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"ClientSuccess answer", &remote.Error{Service: "crm", Op: "sign in", Kind: remote.Permanent, Status: 400,
			Message: "Account locked\x1b[8m\r\nPassword accepted"}, "ClientSuccess: Account locked[8m Password accepted"},
		{"Microsoft 365 answer", fmt.Errorf("engine: list: %w", &remote.Error{Service: "graph", Op: "list messages", Kind: remote.Permanent, Status: 400,
			Message: "Microsoft 365 says\u202E no"}), "Microsoft 365 says no"},
		{"an agent-level error", agent.ErrNeedsReconnect{Reason: "Microsoft ended the sign-in\n(revoked)"}, "Microsoft ended the sign-in (revoked)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := agent.Words(tc.err); got != tc.want {
				t.Fatalf("Words = %q, want %q", got, tc.want)
			}
		})
	}
}
