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
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
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
	gate        *gate // HoldUntilInFlight
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

// gate holds requests until n are in flight together.
type gate struct {
	n    int
	open chan struct{}
}

// HoldUntilInFlight holds every request, once counted as in flight, until
// n requests are in flight at the same moment (or the request's context
// ends). From then on requests pass. It shows that a client runs requests
// concurrently without depending on how the machine schedules them: a
// client that sends one at a time never opens the gate.
func (g *Graph) HoldUntilInFlight(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = &gate{n: n, open: make(chan struct{})}
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
