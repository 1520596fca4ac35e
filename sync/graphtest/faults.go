package graphtest

import (
	"net/http"
	"time"

	"mailsync/sync/remote/remotetest"
)

// FaultKind is a failure the fake Graph can inject into a response; the
// kinds are remotetest's.
type FaultKind = remotetest.FaultKind

// Fault kinds the fake Graph injects; see remotetest for what each does.
const (
	Throttle429    = remotetest.Throttle429
	Unavailable503 = remotetest.Unavailable503
	ConnReset      = remotetest.ConnReset
	TruncatedBody  = remotetest.TruncatedBody
	Slow           = remotetest.Slow
)

// Faults configures injected failures (see remotetest.Faults). Each
// request, and each request inside a $batch for the kinds that can be
// expressed there (429 and 503), fails with probability Rate. Retry-After
// deadlines are kept per bearer token: the client's identity.
type Faults = remotetest.Faults

// drawFault returns the fault for the next request, or 0, and counts it.
// inBatch limits the choice to the kinds a $batch item can carry. The
// caller holds g.mu.
func (g *Graph) drawFault(inBatch bool) FaultKind {
	var k FaultKind
	if inBatch {
		k = g.faults.Draw(Throttle429, Unavailable503)
	} else {
		k = g.faults.Draw()
	}
	if k != 0 {
		g.stats.Injected[k]++
	}
	return k
}

// faultReply builds the response of a 429 or 503 fault and records when
// client may come back. The caller holds g.mu.
func (g *Graph) faultReply(k FaultKind, client string, now time.Time) graphReply {
	var r graphReply
	if k == Throttle429 {
		r = graphFail(http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
	} else {
		r = graphFail(http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable. Please retry later.")
	}
	g.faults.AnnounceRetry(r.header, k, client, now)
	return r
}

func (g *Graph) slowDelay() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.faults.Faults().SlowDelay
}
