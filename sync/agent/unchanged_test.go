package agent_test

import (
	"testing"

	"mailsync/sync/agent"
	"mailsync/sync/engine"
)

// TestUnchangedMatchesTheGreyedActions checks what the command line says
// would change nothing against what the window greys out: one row per
// command and status.
func TestUnchangedMatchesTheGreyedActions(t *testing.T) {
	acct := &engine.Account{Name: "Ann Lee", Email: "ann@contoso.com"}
	for _, tc := range []struct {
		name string
		f    func(engine.Status) string
		st   engine.Status
		want string
	}{
		{"disconnect, fresh", agent.UnchangedByDisconnect, engine.Status{}, agent.NothingToDisconnect},
		{"disconnect, sign-in waiting", agent.UnchangedByDisconnect, engine.Status{Connecting: true}, ""},
		{"disconnect, connected", agent.UnchangedByDisconnect, engine.Status{Account: acct}, ""},
		{"disconnect, reconnect needed", agent.UnchangedByDisconnect, engine.Status{Account: acct, Reconnect: "x"}, ""},
		{"crm logout, fresh", agent.UnchangedByCRMLogout, engine.Status{}, agent.NothingToSignOut},
		{"crm logout, signed in", agent.UnchangedByCRMLogout, engine.Status{CRMUser: "ann"}, ""},
		{"pause, fresh", agent.UnchangedByPause, engine.Status{}, agent.NothingToPause},
		{"pause, connected", agent.UnchangedByPause, engine.Status{Account: acct}, ""},
		{"pause, paused", agent.UnchangedByPause, engine.Status{Account: acct, Paused: true}, agent.AlreadyPaused},
		{"pause, paused before connecting", agent.UnchangedByPause, engine.Status{Paused: true}, agent.AlreadyPaused},
		{"resume, fresh", agent.UnchangedByResume, engine.Status{}, agent.NothingToResume},
		{"resume, connected", agent.UnchangedByResume, engine.Status{Account: acct}, agent.NothingToResume},
		{"resume, paused", agent.UnchangedByResume, engine.Status{Account: acct, Paused: true}, ""},
		{"resume, paused before connecting", agent.UnchangedByResume, engine.Status{Paused: true}, ""},
	} {
		if got := tc.f(tc.st); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
