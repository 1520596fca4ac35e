package engine

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"mailsync/sync/sandbox"
)

// A subject and a client name with control characters and a bidi override
// are recorded for Activity printable, and the Activity list shows them so.
func TestDecisionsRecordPrintableText(t *testing.T) {
	w := sandbox.Demo(testNow)
	var msgID string
	for i, it := range w.Messages {
		if len(it.Expect) != 1 {
			continue
		}
		w.Messages[i].Msg.Subject = "Renewal\x1b[2J\r\nFrom: ceo@acme.example"
		msgID = it.Msg.InternetMessageID
		for j := range w.Clients {
			if w.Clients[j].ID == it.Expect[0] {
				w.Clients[j].Name = "Acme\u202Egnp.exe"
			}
		}
		break
	}
	if msgID == "" {
		t.Fatal("the demo world has no message for one client")
	}
	e := newEnv(t, w)
	e.mustPass(testNow)

	const wantSubject, wantClient = "Renewal[2J From: ceo@acme.example", "Acmegnp.exe"
	check := func(where string, d Decision) {
		t.Helper()
		if d.Subject != wantSubject || !slices.Equal(d.Clients, []string{wantClient}) {
			t.Errorf("%s: subject %q, clients %q; want %q, [%q]", where, d.Subject, d.Clients, wantSubject, wantClient)
		}
	}
	found := false
	if err := e.store.Decisions(func(raw []byte) bool {
		var d Decision
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if d.MessageID == msgID {
			found = true
			check("recorded", d)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("no decision recorded for %s", msgID)
	}
	ds, err := e.engine().Decisions("renewal", 0)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ds, func(d Decision) bool { return d.MessageID == msgID })
	if i < 0 {
		t.Fatalf("Activity does not list %s", msgID)
	}
	check("listed", ds[i])
	if !ds[i].Synced || strings.ContainsAny(ds[i].Subject, "\r\n\x1b") {
		t.Errorf("listed decision: %+v", ds[i])
	}
}
