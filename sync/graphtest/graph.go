// Package graphtest provides faithful fakes of Microsoft 365 for tests and for
// `mailsync demo`. Graph is an httptest server that answers the Microsoft
// Graph v1.0 calls Mail Sync makes (/me, /me/messages, /me/mailFolders,
// $batch) the way Graph does: OData parameters are validated and a query it
// does not understand is a 400 with Graph's error JSON, lists are paged with
// @odata.nextLink, $select is honoured, extended property ids come back
// normalised. Outlook's mailbox concurrency budget is modelled (see
// MailboxConcurrency): requests and $batch steps beyond it are throttled as
// Outlook throttles them. Knobs inject faults (throttling, 503, resets,
// truncated bodies, slowness, poisoned messages, failed batches) and
// counters report what clients did, the peak mailbox concurrency included.
// Where public evidence is silent or conflicting the fake takes the side
// that hurts a client most, by default: the class and sensitivity asked in
// one $expand come back with neither (SetCombinedExpand), and a move keeps
// lastModifiedDateTime (SetMoveStampsModified).
package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"mailsync/sync/graph"
	"mailsync/sync/remote/remotetest"
)

// Folder is a mail folder of the fake mailbox. WellKnownName is one of
// Graph's well-known folder names ("inbox", "syncissues", ...) or "".
type Folder struct{ ID, ParentID, DisplayName, WellKnownName string }

// Stats counts what clients asked of the fake.
type Stats struct {
	Requests     int            // HTTP requests received, $batch counted once
	ByRoute      map[string]int // e.g. "GET /me/messages", "POST /$batch"
	PeakInFlight int            // most HTTP requests being served at once
	BatchItems   int            // requests carried inside $batch requests
	// EarlyRetries counts requests that arrived before the time a 429 or
	// 503 told their client to wait for.
	EarlyRetries int
	Injected     map[FaultKind]int // faults injected, by kind
	// PeakMailbox is the most mailbox slots asked for at once, granted or
	// throttled: a request counts one, a $batch min(4, its steps). Above
	// MailboxConcurrency means the client asked more than Outlook allows.
	PeakMailbox int
	// MailboxThrottled counts the 429 MailboxConcurrency answers, batch
	// steps included.
	MailboxThrottled int
	// MessageReads counts, by message id, the reads of one message that
	// were answered 200, alone or inside a $batch.
	MessageReads map[string]int
	// Batches424 counts the $batch requests FailBatches answered 424.
	Batches424 int
}

// Graph is a fake Microsoft Graph v1.0 mail API. It is safe for concurrent
// use; the setters may be called while clients are running.
type Graph struct {
	// URL is the base URL clients use, including "/v1.0".
	URL string

	srv *httptest.Server

	mu          sync.Mutex
	me          graph.Me
	folders     map[string]*Folder
	folderOrder []string
	messages    map[string]*storedMessage
	authorize   func(string) bool
	latency     time.Duration
	faults      remotetest.Injector // Retry-After kept by bearer token: the client's identity
	stats       Stats
	inFlight    int
	seq         int
	mbox        mailboxState
	// now stamps lastModifiedDateTime on a read flag, and on a move or a
	// copy when moveStamps (SetClock); nil is time.Now.
	now func() time.Time
	// combined is how a two-property $expand is answered
	// (SetCombinedExpand).
	combined CombinedExpand
	// moveStamps: a move or a copy sets lastModifiedDateTime
	// (SetMoveStampsModified).
	moveStamps bool
}

// CombinedExpand is how the fake answers a $expand of several extended
// properties joined by "or" (the class and the sensitivity in one list).
type CombinedExpand int

const (
	// CombinedExpandEmpty answers 200 with no properties at all, as one
	// live-tested note saw. The default: public reports conflict
	// (docs/evidence.md, "Microsoft Graph and Entra"), so the fake
	// takes the side that would let a client mistake a private message or
	// a meeting request for ordinary mail.
	CombinedExpandEmpty CombinedExpand = iota
	// CombinedExpandAnswered gives each message the properties it has,
	// as the other reports show.
	CombinedExpandAnswered
)

// SetCombinedExpand sets how a $expand of several extended properties is
// answered; one property alone is always answered.
func (g *Graph) SetCombinedExpand(c CombinedExpand) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.combined = c
}

