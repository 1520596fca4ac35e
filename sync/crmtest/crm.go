// Package crmtest is a fake ClientSuccess API (v1, and the v2 contact and
// note searches): an httptest server that answers the way public evidence shows the
// real service answering (see docs/evidence.md, "ClientSuccess"), and adversely
// where the evidence is silent, with every plausible shape in one run. It
// has knobs for faults, latency, a clock and token expiry, and counters that
// tests assert on. Tests and `mailsync demo` share it.
//
// The fake encodes its answers from its own records, never from the wire
// types of sync/crm, so that the client and the fake are not written from
// one guess.
//
// The recordings behind docs/evidence.md (ignitionapp/client_success,
// spec/vcr_cassettes/client_success/contact/*.yml) add three facts the page
// leaves out: a v1 contact carries the numeric "clientId" and the client's
// name as "client"; /contacts/search is called with the term in single
// quotes (term='a@b'); and the 401 for an expired token says
// WWW-Authenticate: Bearer realm="clientsuccess", error="invalid_token",
// error_description="<the token>" — the token itself, in the header and
// the body, so a client must never show either.
package crmtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"mailsync/sync/crm"
	"mailsync/sync/remote/remotetest"
)

// FaultKind is one way the fake misbehaves; the shared kinds are
// remotetest's.
type FaultKind = remotetest.FaultKind

// Fault kinds the fake injects; see remotetest for the shared ones.
const (
	Throttle429    = remotetest.Throttle429
	Unavailable503 = remotetest.Unavailable503
	ConnReset      = remotetest.ConnReset
	TruncatedBody  = remotetest.TruncatedBody
	Slow           = remotetest.Slow
	// ResetAfterApply stores a POST, then resets the connection without
	// answering; drawn only when named in Faults.Kinds.
	ResetAfterApply = remotetest.ResetAfterApply
)

// Faults makes a share of the requests fail (see remotetest.Faults). The
// zero value injects none. Retry-After deadlines are kept per method and
// URL.
type Faults = remotetest.Faults

// CreateAnswer is how the fake answers a created interaction. docs/evidence.md
// (POST /v1/clients/{id}/interactions, "the answer"): recorded creates
// answer 201 or 200 with the object; only hand-written stubs answer an
// empty body with a relative Location.
type CreateAnswer int

const (
	// CreateMixed answers 201 and 200 with the object in turn, and every
	// tenth create with an empty body and a relative Location, so that
	// every answer occurs in one run and the rare one stays rare.
	CreateMixed CreateAnswer = iota
	// CreateObject answers 201 with the created object.
	CreateObject
	// CreateLocation answers 201 with an empty body and a relative
	// Location header.
	CreateLocation
	// CreateObject200 answers 200 with the created object.
	CreateObject200
)

// NoteSearch is how the v2 note search (GET /v2/clientNote/search)
// answers.
type NoteSearch int

const (
	// NotesPaged honours page and size (docs/evidence.md: the documented, paged
	// way), up to notePageMax notes a page.
	NotesPaged NoteSearch = iota
	// NotesIgnorePage answers page 0 whatever page is asked for, numbered
	// as asked: a service that ignores the parameter.
	NotesIgnorePage
	// NotesUnreadable answers 200 with a body that is not a page object.
	NotesUnreadable
)

// NoteForm is how a stored note comes back when interactions are read.
// docs/evidence.md (notes): other clients treat note as HTML and strip its tags;
// whether it comes back byte for byte is unknown, so the fake is adverse.
type NoteForm int

const (
	// NoteMixed cycles through the forms below by interaction id, so every
	// form occurs in one run.
	NoteMixed NoteForm = iota
	// NoteEscaped: HTML-escaped, each newline turned into "<br>".
	NoteEscaped
	// NoteAsSent: byte for byte as posted.
	NoteAsSent
	// NoteStripped: tags removed and entities decoded, as a client that
	// shows notes as text does.
	NoteStripped
	// NoteBreaks: newlines turned into "<br>", nothing escaped.
	NoteBreaks
)

// InteractionsPageSize is how many interactions one page of GET
// /clients/{id}/interactions holds. docs/evidence.md: read in pages of 100.
const InteractionsPageSize = 100

