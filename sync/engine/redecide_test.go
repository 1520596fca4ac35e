package engine

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/graph"
	"mailsync/sync/match"
	"mailsync/sync/sandbox"
)

// TestRedecideAtOnceAfterAChangeOfOptions: changing the blocklist and the
// private option decides Activity's rows again at once, from the facts
// recorded with them, without a request to Microsoft or ClientSuccess;
// copied rows stay copied; the next sync copies what became Waiting.
func TestRedecideAtOnceAfterAChangeOfOptions(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.mustPass(testNow)
	msg := func(why string) graph.Message {
		for _, it := range w.Messages {
			if it.Why == why {
				return it.Msg
			}
		}
		t.Fatalf("the demo has no %q message", why)
		return graph.Message{}
	}
	priv, blocked, news := msg(sandbox.WhyPrivate), msg(sandbox.WhyBlocked), msg(sandbox.WhyNewsletter)
	rows := func() map[string]Decision {
		t.Helper()
		all, err := e.engine().Decisions("", 0)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Decision{}
		for _, d := range all {
			out[d.MessageID] = d
		}
		return out
	}
	before := rows()
	for id, want := range map[string]match.Reason{priv.InternetMessageID: match.Private, blocked.InternetMessageID: match.Blocked, news.InternetMessageID: match.NoContact} {
		if d := before[id]; d.Synced || d.Reason != string(want) {
			t.Fatalf("before: %s = %+v, want skipped: %s", id, d, want)
		}
	}
	graphBefore, uploadsBefore := e.g.Stats().ByRoute, len(e.c.AllInteractions())

	s := sandbox.Settings()
	_, domain, _ := strings.Cut(news.From.EmailAddress.Address, "@")
	s.Blocklist, s.SkipPrivate = []string{"@" + domain}, false
	if err := e.store.SaveSettings(s, storage.AppSettings{StartAtLogin: true}); err != nil {
		t.Fatal(err)
	}
	n, err := e.engine().Redecide(testNow.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	after := rows()
	if d := after[priv.InternetMessageID]; !d.Waiting || d.Result() != ResultWaiting {
		t.Errorf("private, with the option off: %+v (%q), want waiting", d, d.Result())
	}
	if d := after[blocked.InternetMessageID]; !d.Waiting {
		t.Errorf("no longer blocked: %+v, want waiting", d)
	}
	if d := after[news.InternetMessageID]; d.Waiting || d.Reason != string(match.Blocked) {
		t.Errorf("newsletter, its domain blocked: %+v, want skipped: blocked address", d)
	}
	changed := 0
	for id, b := range before {
		a := after[id]
		if b.Synced && (!a.Synced || !slices.Equal(a.Clients, b.Clients)) {
			t.Errorf("copied %s changed: %+v", id, a)
		}
		if a.Waiting != b.Waiting || a.Reason != b.Reason {
			changed++
		}
	}
	if n != changed || n < 3 {
		t.Errorf("Redecide changed %d rows, Activity shows %d changed; want the same, at least 3", n, changed)
	}
	if !maps.Equal(e.g.Stats().ByRoute, graphBefore) || len(e.c.AllInteractions()) != uploadsBefore {
		t.Errorf("deciding again made requests: Graph %v → %v, interactions %d → %d",
			graphBefore, e.g.Stats().ByRoute, uploadsBefore, len(e.c.AllInteractions()))
	}
	if again, err := e.engine().Redecide(testNow.Add(2 * time.Minute)); err != nil || again != 0 {
		t.Errorf("deciding again with the same options changed %d rows, %v", again, err)
	}

	// The next sync copies the waiting ones, once.
	e.mustPass(testNow.Add(time.Hour))
	final := rows()
	for _, id := range []string{priv.InternetMessageID, blocked.InternetMessageID} {
		if d := final[id]; !d.Synced || d.Waiting {
			t.Errorf("after the next sync %s = %+v, want copied", id, d)
		}
	}
	for c, ids := range landed(e.c) {
		for i := 1; i < len(ids); i++ {
			if ids[i] == ids[i-1] {
				t.Errorf("%s copied twice to client %d", ids[i], c)
			}
		}
	}
}