// SetMoveStampsModified sets whether MoveMessage and CopyMessage set the
// new item's lastModifiedDateTime to the fake's now. Off by default:
// whether a move changes it is not documented (docs/evidence.md, "Microsoft
// Graph and Entra"), and
// keeping the old time is the side that hides a moved message from a
// client that counts on it.
func (g *Graph) SetMoveStampsModified(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.moveStamps = on
}

// TeamsChatClass is the message class of the Microsoft Teams chat items
// /me/messages lists next to mail (a documented known issue; docs/evidence.md, "Microsoft Graph and Entra"):
// only the class tells them apart. Add one with AddMessage and this class.
const TeamsChatClass = "IPM.SkypeTeams.Message"

type storedMessage struct {
	msg  graph.Message
	body string
	// modified is lastModifiedDateTime: at delivery the received time,
	// then the time of the last change (a move, a copy, a read flag).
	modified time.Time
	unread   bool
}

// NewGraph starts a fake Graph with an empty mailbox and a default user.
func NewGraph() *Graph {
	g := newGraph()
	g.srv = httptest.NewServer(g.Handler())
	g.URL = g.srv.URL + "/v1.0"
	return g
}

func newGraph() *Graph {
	return &Graph{
		me: graph.Me{
			ID:                "7d3f8a2e-5b1c-4c2a-9e0f-1a2b3c4d5e6f",
			DisplayName:       "Avery Quinn",
			Mail:              "avery@contoso.example",
			UserPrincipalName: "avery@contoso.example",
			ProxyAddresses:    []string{"SMTP:avery@contoso.example"},
		},
		folders:  map[string]*Folder{},
		messages: map[string]*storedMessage{},
		stats:    newStats(),
		mbox:     newMailboxState(),
	}
}

func newStats() Stats {
	return Stats{ByRoute: map[string]int{}, Injected: map[FaultKind]int{}, MessageReads: map[string]int{}}
}

// Handler returns the fake as an http.Handler serving paths under /v1.0/,
// for serving on another listener (the demo).
func (g *Graph) Handler() http.Handler { return http.HandlerFunc(g.serve) }

// Close stops the server started by NewGraph.
func (g *Graph) Close() {
	if g.srv != nil {
		g.srv.Close()
	}
}

// SetMe sets the signed-in user that /me answers.
func (g *Graph) SetMe(me graph.Me) {
	g.mu.Lock()
	defer g.mu.Unlock()
	me.ProxyAddresses = slices.Clone(me.ProxyAddresses)
	g.me = me
}

// AddFolder adds a folder. An empty ID is generated; ParentID "" makes it a
// top-level folder.
func (g *Graph) AddFolder(f Folder) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f.ID == "" {
		f.ID = g.newIDLocked("AQMk")
	}
	if _, ok := g.folders[f.ID]; !ok {
		g.folderOrder = append(g.folderOrder, f.ID)
	}
	g.folders[f.ID] = &f
}

// AddMessage stores a message with a text body. m.ParentFolderID must name a
// folder added before (it panics otherwise: a broken test fixture); an empty
// m.ID is generated. Extended property ids are stored normalised, as Graph
// returns them.
func (g *Graph) AddMessage(m graph.Message, body string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.folders[m.ParentFolderID]; !ok {
		panic(fmt.Sprintf("graphtest: AddMessage: no folder %q", m.ParentFolderID))
	}
	if m.ID == "" {
		m.ID = g.newIDLocked("AAMk")
	}
	m = cloneMessage(m)
	for i, p := range m.SingleValueExtendedProperties {
		if n, ok := normalizePropertyID(p.ID); ok {
			m.SingleValueExtendedProperties[i].ID = n
		}
	}
	g.messages[m.ID] = &storedMessage{msg: m, body: body, modified: m.ReceivedDateTime}
}

// SetClock sets what "now" is for the changes the fake stamps with a
// lastModifiedDateTime (MoveMessage, CopyMessage, SetRead); nil is
// time.Now. Tests that drive the engine with a clock of their own give it
// here too.
func (g *Graph) SetClock(now func() time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now = now
}

func (g *Graph) nowLocked() time.Time {
	if g.now == nil {
		return time.Now()
	}
	return g.now()
}

