package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxBatchRequests is Graph's JSON batching limit.
const maxBatchRequests = 20

type batchRequestJSON struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

type batchResponseJSON struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body,omitempty"`
}

// batch answers POST /$batch: every item through the same routes, with its
// own faults, answered in an order of the fake's choosing (Graph does not
// keep the request order either).
func (g *Graph) batch(base, token string, body []byte, wave mailboxWave) graphReply {
	var req struct {
		Requests []batchRequestJSON `json:"requests"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return badRequest("BadRequest", "Invalid batch payload format.")
	}
	if len(req.Requests) == 0 {
		return badRequest("BadRequest", "Invalid batch payload format.")
	}
	if len(req.Requests) > maxBatchRequests {
		return badRequest("BadRequest", fmt.Sprintf("Limit of %d requests per batch exceeded.", maxBatchRequests))
	}
	seen := map[string]bool{}
	for _, it := range req.Requests {
		if it.ID == "" || it.Method == "" || it.URL == "" {
			return badRequest("BadRequest", "Invalid batch payload format: each request needs id, method and url.")
		}
		if seen[it.ID] {
			return badRequest("BadRequest", "Batch request ids must be unique.")
		}
		seen[it.ID] = true
	}
	responses := make([]batchResponseJSON, 0, len(req.Requests))
	for i, it := range req.Requests {
		now := time.Now()
		g.mu.Lock()
		g.stats.BatchItems++
		// Graph runs the steps wave.units at a time; in each wave the
		// steps beyond the slots Outlook granted are throttled, each with
		// its own 429 and Retry-After in its headers (docs/evidence.md).
		overBudget := wave.units > 0 && i%wave.units >= wave.granted || g.takeThrottleLocked()
		fault := FaultKind(0)
		if !overBudget {
			fault = g.drawFault(true)
		}
		var rep graphReply
		switch {
		case overBudget:
			rep = g.throttledLocked(batchItemMessageID(it), now)
		case fault != 0:
			rep = g.faultReply(fault, token, now)
		}
		g.mu.Unlock()
		if !overBudget && fault == 0 {
			rep = g.batchItem(base, token, it)
		}
		hdr := map[string]string{"Content-Type": "application/json"}
		for k := range rep.header {
			hdr[k] = rep.header.Get(k)
		}
		responses = append(responses, batchResponseJSON{ID: it.ID, Status: rep.status, Headers: hdr, Body: rep.body})
	}
	slices.Reverse(responses)
	return graphOK(map[string]any{"responses": responses})
}

func (g *Graph) batchItem(base, token string, it batchRequestJSON) graphReply {
	u, err := url.Parse(it.URL)
	if err != nil || u.IsAbs() {
		return badRequest("BadRequest", "Invalid request URI in batch item.")
	}
	h := http.Header{}
	for k, v := range it.Headers {
		h.Set(k, v)
	}
	path := "/" + strings.TrimPrefix(u.EscapedPath(), "/")
	return g.route(base, token, strings.ToUpper(it.Method), path, u.Query(), h, it.Body, true, mailboxWave{})
}

// mailboxWave is how a $batch's steps meet Outlook: units at a time, of
// which granted found a free slot.
type mailboxWave struct{ units, granted int }

// batchItemMessageID is the message a $batch step reads, or "".
func batchItemMessageID(it batchRequestJSON) string {
	u, err := url.Parse(it.URL)
	if err != nil {
		return ""
	}
	path := "/" + strings.TrimPrefix(u.EscapedPath(), "/")
	return messageIDOf(routeName(strings.ToUpper(it.Method), path), path)
}
