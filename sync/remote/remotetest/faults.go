// Package remotetest holds the failures that the fakes of Mail Sync's
// remotes (graphtest for Microsoft 365, crmtest for ClientSuccess) inject:
// throttling, outages, connection resets, truncated answers and slowness.
// Faults are drawn from a seeded generator, so a sequential client meets
// the same faults on every run, and an Injector remembers the Retry-After
// it announced, so a fake can count the clients that came back too early.
// What a fault looks like on the wire for one service (its error JSON, a
// $batch item, a write applied but never answered) stays in that fake.
// OtherHost stands for the host a redirect points to, in the clients' tests
// that no credential follows it, and ClosedAddr for a service not there.
package remotetest

import (
	"context"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"mailsync/sync/remote"
)

// FaultKind is one way a fake misbehaves. Kinds above Slow belong to one
// fake (crmtest.ResetAfterApply); String names those by number.
type FaultKind int

// Fault kinds. Values are explicit because tests name them in tables.
const (
	// Throttle429 answers 429 with Retry-After, without doing anything.
	Throttle429 FaultKind = 1
	// Unavailable503 answers 503, with Retry-After when Faults.RetryAfter
	// is set, without doing anything.
	Unavailable503 FaultKind = 2
	// ConnReset resets the connection before any answer.
	ConnReset FaultKind = 3
	// TruncatedBody does the request, then sends the full Content-Length
	// but only half of the body and closes the connection.
	TruncatedBody FaultKind = 4
	// Slow holds the answer for Faults.SlowDelay, then answers normally.
	Slow FaultKind = 5
	// ResetAfterApply does the request, then resets the connection without
	// answering: the client cannot know whether it succeeded. Only fakes
	// that store writes (ClientSuccess) honour it, and only when it is
	// named in Faults.Kinds.
	ResetAfterApply FaultKind = 6
)

// AllKinds are the kinds every fake can inject, drawn when Faults.Kinds is
// nil.
var AllKinds = []FaultKind{Throttle429, Unavailable503, ConnReset, TruncatedBody, Slow}

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
	case ResetAfterApply:
		return "reset after apply"
	}
	return "fault " + strconv.Itoa(int(k))
}

// DefaultSlowDelay is how long a Slow fault holds an answer when
// Faults.SlowDelay is 0.
const DefaultSlowDelay = 50 * time.Millisecond

// Faults makes a share of the requests fail. The zero value injects none.
type Faults struct {
	Rate       float64       // share of requests that get a fault, 0..1
	Kinds      []FaultKind   // drawn uniformly for each faulty request; nil: AllKinds
	RetryAfter time.Duration // announced by 429 and 503, sent rounded up to whole seconds
	Seed       int64         // seeds the draw, so a run can be repeated
	SlowDelay  time.Duration // how long a Slow fault holds an answer; 0: DefaultSlowDelay
	Max        int           // at most this many faults; 0: no limit
}

// Injector draws the faults of one fake and remembers, per client, until
// when a Retry-After told the client to wait. The zero value injects
// nothing. It is not safe for concurrent use: the fake calls it under its
// own lock.
type Injector struct {
	faults Faults
	rng    *rand.Rand
	given  int                  // faults drawn since Set, for Faults.Max
	until  map[string]time.Time // client → end of its Retry-After
}

// Set replaces the configuration and restarts the draw from f.Seed and the
// count against f.Max. Deadlines already announced stay.
func (in *Injector) Set(f Faults) {
	f.Kinds = slices.Clone(f.Kinds)
	if f.SlowDelay <= 0 {
		f.SlowDelay = DefaultSlowDelay
	}
	in.faults = f
	in.given = 0
	in.rng = rand.New(rand.NewPCG(uint64(f.Seed), 0x6d61696c73796e63))
}

// Faults returns the configuration in force, with SlowDelay filled in.
func (in *Injector) Faults() Faults { return in.faults }

// Draw returns the fault for the next request, or 0. With only, the draw is
// limited to those of the configured kinds (a Graph $batch item can carry a
// 429 or a 503, not a reset).
func (in *Injector) Draw(only ...FaultKind) FaultKind {
	f := in.faults
	if f.Rate <= 0 || in.rng == nil || (f.Max > 0 && in.given >= f.Max) {
		return 0
	}
	kinds := f.Kinds
	if kinds == nil {
		kinds = AllKinds
	}
	if only != nil {
		kinds = slices.DeleteFunc(slices.Clone(kinds), func(k FaultKind) bool { return !slices.Contains(only, k) })
	}
	if len(kinds) == 0 || in.rng.Float64() >= f.Rate {
		return 0
	}
	in.given++
	return kinds[in.rng.IntN(len(kinds))]
}

// AnnounceRetry sets Retry-After on h for a Throttle429 or Unavailable503
// fault and records that client may not come back before then. A 503 gets
// no Retry-After when Faults.RetryAfter is not set, as an outage often
// does not say; a 429 always gets one.
func (in *Injector) AnnounceRetry(h http.Header, k FaultKind, client string, now time.Time) {
	d := in.faults.RetryAfter
	if k != Throttle429 && d <= 0 {
		return
	}
	secs := int(math.Ceil(d.Seconds()))
	h.Set("Retry-After", strconv.Itoa(secs))
	until := now.Add(time.Duration(secs) * time.Second)
	if in.until == nil {
		in.until = map[string]time.Time{}
	}
	if until.After(in.until[client]) {
		in.until[client] = until
	}
}

// Early reports whether a request from client at now comes before the
// time a Retry-After told it to wait for.
func (in *Injector) Early(client string, now time.Time) bool {
	until, ok := in.until[client]
	return ok && now.Before(until)
}

// ForgetRetries drops the Retry-After deadlines announced so far.
func (in *Injector) ForgetRetries() { in.until = nil }

// Wait sleeps for d unless ctx ends first (the client went away); it
// reports whether it slept fully.
func Wait(ctx context.Context, d time.Duration) bool {
	return d <= 0 || remote.Sleep(ctx, d) == nil
}

// Reset takes the connection over and closes it with linger 0, so the
// kernel sends RST, as a middlebox dropping the flow does. Where the
// connection cannot be taken over (HTTP/2) it aborts the handler, which
// resets the stream.
func Reset(w http.ResponseWriter) {
	drop(w, true)
}

// WriteTruncated answers status with the headers already set on w and the
// full Content-Length of body, writes half of body and closes the
// connection, so the client's decoder meets an early EOF.
func WriteTruncated(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body[:len(body)/2])
	_ = http.NewResponseController(w).Flush()
	drop(w, false)
}

// drop takes the connection over and closes it. Without reset, what was
// written is delivered before the FIN.
func drop(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