// SetRead marks a message read or unread, as a person does in Outlook:
// isRead changes and so does lastModifiedDateTime ("the date and time the
// message was last changed", message resource); the id and everything
// else stay. It reports whether there was such a message.
func (g *Graph) SetRead(id string, read bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	sm, ok := g.messages[id]
	if ok {
		sm.unread = !read
		sm.modified = g.nowLocked()
	}
	return ok
}

// MoveMessage moves a message to another folder. Like Graph, the moved item
// gets a new id: Graph's move "creates a new copy of the message in the
// destination folder and removes the original" (message-move.md); its
// internetMessageId and receivedDateTime stay. Its lastModifiedDateTime
// stays too unless SetMoveStampsModified turned stamping on: the docs do
// not say (their example fits either reading). It returns the new id, or
// "" when there is no message id.
func (g *Graph) MoveMessage(id, folderID string) (newID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	newID = g.placeLocked("MoveMessage", id, folderID)
	if newID != "" {
		delete(g.messages, id)
	}
	return newID
}

// CopyMessage copies a message into a folder and returns the copy's id.
// The copy keeps the internetMessageId. It returns "" when there is no
// message id.
func (g *Graph) CopyMessage(id, folderID string) (newID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.placeLocked("CopyMessage", id, folderID)
}

// placeLocked stores a copy of message id in folderID under a new id, as
// Graph does for both a move and a copy, and returns the new id; "" when
// there is no message id. An unknown folder panics: a broken test fixture.
func (g *Graph) placeLocked(op, id, folderID string) string {
	sm, ok := g.messages[id]
	if !ok {
		return ""
	}
	if _, ok := g.folders[folderID]; !ok {
		panic(fmt.Sprintf("graphtest: %s: no folder %q", op, folderID))
	}
	m := cloneMessage(sm.msg)
	m.ID = g.newIDLocked("AAMk")
	m.ParentFolderID = folderID
	modified := sm.modified
	if g.moveStamps {
		modified = g.nowLocked()
	}
	g.messages[m.ID] = &storedMessage{msg: m, body: sm.body, modified: modified, unread: sm.unread}
	if p, ok := g.mbox.poisoned[id]; ok {
		g.mbox.poisoned[m.ID] = p
	}
	return m.ID
}

// DeleteMessage removes a message for good (a hard delete: later requests
// for it answer 404 ErrorItemNotFound).
func (g *Graph) DeleteMessage(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.messages, id)
}

// SetAuthorizer decides which bearer tokens are accepted. With nil, any
// non-empty bearer token is. A refused token gets 401
// InvalidAuthenticationToken.
func (g *Graph) SetAuthorizer(f func(bearerToken string) bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.authorize = f
}

// SetLatency adds d to every request (counted as in flight meanwhile).
func (g *Graph) SetLatency(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.latency = d
}

// SetFaults replaces the fault configuration and reseeds its generator.
func (g *Graph) SetFaults(f Faults) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults.Set(f)
}

// Stats returns a copy of the counters.
func (g *Graph) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.stats
	s.ByRoute = maps.Clone(g.stats.ByRoute)
	s.Injected = maps.Clone(g.stats.Injected)
	s.MessageReads = maps.Clone(g.stats.MessageReads)
	return s
}

// ResetStats zeroes the counters and forgets pending Retry-After deadlines.
func (g *Graph) ResetStats() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stats = newStats()
	g.stats.PeakInFlight = g.inFlight
	g.stats.PeakMailbox = g.mbox.inUse
	g.faults.ForgetRetries()
	clear(g.mbox.retryAt)
}

// newIDLocked returns an opaque id shaped like Graph's URL-safe base64 ids.
func (g *Graph) newIDLocked(prefix string) string {
	g.seq++
	return fmt.Sprintf("%sADAwATM0MDAAMS1h%08x-%04x_AAA=", prefix, g.seq, g.seq%0xffff)
}