// Stats counts what the fake saw.
type Stats struct {
	Requests int            // every request under /v1 and /v2
	ByRoute  map[string]int // by route pattern, e.g. "POST /clients/{id}/interactions", "GET /v2/contact/search"
	Auths    int            // tokens issued by POST /auth
	// EarlyRetries counts requests that repeated a request answered with
	// Retry-After (same method and URL) before that time had passed.
	EarlyRetries int
	PeakInFlight int // most requests being handled at once
	Faults       int // faults injected (see SetFaults)
	// CreatedWithBody and CreatedWithLocation count creates answered 201
	// with the object and 201 with an empty body and Location.
	CreatedWithBody, CreatedWithLocation int
	// CreatedWith200 counts creates answered 200 with the object (also
	// counted in CreatedWithBody).
	CreatedWith200 int
	// ContactsCreated counts contacts created through POST
	// /clients/{id}/contacts.
	ContactsCreated int
}

// DefaultTokenLifetime is what the real /auth announces: 12 hours.
// docs/evidence.md (POST /v1/auth): "expires_in":43200.
const DefaultTokenLifetime = 43200 * time.Second

// contact is the fake's record of a contact.
type contact struct {
	id                int64
	uuid              string
	clientID          int64
	email             string
	first, last       string
	created, modified time.Time
}

// interaction is the fake's record of an interaction, the note as posted.
type interaction struct {
	id         int64
	clientID   int64
	typeID     int
	subject    string
	date       string // interactionDate as posted, YYYY-MM-DD
	note       string
	contactIDs []int64
	created    time.Time
}

// CRM is the fake ClientSuccess. Its methods are safe for concurrent use.
type CRM struct {
	// URL is the v1 API base, including "/v1"; empty when the fake was not
	// started by NewCRM. The v2 routes are on the same server under "/v2".
	URL string

	srv *httptest.Server
	mux *http.ServeMux

	mu           sync.Mutex
	users        map[string]string    // username → password
	tokens       map[string]time.Time // token → expiry
	clients      map[int64]crm.Client
	contacts     map[int64]*contact
	interactions []interaction
	nextID       int64
	maintenance  bool
	maintCount   int
	lifetime     time.Duration
	latency      time.Duration
	now          func() time.Time
	create       CreateAnswer
	creates      int
	noteForm     NoteForm
	v2Down       bool
	v1PagesOK    bool       // v1 interactions honour ?page= (SetV1Paging)
	noteSearch   NoteSearch // SetNoteSearch
	oldestFirst  bool       // SetDirectoryOldestFirst
	lookupArray  bool
	contactNew   ContactAnswer       // SetContactAnswer
	contactNews  int                 // contacts created through the API
	faults       remotetest.Injector // Retry-After kept by method and URL
	stats        Stats
	inFlight     int
}

// NewCRM starts a fake ClientSuccess on a local port; URL is its v1 API
// base. Close it when done.
func NewCRM() *CRM {
	c := newCRM()
	c.srv = httptest.NewServer(c.Handler())
	c.URL = c.srv.URL + "/v1"
	return c
}

func newCRM() *CRM {
	c := &CRM{
		users:    map[string]string{},
		tokens:   map[string]time.Time{},
		clients:  map[int64]crm.Client{},
		contacts: map[int64]*contact{},
		nextID:   1000,
		lifetime: DefaultTokenLifetime,
		now:      time.Now,
		stats:    Stats{ByRoute: map[string]int{}},
	}
	c.mux = http.NewServeMux()
	c.mux.HandleFunc("POST /v1/auth", c.auth)
	c.mux.HandleFunc("GET /v1/contacts", c.authed(c.contactByEmail))
	c.mux.HandleFunc("GET /v1/contacts/search", c.authed(c.searchContactsV1))
	c.mux.HandleFunc("GET /v2/contact/search", c.authed(c.searchContactsV2))
	c.mux.HandleFunc("GET /v1/clients", c.authed(c.listClients))
	c.mux.HandleFunc("GET /v1/clients/{id}", c.authed(c.getClient))
	c.mux.HandleFunc("GET /v1/clients/{id}/contacts", c.authed(c.clientContacts))
	c.mux.HandleFunc("GET /v1/clients/{id}/interactions", c.authed(c.listInteractions))
	c.mux.HandleFunc("GET /v2/clientNote/search", c.authed(c.searchNotes))
	c.mux.HandleFunc("GET /v1/clients/{id}/interactions/{iid}", c.authed(c.getInteraction))
	c.mux.HandleFunc("POST /v1/clients/{id}/interactions", c.authed(c.createInteraction))
	c.mux.HandleFunc("POST /v1/clients/{id}/contacts", c.authed(c.createContact))
	return c
}

