package graphtest

import (
	"context"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"
)

// FaultKind is a failure the fake Graph can inject into a response.
type FaultKind int

// Fault kinds. Values are explicit because tests name them in tables.
const (
	// Throttle429 answers 429 ApplicationThrottled with Retry-After (seconds).
	Throttle429 FaultKind = 1
	// Unavailable503 answers 503 ServiceUnavailable, with Retry-After when
	// Faults.RetryAfter is set.
	Unavailable503 FaultKind = 2
	// ConnReset hijacks the connection and resets it before any response.
	ConnReset FaultKind = 3
	// TruncatedBody writes half of the JSON body with the full
	// Content-Length, then closes the connection.
	TruncatedBody FaultKind = 4
	// Slow holds the response for Faults.SlowDelay before answering normally.
	Slow FaultKind = 5
)

var allFaultKinds = []FaultKind{Throttle429, Unavailable503, ConnReset, TruncatedBody, Slow}

func (k FaultKind) String() string {
	switch k {
	case Throttle429:
		return "throttle 429"
	case Unavailable503:
		return "unavailable 503"
	case ConnReset:
		return "connection reset"
	case TruncatedBody:
		return "truncated body"
	case Slow:
		return "slow"
	}
	return "fault " + strconv.Itoa(int(k))
}

// Faults configures injected failures. Each request (and each request inside
// a $batch, for the kinds that can be expressed there: 429 and 503) fails
// with probability Rate, with a kind drawn uniformly from Kinds. The draws
// come from a generator seeded with Seed, so a sequential client sees the
// same faults on every run.
type Faults struct {
	Rate       float64
	Kinds      []FaultKind   // nil: every kind
	RetryAfter time.Duration // sent as Retry-After, rounded up to whole seconds
	Seed       int64
	SlowDelay  time.Duration // how long a Slow fault holds a response; 0: 50ms
}

// drawFault returns the fault for the next request, or 0. inBatch limits the
// choice to the kinds a $batch item can carry. The caller holds g.mu.
func (g *Graph) drawFault(inBatch bool) FaultKind {
	f := g.faults
	if f.Rate <= 0 || g.rng == nil {
		return 0
	}
	kinds := f.Kinds
	if kinds == nil {
		kinds = allFaultKinds
	}
	if inBatch {
		var itemKinds []FaultKind
		for _, k := range kinds {
			if k == Throttle429 || k == Unavailable503 {
				itemKinds = append(itemKinds, k)
			}
		}
		kinds = itemKinds
	}
	if len(kinds) == 0 || g.rng.Float64() >= f.Rate {
		return 0
	}
	k := kinds[g.rng.IntN(len(kinds))]
	if g.stats.Injected == nil {
		g.stats.Injected = map[FaultKind]int{}
	}
	g.stats.Injected[k]++
	return k
}

// faultReply builds the response of a 429 or 503 fault and, for a 429 or a
// 503 with Retry-After, records when the client may come back. The caller
// holds g.mu.
func (g *Graph) faultReply(k FaultKind, client string, now time.Time) graphReply {
	secs := int(math.Ceil(g.faults.RetryAfter.Seconds()))
	var r graphReply
	switch k {
	case Throttle429:
		r = graphFail(http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
	default:
		r = graphFail(http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable. Please retry later.")
		if g.faults.RetryAfter <= 0 {
			return r
		}
	}
	r.header.Set("Retry-After", strconv.Itoa(secs))
	until := now.Add(time.Duration(secs) * time.Second)
	if until.After(g.nextAllowed[client]) {
		g.nextAllowed[client] = until
	}
	return r
}

func (g *Graph) slowDelay() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.faults.SlowDelay > 0 {
		return g.faults.SlowDelay
	}
	return 50 * time.Millisecond
}

// dropConn takes the connection over and closes it. With reset, linger 0
// makes the kernel send RST, as a middlebox dropping the flow does; without,
// what was written is delivered before the FIN.
func dropConn(w http.ResponseWriter, reset bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("graphtest: connection reset needs an HTTP/1 connection")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// writeTruncated announces the full Content-Length, writes half of payload
// and closes the connection, so the client's JSON decoder meets an early EOF.
func writeTruncated(w http.ResponseWriter, status int, payload []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	w.WriteHeader(status)
	_, _ = w.Write(payload[:len(payload)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	dropConn(w, false)
}

// wait sleeps for d unless ctx ends first; it reports whether it slept fully.
func graphWait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
