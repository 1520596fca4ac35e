package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestStateJSONIsItsName checks that a state goes into JSON as its name,
// reads back as itself, and that the number an earlier agent sends still
// reads.
func TestStateJSONIsItsName(t *testing.T) {
	want := map[State]string{SignedOut: "signed-out", Idle: "idle", Syncing: "syncing", NeedsReconnect: "needs-reconnect",
		Error: "error", Paused: "paused", CRMSignedOut: "crm-signed-out"}
	for st, name := range want {
		b, err := json.Marshal(Status{State: st})
		if err != nil {
			t.Fatalf("%v: %v", st, err)
		}
		if !strings.Contains(string(b), `"state":"`+name+`"`) {
			t.Errorf("%v in JSON: %s, want \"state\":%q", st, b, name)
		}
		var back Status
		if err := json.Unmarshal(b, &back); err != nil || back.State != st {
			t.Errorf("%s read back as %v (%v), want %v", b, back.State, err, st)
		}
	}
	var st State
	if err := json.Unmarshal([]byte("3"), &st); err != nil || st != NeedsReconnect {
		t.Errorf("an earlier agent's 3 reads as %v (%v), want %v", st, err, NeedsReconnect)
	}
	if err := json.Unmarshal([]byte(`"asleep"`), &st); err == nil {
		t.Errorf("an unknown state name read as %v without an error", st)
	}
	if _, err := json.Marshal(State(42)); err == nil {
		t.Error("a state with no name was written without an error")
	}
}
