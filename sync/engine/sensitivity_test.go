package engine

import (
	"testing"

	"mailsync/sync/graph"
	"mailsync/sync/sandbox"
)

// "Never copy private messages" covers Outlook's sensitivity: a message
// marked private or confidential from a contact is not copied, and Activity
// says which; with the setting off it is copied.
func TestPassSkipsSensitiveMessages(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	marked := map[string]string{} // internetMessageId → the reason wanted
	for _, it := range w.Messages {
		if len(it.Expect) == 0 || len(marked) == 2 {
			continue
		}
		value, reason := "2", "marked private in Outlook"
		if len(marked) == 1 {
			value, reason = "3", "marked confidential in Outlook"
		}
		m := it.Msg
		m.SingleValueExtendedProperties = nil
		for _, p := range it.Msg.SingleValueExtendedProperties {
			if p.ID != "Integer 0x36" {
				m.SingleValueExtendedProperties = append(m.SingleValueExtendedProperties, p)
			}
		}
		m.SingleValueExtendedProperties = append(m.SingleValueExtendedProperties,
			graph.ExtendedProperty{ID: graph.SensitivityPropertyID, Value: value})
		e.g.DeleteMessage(m.ID)
		e.g.AddMessage(m, it.Body)
		marked[m.InternetMessageID] = reason
	}
	if len(marked) != 2 {
		t.Fatal("the demo world has fewer than two messages to copy")
	}
	e.mustPass(testNow)

	want := map[int64][]string{}
	for c, ids := range w.Expected() {
		for _, id := range ids {
			if _, ok := marked[id]; !ok {
				want[c] = append(want[c], id)
			}
		}
	}
	sameLanding(t, landed(e.c), want)
	ds, err := e.engine().Decisions("", 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, d := range ds {
		if reason, ok := marked[d.MessageID]; ok {
			seen++
			if d.Synced || d.Reason != reason {
				t.Errorf("decision for a sensitive message: %+v, want the reason %q", d, reason)
			}
		}
	}
	if seen != 2 {
		t.Errorf("%d Activity entries for the 2 sensitive messages", seen)
	}
}