// Handler serves the same fake, with the same data and knobs, on another
// listener (the demo); the API is under /v1/ and /v2/.
func (c *CRM) Handler() http.Handler {
	return http.HandlerFunc(c.serve)
}

// Close stops the server started by NewCRM.
func (c *CRM) Close() {
	if c.srv != nil {
		c.srv.Close()
	}
}

// AddUser lets username sign in with password.
func (c *CRM) AddUser(username, password string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users[username] = password
}

// AddClient stores cl, assigning an id when it has none, and returns it.
func (c *CRM) AddClient(cl crm.Client) crm.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl.ID == 0 {
		cl.ID = c.newID()
	}
	c.clients[cl.ID] = cl
	return cl
}

// AddContact stores ct, assigning an id when it has none, and returns it;
// it is created and modified at the fake's clock's now (ct.Modified is
// ignored). Its ClientID must name a client added before, or be 0 for a
// contact without a client (docs/evidence.md lists them as unknown: the fake
// answers one with its client fields null); otherwise it panics, as the
// test set-up is wrong.
func (c *CRM) AddContact(ct crm.Contact) crm.Contact {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.clients[ct.ClientID]; !ok && ct.ClientID != 0 {
		panic(fmt.Sprintf("crmtest: AddContact: no client %d", ct.ClientID))
	}
	if ct.ID == 0 {
		ct.ID = c.newID()
	}
	now := c.now()
	c.contacts[ct.ID] = &contact{
		id: ct.ID, uuid: fmt.Sprintf("cnt_%08x", ct.ID), clientID: ct.ClientID, email: ct.Email,
		first: ct.FirstName, last: ct.LastName, created: now, modified: now,
	}
	return ct
}

// TouchContact marks a contact modified now (the fake's clock), as an
// edit in ClientSuccess does.
func (c *CRM) TouchContact(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ct, ok := c.contacts[id]; ok {
		ct.modified = c.now()
	}
}

// RemoveContact deletes a contact, as when someone removes it in
// ClientSuccess. It disappears from every search: docs/evidence.md does not say
// whether deletions show up in the v2 search, so the fake gives no sign.
func (c *CRM) RemoveContact(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.contacts, id)
}

// Interactions returns the interactions stored for a client, in creation
// order, with the note as posted and InteractionDate the posted day at
// midnight UTC.
func (c *CRM) Interactions(clientID int64) []crm.Interaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []crm.Interaction
	for _, in := range c.interactions {
		if in.clientID == clientID {
			out = append(out, in.public())
		}
	}
	return out
}

// AllInteractions returns every stored interaction, in creation order (see
// Interactions).
func (c *CRM) AllInteractions() []crm.Interaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]crm.Interaction, 0, len(c.interactions))
	for _, in := range c.interactions {
		out = append(out, in.public())
	}
	return out
}

func (in interaction) public() crm.Interaction {
	d, _ := time.Parse(time.DateOnly, in.date)
	return crm.Interaction{
		ID: in.id, ClientID: in.clientID, InteractionTypeID: in.typeID, Subject: in.subject,
		InteractionDate: d, Note: in.note, ContactIDs: slices.Clone(in.contactIDs), Created: in.created,
	}
}