func cloneMessage(m graph.Message) graph.Message {
	m.ToRecipients = slices.Clone(m.ToRecipients)
	m.CcRecipients = slices.Clone(m.CcRecipients)
	m.BccRecipients = slices.Clone(m.BccRecipients)
	m.Categories = slices.Clone(m.Categories)
	m.SingleValueExtendedProperties = slices.Clone(m.SingleValueExtendedProperties)
	if m.From != nil {
		f := *m.From
		m.From = &f
	}
	if m.Sender != nil {
		s := *m.Sender
		m.Sender = &s
	}
	return m
}

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

// checkQuery rejects query options the route does not take, as Graph does.
func checkQuery(q url.Values, allowed ...string) (graphReply, bool) {
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			return badRequest("BadRequest", fmt.Sprintf("Query option '%s' is not allowed.", k)), false
		}
		if len(v) > 1 {
			return badRequest("BadRequest", fmt.Sprintf("Query option '%s' was specified more than once, but it must be specified at most once.", k)), false
		}
	}
	return graphReply{}, true
}

// selectFields keeps the fields named by $select (plus id, which Graph always
// returns), or the defaults without $select. An unknown field is a 400.
func selectFields(all map[string]any, sel string, defaults []string, typeName string) (map[string]any, graphReply, bool) {
	out := map[string]any{}
	if tag, ok := all["@odata.etag"]; ok {
		out["@odata.etag"] = tag
	}
	names := defaults
	if sel != "" {
		names = []string{"id"}
		for _, f := range strings.Split(sel, ",") {
			f = strings.TrimSpace(f)
			canon := ""
			for k := range all {
				if strings.EqualFold(k, f) && !strings.HasPrefix(k, "@") {
					canon = k
				}
			}
			if canon == "" {
				return nil, badRequest("RequestBroker--ParseUri", fmt.Sprintf("Could not find a property named '%s' on type '%s'.", f, typeName)), false
			}
			names = append(names, canon)
		}
	}
	for _, n := range names {
		out[n] = all[n]
	}
	return out, graphReply{}, true
}

// parsePage reads $top (10 by default, at most 1000) and $skip (0 by
// default); a bad value is Graph's 400.
func parsePage(q url.Values) (top, skip int, rep graphReply, ok bool) {
	const defTop, maxTop = 10, 1000
	top, skip = defTop, 0
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTop {
			return 0, 0, badRequest("ErrorInvalidParameter", fmt.Sprintf("The value '%s' of parameter 'Top' should be between 1 and %d.", v, maxTop)), false
		}
		top = n
	}
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, badRequest("BadRequest", fmt.Sprintf("Invalid value '%s' for $skip query option found.", v)), false
		}
		skip = n
	}
	return top, skip, graphReply{}, true
}

// nextLink is the URL of the page after skip+top, keeping every other option.
func nextLink(base, path string, q url.Values, next int) string {
	nq := url.Values{}
	for k, v := range q {
		nq[k] = slices.Clone(v)
	}
	nq.Set("$skip", strconv.Itoa(next))
	return base + path + "?" + nq.Encode()
}

