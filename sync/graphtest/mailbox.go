package graphtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// MailboxConcurrency is how many requests Outlook serves at once for one app
// and mailbox. docs/evidence.md, "Mailbox concurrency" (Graph throttling-limits:
// "4 concurrent requests" per app and mailbox for Outlook): the excess is
// answered 429 ApplicationThrottled, "MailboxConcurrency".
const MailboxConcurrency = 4

// DefaultMailboxRetryAfter is the Retry-After a MailboxConcurrency 429
// carries unless SetMailboxRetryAfter says otherwise. It is fractional on
// purpose: the throttling docs' own example is "Retry-After: 2.128"
// (docs/evidence.md, "Retry-After may be fractional").
const DefaultMailboxRetryAfter = "0.256"

// mailboxState is the fake Outlook's view of one mailbox's budget. Guarded
// by Graph.mu.
type mailboxState struct {
	inUse      int                  // slots held by requests and $batch steps being served
	retryAfter string               // sent with every MailboxConcurrency 429
	throttle   int                  // next requests or steps throttled (another client of the app)
	poisoned   map[string]int       // message id → the status its reads always get
	fail424    int                  // next $batch requests answered 424 as a whole
	retryAt    map[string]time.Time // message id → when a 429 said it may come back
}

func newMailboxState() mailboxState {
	return mailboxState{retryAfter: DefaultMailboxRetryAfter, poisoned: map[string]int{}, retryAt: map[string]time.Time{}}
}

// SetMailboxRetryAfter sets the Retry-After value (seconds, possibly
// fractional, sent as given) of MailboxConcurrency 429s.
func (g *Graph) SetMailboxRetryAfter(v string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mbox.retryAfter = v
}

// ThrottleNext makes the next n mailbox requests or $batch steps answered
// 429 MailboxConcurrency, as when another copy of the same app (the
// person's second computer) holds the mailbox's budget. docs/evidence.md: the
// limit is per app and mailbox, not per process.
func (g *Graph) ThrottleNext(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mbox.throttle = n
}

// PoisonMessage makes every read of the body of the message with id answer
// status, alone or inside a $batch, for good (0 heals it; a move keeps
// it), while reads of its other properties still answer: 403 ErrorAccessDenied
// or 500 InternalServerError, as Microsoft's own batch example shows a
// step failing 403 and another 500 inside a 200 batch (docs/evidence.md, "A
// batch answer is 200 even when steps fail").
func (g *Graph) PoisonMessage(id string, status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if status == 0 {
		delete(g.mbox.poisoned, id)
		return
	}
	g.mbox.poisoned[id] = status
}

// FailBatches answers the next n $batch requests that read messages 424
// Failed Dependency as a whole (docs/evidence.md: the throttling page mentions a
// whole batch answered 424), without serving any step.
func (g *Graph) FailBatches(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.mbox.fail424 = n
}

// batchReadsMessages reports whether a $batch payload has a step that reads
// a message.
func batchReadsMessages(body []byte) bool {
	var req struct {
		Requests []batchRequestJSON `json:"requests"`
	}
	if json.Unmarshal(body, &req) != nil {
		return false
	}
	for _, it := range req.Requests {
		if batchItemMessageID(it) != "" {
			return true
		}
	}
	return false
}

// mailboxUnits is how many of the mailbox's slots a request uses: a $batch
// in flight uses min(4, its steps), because Graph runs a batch's steps
// against Outlook four at a time (docs/evidence.md); any other request under
// /me/ one. GET /me is a directory read, not a mailbox one.
func mailboxUnits(route string, body []byte) int {
	switch route {
	case "GET /me":
		return 0
	case "POST /$batch":
		var req struct {
			Requests []json.RawMessage `json:"requests"`
		}
		if json.Unmarshal(body, &req) != nil {
			return 0
		}
		return min(MailboxConcurrency, len(req.Requests))
	}
	return 1
}

// enterMailboxLocked takes units slots for a request arriving now and
// returns how many it got; the rest are throttled. Peak counts what was
// asked for, granted or not, so that a client asking too much shows. The
// caller holds g.mu.
func (g *Graph) enterMailboxLocked(units int) int {
	if units == 0 {
		return 0
	}
	if demand := g.mbox.inUse + units; demand > g.stats.PeakMailbox {
		g.stats.PeakMailbox = demand
	}
	free := max(0, MailboxConcurrency-g.mbox.inUse)
	granted := min(units, free)
	g.mbox.inUse += granted
	return granted
}

// throttledLocked is the 429 of a request or step over the budget, with
// its fractional Retry-After; id is the message it read, if any, so that a
// read of it before that time counts as an early retry. The caller holds
// g.mu.
func (g *Graph) throttledLocked(id string, now time.Time) graphReply {
	g.stats.MailboxThrottled++
	r := graphFail(http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
	r.header.Set("Retry-After", g.mbox.retryAfter)
	if id != "" {
		if secs, err := strconv.ParseFloat(g.mbox.retryAfter, 64); err == nil && secs > 0 {
			g.mbox.retryAt[id] = now.Add(time.Duration(secs * float64(time.Second)))
		}
	}
	return r
}

// takeThrottleLocked reports whether the next request or step is one
// ThrottleNext asked to throttle. The caller holds g.mu.
func (g *Graph) takeThrottleLocked() bool {
	if g.mbox.throttle > 0 {
		g.mbox.throttle--
		return true
	}
	return false
}

// noteReadLocked counts a read of message id that came before the time a
// 429 gave it. The caller holds g.mu.
func (g *Graph) noteReadLocked(id string, now time.Time) {
	if at, ok := g.mbox.retryAt[id]; ok {
		if now.Before(at) {
			g.stats.EarlyRetries++
		}
		delete(g.mbox.retryAt, id)
	}
}

// poisonedReply is the answer of a poisoned message, if id is one. The
// caller holds g.mu.
func (g *Graph) poisonedLocked(id string) (graphReply, bool) {
	switch g.mbox.poisoned[id] {
	case 0:
		return graphReply{}, false
	case http.StatusForbidden:
		return graphFail(http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again."), true
	default:
		return graphFail(g.mbox.poisoned[id], "InternalServerError", "An internal server error occurred. The operation failed."), true
	}
}