// MessageIDs returns, per client, the Message-IDs that the notes of the
// stored interactions name on their "Message-ID:" line (the first such
// line, read as text whether the note was posted as text or HTML), sorted,
// duplicates kept: what syncing left in ClientSuccess. A note that names
// none counts as "", so a comparison with the expected Message-IDs fails
// on it.
func (c *CRM) MessageIDs() map[int64][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int64][]string{}
	for _, in := range c.interactions {
		out[in.clientID] = append(out[in.clientID], noteMessageID(in.note))
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

var (
	tagRE       = regexp.MustCompile(`(?is)<(br|/p|/div|p|div)\b[^>]*>|<[^>]*>`)
	htmlRE      = regexp.MustCompile(`(?i)<(br|p|div)\b|&(lt|gt|amp|quot|#\d+);`)
	messageIDRE = regexp.MustCompile(`(?im)^[ \t]*Message-ID:[ \t]*(\S.*?)[ \t]*$`)
)

// noteText reads a note as text: line-ending tags become newlines, other
// tags go, entities are decoded.
func noteText(note string) string {
	t := tagRE.ReplaceAllStringFunc(note, func(tag string) string {
		l := strings.ToLower(tag)
		for _, p := range []string{"<br", "</p", "</div", "<p", "<div"} {
			if strings.HasPrefix(l, p) && (len(l) == len(p) || !isNameByte(l[len(p)])) {
				return "\n"
			}
		}
		return ""
	})
	return html.UnescapeString(t)
}

func isNameByte(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

// noteMessageID reads the first Message-ID line of a note: of an HTML note
// read as text, or of a plain-text note before its first blank line (so a
// quoted message in a body is not taken for it).
func noteMessageID(note string) string {
	text := note
	if htmlRE.MatchString(note) {
		text = noteText(note)
	} else if head, _, ok := strings.Cut(text, "\n\n"); ok {
		text = head
	}
	if m := messageIDRE.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

// storedNote is how a note comes back from GET .../interactions.
func storedNote(note string, form NoteForm, id int64) string {
	if form == NoteMixed {
		form = []NoteForm{NoteEscaped, NoteAsSent, NoteStripped, NoteBreaks}[id%4]
	}
	switch form {
	case NoteEscaped:
		return strings.ReplaceAll(html.EscapeString(note), "\n", "<br>")
	case NoteStripped:
		return noteText(note)
	case NoteBreaks:
		return strings.ReplaceAll(note, "\n", "<br>")
	}
	return note
}

// SetMaintenance puts the fake in maintenance: requests are answered,
// alternately, the HTML "System Maintenance" page and a connection reset.
// docs/evidence.md (errors): during maintenance an HTML page, and connection
// resets.
func (c *CRM) SetMaintenance(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.maintenance = on
	c.maintCount = 0
}

// SetV2Unavailable makes the v2 contact search answer 404, as for an
// account that cannot use it. The note search is not affected.
func (c *CRM) SetV2Unavailable(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v2Down = on
}

// SetV1Paging makes GET /v1/clients/{id}/interactions honour its page
// parameter. By default it does not: docs/evidence.md shows no public client
// sending one, so v1 paging is unknown and the fake ignores it, answering
// the first page whatever is asked.
func (c *CRM) SetV1Paging(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v1PagesOK = on
}

// SetNoteSearch chooses how the v2 note search answers (NotesPaged by
// default).
func (c *CRM) SetNoteSearch(n NoteSearch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noteSearch = n
}

// SetDirectoryOldestFirst makes the v2 contact search sorted by
// modifiedTime give the oldest first. By default it gives the newest
// first: docs/evidence.md does not know the direction, and a reader that
// assumed the oldest first would be wrong.
func (c *CRM) SetDirectoryOldestFirst(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.oldestFirst = on
}

// SetLookupAnswersArray makes GET /contacts?email= answer a JSON array
// (of the one contact, or empty) instead of the object or null the real
// service gives (docs/evidence.md): a service that is not the API Mail Sync was
// built against, for the checks that must notice it.
func (c *CRM) SetLookupAnswersArray(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookupArray = on
}

// SetCreateAnswer chooses how creates are answered (CreateMixed by
// default).
func (c *CRM) SetCreateAnswer(a CreateAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.create = a
}

// SetNoteForm chooses how stored notes come back (NoteMixed by default).
func (c *CRM) SetNoteForm(f NoteForm) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noteForm = f
}

// SetClock makes the fake read time from now: token expiry and contacts'
// created and modified times. nil restores time.Now.
func (c *CRM) SetClock(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	c.now = now
}

// ExpireTokens makes every token issued so far answer 401.
func (c *CRM) ExpireTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	past := c.now().Add(-time.Second)
	for t := range c.tokens {
		c.tokens[t] = past
	}
}

// SetTokenLifetime sets the life of tokens issued from now on (announced in
// whole seconds, rounded up, as expires_in).
func (c *CRM) SetTokenLifetime(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lifetime = d
}

// SetLatency delays every answer by d (a request whose client goes away
// stops waiting).
func (c *CRM) SetLatency(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency = d
}

// SetFaults replaces the fault injection and restarts its draw from f.Seed.
func (c *CRM) SetFaults(f Faults) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.Set(f)
}