func (g *Graph) getMe(base string, q url.Values) graphReply {
	if rep, ok := checkQuery(q, "$select"); !ok {
		return rep
	}
	g.mu.Lock()
	me := g.me
	g.mu.Unlock()
	proxies := me.ProxyAddresses
	if proxies == nil {
		proxies = []string{}
	}
	all := map[string]any{
		"id": me.ID, "displayName": me.DisplayName, "mail": nullIfEmpty(me.Mail),
		"userPrincipalName": me.UserPrincipalName, "proxyAddresses": proxies,
		"givenName": nil, "surname": nil, "jobTitle": nil, "mobilePhone": nil,
		"officeLocation": nil, "preferredLanguage": nil, "businessPhones": []string{},
	}
	defaults := []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
	out, rep, ok := selectFields(all, q.Get("$select"), defaults, "Microsoft.DirectoryServices.User")
	if !ok {
		rep.body.(map[string]any)["error"].(map[string]any)["code"] = "Request_BadRequest"
		return rep
	}
	out["@odata.context"] = base + "/$metadata#users/$entity"
	return graphOK(out)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

var messageDefaults = []string{
	"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories",
	"receivedDateTime", "sentDateTime", "hasAttachments", "internetMessageId",
	"subject", "bodyPreview", "importance", "parentFolderId", "conversationId",
	"conversationIndex", "isDeliveryReceiptRequested", "isReadReceiptRequested",
	"isRead", "isDraft", "webLink", "inferenceClassification", "body", "sender",
	"from", "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "flag",
}

// messageJSON renders every field of a message as Graph does (nulls and
// empty arrays included); textBody chooses the body's content type.
func messageJSON(sm *storedMessage, textBody bool) map[string]any {
	m := sm.msg
	recips := func(rs []graph.Recipient) []graph.Recipient {
		if rs == nil {
			return []graph.Recipient{}
		}
		return rs
	}
	one := func(r *graph.Recipient) any {
		if r == nil {
			return nil
		}
		return r
	}
	cats := m.Categories
	if cats == nil {
		cats = []string{}
	}
	stamp := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339)
	}
	body := graph.Body{ContentType: "text", Content: sm.body}
	if !textBody {
		body = graph.Body{ContentType: "html", Content: textToHTML(sm.body)}
	}
	preview := sm.body
	if r := []rune(preview); len(r) > 255 {
		preview = string(r[:255])
	}
	return map[string]any{
		"@odata.etag":                `W/"CQAAABYAAAC` + m.ID[len(m.ID)/2:] + `"`,
		"id":                         m.ID,
		"createdDateTime":            stamp(m.ReceivedDateTime),
		"lastModifiedDateTime":       stamp(sm.modified),
		"changeKey":                  "CQAAABYAAAC",
		"categories":                 cats,
		"receivedDateTime":           stamp(m.ReceivedDateTime),
		"sentDateTime":               stamp(m.SentDateTime),
		"hasAttachments":             false,
		"internetMessageId":          nullIfEmpty(m.InternetMessageID),
		"subject":                    m.Subject,
		"bodyPreview":                preview,
		"importance":                 "normal",
		"parentFolderId":             m.ParentFolderID,
		"conversationId":             nullIfEmpty(m.ConversationID),
		"conversationIndex":          "AQHZ",
		"isDeliveryReceiptRequested": false,
		"isReadReceiptRequested":     false,
		"isRead":                     !sm.unread,
		"isDraft":                    m.IsDraft,
		"webLink":                    "https://outlook.office365.com/owa/?ItemID=" + url.QueryEscape(m.ID),
		"inferenceClassification":    "focused",
		"body":                       body,
		"uniqueBody":                 body,
		"sender":                     one(m.Sender),
		"from":                       one(m.From),
		"toRecipients":               recips(m.ToRecipients),
		"ccRecipients":               recips(m.CcRecipients),
		"bccRecipients":              recips(m.BccRecipients),
		"replyTo":                    []graph.Recipient{},
		"flag":                       map[string]any{"flagStatus": "notFlagged"},
	}
}

// textToHTML wraps a text body the way Exchange renders plain text as HTML.
func textToHTML(s string) string {
	esc := strings.ReplaceAll(html.EscapeString(s), "\n", "<br>\r\n")
	return "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body><div>" + esc + "</div></body></html>"
}

// expandExtendedRE matches $expand=singleValueExtendedProperties($filter=...)
// with one or more "id eq '...'" joined by "or", as Graph's
// extended-properties docs show them.
var (
	expandExtendedRE = regexp.MustCompile(`^(?i:singleValueExtendedProperties)\(\$filter=(.+)\)$`)
	expandIDRE       = regexp.MustCompile(`^\s*(?i:id) eq '([^']+)'\s*$`)
	expandOrRE       = regexp.MustCompile(`\s+(?i:or)\s+`)
)

// normalizePropertyID turns "String 0x001A" into Graph's answer form
// "String 0x1a". Ids of other shapes (named properties) are left alone.
func normalizePropertyID(id string) (string, bool) {
	typ, tag, ok := strings.Cut(strings.TrimSpace(id), " ")
	if !ok {
		return "", false
	}
	tag = strings.TrimSpace(tag)
	hex, ok := strings.CutPrefix(strings.ToLower(tag), "0x")
	if !ok {
		return "", false
	}
	n, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return "", false
	}
	canon := strings.ToUpper(typ[:1]) + strings.ToLower(typ[1:])
	return fmt.Sprintf("%s 0x%x", canon, n), true
}

