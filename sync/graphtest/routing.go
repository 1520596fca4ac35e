package graphtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"mailsync/sync/remote/remotetest"
)

// graphReply is one response: for an HTTP request or a $batch item.
type graphReply struct {
	status int
	header http.Header
	body   any
}

func graphOK(body any) graphReply {
	return graphReply{status: http.StatusOK, header: http.Header{}, body: body}
}

// graphFail is Graph's error JSON: {"error":{"code","message",...}}.
func graphFail(status int, code, message string) graphReply {
	return graphReply{status: status, header: http.Header{}, body: map[string]any{
		"error": map[string]any{
			"code":    code,
			"message": message,
			"innerError": map[string]any{
				"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
				"request-id":        "5f0c4a1e-8e0a-4b7e-9d7c-3a2b1c0d9e8f",
				"client-request-id": "5f0c4a1e-8e0a-4b7e-9d7c-3a2b1c0d9e8f",
			},
		},
	}}
}

func badRequest(code, message string) graphReply {
	return graphFail(http.StatusBadRequest, code, message)
}

// serve handles one HTTP request: accounting, latency, authentication,
// faults, then the route.
func (g *Graph) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.EscapedPath(), "/v1.0")
	route := routeName(r.Method, path)
	g.mu.Lock()
	g.stats.Requests++
	g.stats.ByRoute[route]++
	g.inFlight++
	if g.inFlight > g.stats.PeakInFlight {
		g.stats.PeakInFlight = g.inFlight
	}
	latency := g.latency
	gt := g.gate
	if gt != nil && g.inFlight >= gt.n {
		select {
		case <-gt.open:
		default:
			close(gt.open)
		}
	}
	g.mu.Unlock()

	// The request stops counting as in flight just before its response is
	// written: once a client has the response it may send the next request,
	// and that one must not meet this one still counted.
	var leaveOnce sync.Once
	slots := 0 // mailbox slots held
	leave := func() {
		leaveOnce.Do(func() {
			g.mu.Lock()
			g.inFlight--
			g.mbox.inUse -= slots
			g.mu.Unlock()
		})
	}
	defer leave()

	if gt != nil {
		select {
		case <-gt.open:
		case <-r.Context().Done():
			return
		}
	}

	// Reading the body first lets the server notice a client hanging up
	// (it watches the connection only once the body is consumed), so a
	// cancelled request does not sit out the latency.
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return
		}
		body = b
	}
	// Outlook's budget is taken for as long as the request is served.
	units := mailboxUnits(route, body)
	g.mu.Lock()
	slots = g.enterMailboxLocked(units)
	var throttled graphReply
	if units == 1 && (slots == 0 || g.takeThrottleLocked()) {
		throttled = g.throttledLocked(messageIDOf(route, path), time.Now())
	}
	fail424 := route == "POST /$batch" && g.mbox.fail424 > 0 && batchReadsMessages(body)
	if fail424 {
		g.mbox.fail424--
		g.stats.Batches424++
	}
	g.mu.Unlock()
	if throttled.status != 0 {
		leave()
		writeReply(w, throttled)
		return
	}
	if !remotetest.Wait(r.Context(), latency) {
		return
	}
	if fail424 {
		leave()
		writeReply(w, graphFail(http.StatusFailedDependency, "FailedDependency", "The request failed due to failure of a previous request."))
		return
	}
	if !ok {
		leave()
		writeReply(w, graphFail(http.StatusBadRequest, "BadRequest", "Invalid version."))
		return
	}

	token, hasToken := bearerToken(r)
	g.mu.Lock()
	authorize := g.authorize
	g.mu.Unlock()
	if !hasToken {
		leave()
		writeReply(w, graphFail(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty."))
		return
	}
	if authorize != nil && !authorize(token) {
		leave()
		writeReply(w, graphFail(http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."))
		return
	}

	now := time.Now()
	g.mu.Lock()
	if g.faults.Early(token, now) {
		g.stats.EarlyRetries++
	}
	fault := g.drawFault(false)
	var faulted graphReply
	if fault == Throttle429 || fault == Unavailable503 {
		faulted = g.faultReply(fault, token, now)
	}
	g.mu.Unlock()

	switch fault {
	case Throttle429, Unavailable503:
		leave()
		writeReply(w, faulted)
		return
	case ConnReset:
		leave()
		remotetest.Reset(w)
		return
	case Slow:
		if !remotetest.Wait(r.Context(), g.slowDelay()) {
			return
		}
	}

	base := "http://" + r.Host + "/v1.0"
	if r.TLS != nil {
		base = "https://" + r.Host + "/v1.0"
	}
	rep := g.route(base, token, r.Method, path, r.URL.Query(), r.Header, body, false, mailboxWave{units, slots})
	leave()
	if fault == TruncatedBody {
		payload, _ := json.Marshal(rep.body)
		for k, v := range rep.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
		remotetest.WriteTruncated(w, rep.status, payload)
		return
	}
	writeReply(w, rep)
}

func writeReply(w http.ResponseWriter, rep graphReply) {
	for k, v := range rep.header {
		w.Header()[k] = v
	}
	payload, err := json.Marshal(rep.body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(payload)
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// splitPath returns the path's segments, unescaped. Graph's segment names are
// case-insensitive; ids are not.
func splitPath(path string) []string {
	var segs []string
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		segs = append(segs, s)
	}
	return segs
}

func routeName(method, path string) string {
	p, ok := strings.CutPrefix(path, "/v1.0")
	if ok {
		path = p
	}
	segs := splitPath(path)
	eq := strings.EqualFold
	name := "other"
	switch {
	case len(segs) == 1 && segs[0] == "$batch":
		name = "/$batch"
	case len(segs) == 1 && eq(segs[0], "me"):
		name = "/me"
	case len(segs) == 2 && eq(segs[0], "me") && eq(segs[1], "messages"):
		name = "/me/messages"
	case len(segs) == 3 && eq(segs[0], "me") && eq(segs[1], "messages"):
		name = "/me/messages/{id}"
	case len(segs) == 3 && eq(segs[0], "me") && eq(segs[1], "mailFolders"):
		name = "/me/mailFolders/{id}"
	case len(segs) == 4 && eq(segs[0], "me") && eq(segs[1], "mailFolders") && eq(segs[3], "childFolders"):
		name = "/me/mailFolders/{id}/childFolders"
	}
	return method + " " + name
}

// route answers one request, top-level or inside a $batch.
func (g *Graph) route(base, token, method, path string, q url.Values, h http.Header, body []byte, inBatch bool, wave mailboxWave) graphReply {
	name := routeName(method, path)
	segs := splitPath(path)
	switch {
	case name == "POST /$batch" && !inBatch:
		return g.batch(base, token, body, wave)
	case name == "GET /me":
		return g.getMe(base, q)
	case name == "GET /me/messages":
		return g.listMessages(base, q)
	case name == "GET /me/messages/{id}":
		return g.getMessage(base, segs[2], q, h)
	case name == "GET /me/mailFolders/{id}":
		return g.getFolder(base, segs[2], q)
	case name == "GET /me/mailFolders/{id}/childFolders":
		return g.childFolders(base, segs[2], q)
	case strings.HasSuffix(name, " other"):
		last := segs[len(segs)-1]
		return badRequest("BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", last))
	}
	return graphFail(http.StatusMethodNotAllowed, "BadRequest", "Unsupported request method.")
}

// messageIDOf is the message a route reads, or "".
func messageIDOf(route, path string) string {
	if route != "GET /me/messages/{id}" {
		return ""
	}
	return splitPath(path)[2]
}