// Stats returns a copy of the counters.
func (c *CRM) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.ByRoute = maps.Clone(c.stats.ByRoute)
	return s
}

// ResetStats zeroes the counters (PeakInFlight included).
func (c *CRM) ResetStats() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats = Stats{ByRoute: map[string]int{}}
}

func (c *CRM) newID() int64 {
	c.nextID++
	return c.nextID
}

// serve counts the request, applies latency, maintenance and faults, then
// routes it.
func (c *CRM) serve(w http.ResponseWriter, r *http.Request) {
	_, pattern := c.mux.Handler(r)
	route := strings.Replace(pattern, " /v1/", " /", 1)
	key := r.Method + " " + r.URL.RequestURI()
	// Reading the body first lets net/http notice a client that goes away
	// (it watches the connection only once the body is consumed), so waits
	// below end with it.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body too large or unreadable")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	c.mu.Lock()
	now := c.now()
	c.stats.Requests++
	if route != "" {
		c.stats.ByRoute[route]++
	}
	c.inFlight++
	c.stats.PeakInFlight = max(c.stats.PeakInFlight, c.inFlight)
	if c.faults.Early(key, now) {
		c.stats.EarlyRetries++
	}
	latency, maintenance := c.latency, c.maintenance
	if maintenance {
		c.maintCount++
	}
	maintReset := c.maintCount%2 == 0
	fault, slow := c.faults.Draw(), c.faults.Faults().SlowDelay
	if fault != 0 {
		c.stats.Faults++
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()

	if !remotetest.Wait(r.Context(), latency) {
		return
	}
	if maintenance {
		// docs/evidence.md (errors): an HTML "System Maintenance" page, and
		// connection resets.
		if maintReset {
			remotetest.Reset(w)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, maintenancePage)
		return
	}
	switch fault {
	case Throttle429, Unavailable503:
		// docs/evidence.md (errors): 429 and Retry-After never seen; treated as
		// possible.
		status, msg := http.StatusTooManyRequests, "Too many requests"
		if fault == Unavailable503 {
			status, msg = http.StatusServiceUnavailable, "Service temporarily unavailable"
		}
		c.mu.Lock()
		c.faults.AnnounceRetry(w.Header(), fault, key, now)
		c.mu.Unlock()
		writeError(w, status, msg)
		return
	case ConnReset:
		remotetest.Reset(w)
		return
	case Slow:
		if !remotetest.Wait(r.Context(), slow) {
			return
		}
	case TruncatedBody, ResetAfterApply:
		rec := httptest.NewRecorder()
		c.mux.ServeHTTP(rec, r)
		if fault == ResetAfterApply {
			remotetest.Reset(w)
		} else {
			maps.Copy(w.Header(), rec.Header())
			remotetest.WriteTruncated(w, rec.Code, rec.Body.Bytes())
		}
		return
	}
	c.mux.ServeHTTP(w, r)
}

const maintenancePage = `<!DOCTYPE html>
<html><head><title>System Maintenance</title></head>
<body><h1>System Maintenance</h1>
<p>ClientSuccess is currently undergoing scheduled maintenance. We will be back shortly.</p>
</body></html>
`

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers a 4xx or 5xx. docs/evidence.md (errors): {"userMessage":…}
// on 4xx.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": status, "userMessage": msg})
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	// Shaped like the recorded tokens (docs/evidence.md sources: a UUID).
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