// parseExpand returns the normalised extended property id asked for by
// $expand, "" when there is none.
func parseExpand(q url.Values) ([]string, graphReply, bool) {
	v := q.Get("$expand")
	if v == "" {
		return nil, graphReply{}, true
	}
	m := expandExtendedRE.FindStringSubmatch(v)
	if m == nil {
		return nil, badRequest("BadRequest", fmt.Sprintf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.message'.", v)), false
	}
	var ids []string
	for _, term := range expandOrRE.Split(m[1], -1) {
		tm := expandIDRE.FindStringSubmatch(term)
		if tm == nil {
			return nil, badRequest("BadRequest", fmt.Sprintf("Invalid filter clause: '%s'.", term)), false
		}
		id, ok := normalizePropertyID(tm[1])
		if !ok {
			return nil, badRequest("ErrorInvalidProperty", fmt.Sprintf("The property id '%s' is invalid.", tm[1])), false
		}
		ids = append(ids, id)
	}
	return ids, graphReply{}, true
}

// expandPropertiesLocked adds the extended properties asked for to out;
// several asked at once get none with CombinedExpandEmpty. The caller holds
// g.mu.
func (g *Graph) expandPropertiesLocked(out map[string]any, m *graph.Message, propIDs []string) {
	if len(propIDs) == 0 || len(propIDs) > 1 && g.combined == CombinedExpandEmpty {
		return
	}
	var props []graph.ExtendedProperty
	for _, p := range m.SingleValueExtendedProperties {
		if slices.Contains(propIDs, p.ID) {
			props = append(props, p)
		}
	}
	if len(props) > 0 {
		out["singleValueExtendedProperties"] = props
	}
}

// The $filter the fake understands on /me/messages: one or more
// "<property> ge <UTC date-time>" joined by "and", the property being
// receivedDateTime or lastModifiedDateTime (both DateTimeOffset properties
// of the message resource, resources/message.md), and
// "receivedDateTime lt <UTC date-time>" to end a range, as Graph's own
// example of a month's mail does (docs/evidence.md, "GET /me/messages").
// OData keywords are lower case. Anything else is refused, as Graph refuses
// a query it cannot run: 400 with an error code (user-list-messages.md
// shows the code InefficientFilter; ErrorInvalidUrlQueryFilter is
// Outlook's code for an unsupported filter).
var (
	filterAndRE    = regexp.MustCompile(`\s+and\s+`)
	filterClauseRE = regexp.MustCompile(`^\s*(receivedDateTime|lastModifiedDateTime) (ge|lt) (\S+)\s*$`)
)

// messageFilter is a parsed $filter: a message is listed when it was
// received at or after received (and before before, when set) and last
// modified at or after modified.
type messageFilter struct {
	received, modified time.Time
	before             time.Time
}

func (f messageFilter) match(sm *storedMessage) bool {
	if !f.before.IsZero() && !sm.msg.ReceivedDateTime.Before(f.before) {
		return false
	}
	return !sm.msg.ReceivedDateTime.Before(f.received) && !sm.modified.Before(f.modified)
}

func parseMessageFilter(v string) (messageFilter, graphReply, bool) {
	var f messageFilter
	if v == "" {
		return f, graphReply{}, true
	}
	for _, clause := range filterAndRE.Split(v, -1) {
		m := filterClauseRE.FindStringSubmatch(clause)
		if m == nil {
			return f, badRequest("ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."), false
		}
		t, err := time.Parse(time.RFC3339Nano, m[3])
		if err != nil {
			return f, badRequest("BadRequest", fmt.Sprintf("Invalid filter clause: The DateTimeOffset text '%s' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range.", m[3])), false
		}
		if m[2] == "lt" {
			if m[1] != "receivedDateTime" {
				// Only the range Graph documents is understood.
				return f, badRequest("ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."), false
			}
			if f.before.IsZero() || t.Before(f.before) {
				f.before = t
			}
			continue
		}
		bound := &f.received
		if m[1] == "lastModifiedDateTime" {
			bound = &f.modified
		}
		if t.After(*bound) {
			*bound = t
		}
	}
	return f, graphReply{}, true
}

func (g *Graph) listMessages(base string, q url.Values) graphReply {
	if rep, ok := checkQuery(q, "$filter", "$select", "$expand", "$top", "$skip"); !ok {
		return rep
	}
	top, skip, rep, ok := parsePage(q)
	if !ok {
		return rep
	}
	propID, rep, ok := parseExpand(q)
	if !ok {
		return rep
	}
	filter, rep, ok := parseMessageFilter(q.Get("$filter"))
	if !ok {
		return rep
	}

	g.mu.Lock()
	var hits []*storedMessage
	for _, sm := range g.messages {
		if filter.match(sm) {
			hits = append(hits, sm)
		}
	}
	slices.SortFunc(hits, func(a, b *storedMessage) int {
		if c := b.msg.ReceivedDateTime.Compare(a.msg.ReceivedDateTime); c != 0 {
			return c
		}
		return strings.Compare(a.msg.ID, b.msg.ID)
	})
	total := len(hits)
	skip = min(skip, total)
	end := min(skip+top, total)
	value := make([]map[string]any, 0, end-skip)
	for _, sm := range hits[skip:end] {
		out, rep, ok := selectFields(messageJSON(sm, false), q.Get("$select"), messageDefaults, "microsoft.graph.message")
		if !ok {
			g.mu.Unlock()
			return rep
		}
		g.expandPropertiesLocked(out, &sm.msg, propID)
		value = append(value, out)
	}
	g.mu.Unlock()

	resp := map[string]any{
		"@odata.context": base + "/$metadata#users('" + g.meID() + "')/messages",
		"value":          value,
	}
	if end < total {
		resp["@odata.nextLink"] = nextLink(base, "/me/messages", q, end)
	}
	return graphOK(resp)
}

// readsBody reports whether a read with this $select returns the body:
// Graph's default projection does.
func readsBody(sel string) bool {
	if strings.TrimSpace(sel) == "" {
		return true
	}
	for _, f := range strings.Split(sel, ",") {
		if strings.EqualFold(strings.TrimSpace(f), "body") {
			return true
		}
	}
	return false
}

func (g *Graph) meID() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.me.ID
}

