package agentapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
)

// TestReportJSONNamesTheStateAndHasNoNull checks what `mailsync status
// --json` prints: the state by name, and an empty table where a pass
// skipped nothing (or none ran yet), never null.
func TestReportJSONNamesTheStateAndHasNoNull(t *testing.T) {
	for _, st := range []engine.Status{
		{State: engine.SignedOut},
		{State: engine.Paused, Account: &engine.Account{Name: "Ann Lee", Email: "ann@contoso.com"}, Paused: true},
		{State: engine.Idle, Account: &engine.Account{Email: "ann@contoso.com"}, CRMUser: "ann",
			LastCopy: &engine.PassRecord{Counts: engine.PassCounts{Synced: 2}}},
	} {
		b, err := json.Marshal(agentapi.Report(st, false))
		if err != nil {
			t.Fatal(err)
		}
		if want := `"state":"` + map[engine.State]string{engine.SignedOut: "signed-out", engine.Paused: "paused", engine.Idle: "idle"}[st.State] + `"`; !strings.Contains(string(b), want) {
			t.Errorf("report of %v: %s, want %s", st.State, b, want)
		}
		if strings.Contains(string(b), "null") {
			t.Errorf("report of %v has a null: %s", st.State, b)
		}
		var back agentapi.StatusReport
		if err := json.Unmarshal(b, &back); err != nil || back.State != st.State || back.StateName != st.State.String() {
			t.Errorf("report %s read back as state %v %q (%v)", b, back.State, back.StateName, err)
		}
	}
}
