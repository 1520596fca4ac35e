package engine

import (
	"testing"
	"time"

	"mailsync/sync/crmtest"
	"mailsync/sync/graphtest"
	"mailsync/sync/sandbox"
)

// TestPassUnderFaults: with a fifth of the requests to Microsoft 365 and to
// ClientSuccess failing (throttled with Retry-After, 503, reset, truncated),
// a few passes end in the same ClientSuccess state as a fault-free pass.
func TestPassUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out Retry-After")
	}
	clean := newEnv(t, sandbox.Demo(testNow))
	clean.mustPass(testNow)
	want := landed(clean.c)
	sameLanding(t, want, clean.world.Expected())

	e := newEnv(t, sandbox.Demo(testNow))
	e.g.SetFaults(graphtest.Faults{
		Rate: 0.2, Seed: 11, RetryAfter: time.Second,
		Kinds: []graphtest.FaultKind{graphtest.Throttle429, graphtest.Unavailable503, graphtest.ConnReset, graphtest.TruncatedBody},
	})
	e.c.SetFaults(crmtest.Faults{
		Rate: 0.2, Seed: 12, RetryAfter: time.Second,
		Kinds: []crmtest.FaultKind{crmtest.Throttle429, crmtest.Unavailable503, crmtest.ConnReset, crmtest.TruncatedBody},
	})
	passes := 0
	for {
		passes++
		_, err := e.pass(testNow.Add(time.Duration(passes-1) * time.Minute))
		if err == nil {
			break
		}
		t.Logf("pass %d: %v (%s)", passes, err, Describe(err))
		if passes == 10 {
			t.Fatal("no pass succeeded in 10")
		}
		e.reopen()
	}
	t.Logf("%d passes; graph faults %v", passes, e.g.Stats().Injected)
	sameLanding(t, landed(e.c), want)
	// Both clients hold all their requests while a Retry-After runs, so
	// neither fake sees a request come back early, even though concurrent
	// uploads to one client share their URL.
	if early := e.g.Stats().EarlyRetries; early != 0 {
		t.Errorf("%d Graph requests came back before Retry-After", early)
	}
	if early := e.c.Stats().EarlyRetries; early != 0 {
		t.Errorf("%d ClientSuccess requests came back before Retry-After", early)
	}
}

// TestPassMaintenance: ClientSuccess down for a whole pass loses nothing.
func TestPassMaintenance(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.c.SetMaintenance(true)
	_, err := e.pass(testNow)
	if err == nil {
		t.Fatal("pass succeeded during maintenance")
	}
	const words = "ClientSuccess is down for maintenance"
	if o := OutcomeOf(err); o.Words != words || o.Stopped || o.Reconnect {
		t.Errorf("outcome = %+v, want the words %q", o, words)
	}
	if m, _ := e.store.Meta(); !m.LastSuccessStart.IsZero() {
		t.Errorf("meta = %+v", m)
	}
	e.c.SetMaintenance(false)
	s := e.mustPass(testNow.Add(time.Hour))
	sameLanding(t, landed(e.c), w.Expected())
	if s.Counts.Uploads != countUploads(w.Expected()) {
		t.Errorf("uploads after maintenance = %d, want all %d", s.Counts.Uploads, countUploads(w.Expected()))
	}
}