// prefersText reports whether the Prefer header asks for text bodies.
func prefersText(h http.Header) bool {
	for _, v := range h.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "outlook.body-content-type") &&
				strings.EqualFold(strings.Trim(strings.TrimSpace(val), `"`), "text") {
				return true
			}
		}
	}
	return false
}

func (g *Graph) getMessage(base, id string, q url.Values, h http.Header) graphReply {
	if rep, ok := checkQuery(q, "$select", "$expand"); !ok {
		return rep
	}
	propID, rep, ok := parseExpand(q)
	if !ok {
		return rep
	}
	g.mu.Lock()
	g.noteReadLocked(id, time.Now())
	if rep, poisoned := g.poisonedLocked(id); poisoned && readsBody(q.Get("$select")) {
		g.mu.Unlock()
		return rep
	}
	sm, found := g.messages[id]
	if found {
		g.stats.MessageReads[id]++
	}
	var all map[string]any
	text := prefersText(h)
	if found {
		all = messageJSON(sm, text)
	}
	if !found {
		g.mu.Unlock()
		return graphFail(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
	}
	out, rep, ok := selectFields(all, q.Get("$select"), messageDefaults, "microsoft.graph.message")
	if !ok {
		g.mu.Unlock()
		return rep
	}
	g.expandPropertiesLocked(out, &sm.msg, propID)
	g.mu.Unlock()
	out["@odata.context"] = base + "/$metadata#users('" + g.meID() + "')/messages/$entity"
	r := graphOK(out)
	if text {
		r.header.Set("Preference-Applied", `outlook.body-content-type="text"`)
	}
	return r
}

// wellKnownFolderNames are the names Graph resolves in /me/mailFolders/{name}.
var wellKnownFolderNames = []string{
	"archive", "clutter", "conflicts", "conversationhistory", "deleteditems",
	"drafts", "inbox", "junkemail", "localfailures", "msgfolderroot", "outbox",
	"recoverableitemsdeletions", "scheduled", "searchfolders", "sentitems",
	"serverfailures", "syncissues",
}

// findFolderLocked resolves a folder id or well-known name. A well-known
// name the mailbox lacks is 404 ErrorFolderNotFound; a word that is neither
// an id nor a well-known name is 400 ErrorInvalidIdMalformed, as Graph
// answers.
func (g *Graph) findFolderLocked(idOrName string) (*Folder, graphReply, bool) {
	if f, ok := g.folders[idOrName]; ok {
		return f, graphReply{}, true
	}
	lower := strings.ToLower(idOrName)
	if slices.Contains(wellKnownFolderNames, lower) {
		for _, id := range g.folderOrder {
			if f := g.folders[id]; strings.EqualFold(f.WellKnownName, lower) {
				return f, graphReply{}, true
			}
		}
		return nil, graphFail(http.StatusNotFound, "ErrorFolderNotFound", "The specified folder could not be found in the store."), false
	}
	if len(idOrName) < 20 {
		return nil, badRequest("ErrorInvalidIdMalformed", "Id is malformed."), false
	}
	return nil, graphFail(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store."), false
}

func (g *Graph) folderJSONLocked(f *Folder) map[string]any {
	children, total := 0, 0
	for _, id := range g.folderOrder {
		if g.folders[id].ParentID == f.ID {
			children++
		}
	}
	for _, sm := range g.messages {
		if sm.msg.ParentFolderID == f.ID {
			total++
		}
	}
	return map[string]any{
		"id": f.ID, "displayName": f.DisplayName, "parentFolderId": f.ParentID,
		"childFolderCount": children, "unreadItemCount": 0, "totalItemCount": total,
		"isHidden": false,
	}
}

var folderDefaults = []string{"id", "displayName", "parentFolderId", "childFolderCount", "unreadItemCount", "totalItemCount", "isHidden"}

func (g *Graph) getFolder(base, idOrName string, q url.Values) graphReply {
	if rep, ok := checkQuery(q, "$select"); !ok {
		return rep
	}
	g.mu.Lock()
	f, rep, ok := g.findFolderLocked(idOrName)
	var all map[string]any
	if ok {
		all = g.folderJSONLocked(f)
	}
	g.mu.Unlock()
	if !ok {
		return rep
	}
	out, rep, ok := selectFields(all, q.Get("$select"), folderDefaults, "microsoft.graph.mailFolder")
	if !ok {
		return rep
	}
	out["@odata.context"] = base + "/$metadata#users('" + g.meID() + "')/mailFolders/$entity"
	return graphOK(out)
}

func (g *Graph) childFolders(base, idOrName string, q url.Values) graphReply {
	if rep, ok := checkQuery(q, "$select", "$top", "$skip"); !ok {
		return rep
	}
	top, skip, rep, ok := parsePage(q)
	if !ok {
		return rep
	}
	g.mu.Lock()
	parent, rep, ok := g.findFolderLocked(idOrName)
	if !ok {
		g.mu.Unlock()
		return rep
	}
	var kids []map[string]any
	for _, id := range g.folderOrder {
		if f := g.folders[id]; f.ParentID == parent.ID {
			kids = append(kids, g.folderJSONLocked(f))
		}
	}
	g.mu.Unlock()
	total := len(kids)
	skip = min(skip, total)
	end := min(skip+top, total)
	value := make([]map[string]any, 0, end-skip)
	for _, k := range kids[skip:end] {
		out, rep, ok := selectFields(k, q.Get("$select"), folderDefaults, "microsoft.graph.mailFolder")
		if !ok {
			return rep
		}
		value = append(value, out)
	}
	resp := map[string]any{
		"@odata.context": base + "/$metadata#users('" + g.meID() + "')/mailFolders('" + parent.ID + "')/childFolders",
		"value":          value,
	}
	if end < total {
		resp["@odata.nextLink"] = nextLink(base, "/me/mailFolders/"+url.PathEscape(idOrName)+"/childFolders", q, end)
	}
	return graphOK(resp)
}

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

// messageIDOf is the message a route reads, or "".
func messageIDOf(route, path string) string {
	if route != "GET /me/messages/{id}" {
		return ""
	}
	return splitPath(path)[2]
}

// batchItemMessageID is the message a $batch step reads, or "".
func batchItemMessageID(it batchRequestJSON) string {
	u, err := url.Parse(it.URL)
	if err != nil {
		return ""
	}
	path := "/" + strings.TrimPrefix(u.EscapedPath(), "/")
	return messageIDOf(routeName(strings.ToUpper(it.Method), path), path)
}
