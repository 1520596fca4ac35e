// Package crmtest is a fake ClientSuccess v1 API: an httptest server that
// behaves like the real service for everything Mail Sync uses (POST /auth
// with JSON or form, bare-token authorization, contacts, clients,
// interactions, the HTML maintenance page), with knobs for faults, latency
// and token expiry, and counters that tests assert on. Tests and `mailsync
// demo` share it.
package crmtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"mailsync/sync/crm"
)

// FaultKind is one way the fake misbehaves.
type FaultKind int

const (
	// Throttle429 answers 429 with Retry-After, without doing anything.
	Throttle429 FaultKind = 1
	// Unavailable503 answers 503 (JSON, not the maintenance page) with
	// Retry-After, without doing anything.
	Unavailable503 FaultKind = 2
	// ConnReset resets the connection before doing anything.
	ConnReset FaultKind = 3
	// TruncatedBody does the request, then sends only half of the answer
	// and closes the connection.
	TruncatedBody FaultKind = 4
	// Slow waits Faults.SlowDelay before answering normally.
	Slow FaultKind = 5
	// ResetAfterApply does the request (a POST is stored), then resets the
	// connection without answering: the client cannot know it succeeded.
	ResetAfterApply FaultKind = 6
)

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

// Faults makes a share of the requests fail. The zero value injects none.
type Faults struct {
	Rate       float64       // share of requests that get a fault, 0..1
	Kinds      []FaultKind   // drawn uniformly for each faulty request
	RetryAfter time.Duration // announced by 429 and 503, sent rounded up to whole seconds
	Seed       int64         // seeds the draw, so a run can be repeated
	SlowDelay  time.Duration // wait of a Slow fault; 0 means 100 ms
	Max        int           // at most this many faults; 0 means no limit
}

// Stats counts what the fake saw.
type Stats struct {
	Requests int            // every request under /v1
	ByRoute  map[string]int // by route pattern, e.g. "POST /clients/{id}/interactions"
	Auths    int            // tokens issued by POST /auth
	// EarlyRetries counts requests that repeated a request answered with
	// Retry-After (same method and URL) before that time had passed.
	EarlyRetries int
	PeakInFlight int // most requests being handled at once
	Faults       int // faults injected (see SetFaults)
}

// DefaultTokenLifetime is what the real /auth announces: 12 hours.
const DefaultTokenLifetime = 43200 * time.Second

// CRM is the fake ClientSuccess. Its methods are safe for concurrent use.
type CRM struct {
	// URL is the API base, including "/v1"; empty when the fake was not
	// started by NewCRM.
	URL string

	srv *httptest.Server
	mux *http.ServeMux

	mu           sync.Mutex
	users        map[string]string    // username → password
	tokens       map[string]time.Time // token → expiry
	clients      map[int64]crm.Client
	contacts     map[int64]crm.Contact
	interactions []crm.Interaction
	nextID       int64
	maintenance  bool
	lifetime     time.Duration
	latency      time.Duration
	faults       Faults
	faultsGiven  int
	rng          *mrand.Rand
	notBefore    map[string]time.Time // method+URL → Retry-After end
	stats        Stats
	inFlight     int
}

// NewCRM starts a fake ClientSuccess on a local port; URL is its API base.
// Close it when done.
func NewCRM() *CRM {
	c := newCRM()
	c.srv = httptest.NewServer(c.Handler())
	c.URL = c.srv.URL + "/v1"
	return c
}

func newCRM() *CRM {
	c := &CRM{
		users:     map[string]string{},
		tokens:    map[string]time.Time{},
		clients:   map[int64]crm.Client{},
		contacts:  map[int64]crm.Contact{},
		nextID:    1000,
		lifetime:  DefaultTokenLifetime,
		rng:       mrand.New(mrand.NewPCG(0, 0)),
		notBefore: map[string]time.Time{},
		stats:     Stats{ByRoute: map[string]int{}},
	}
	c.mux = http.NewServeMux()
	c.mux.HandleFunc("POST /v1/auth", c.auth)
	c.mux.HandleFunc("GET /v1/contacts", c.authed(c.listContacts))
	c.mux.HandleFunc("GET /v1/clients", c.authed(c.listClients))
	c.mux.HandleFunc("GET /v1/clients/{id}", c.authed(c.getClient))
	c.mux.HandleFunc("GET /v1/clients/{id}/contacts", c.authed(c.clientContacts))
	c.mux.HandleFunc("GET /v1/clients/{id}/interactions", c.authed(c.listInteractions))
	c.mux.HandleFunc("POST /v1/clients/{id}/interactions", c.authed(c.createInteraction))
	return c
}

// Handler serves the same fake, with the same data and knobs, on another
// listener (the demo); the API is under /v1/.
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

// AddContact stores ct, assigning an id when it has none, and returns it.
// Its ClientID must name a client added before; otherwise it panics, as the
// test set-up is wrong.
func (c *CRM) AddContact(ct crm.Contact) crm.Contact {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.clients[ct.ClientID]; !ok {
		panic(fmt.Sprintf("crmtest: AddContact: no client %d", ct.ClientID))
	}
	if ct.ID == 0 {
		ct.ID = c.newID()
	}
	c.contacts[ct.ID] = ct
	return ct
}

// RemoveContact deletes a contact, as when someone removes it in ClientSuccess.
func (c *CRM) RemoveContact(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.contacts, id)
}

// Interactions returns copies of the interactions stored for a client, in
// creation order.
func (c *CRM) Interactions(clientID int64) []crm.Interaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interactionsOf(clientID)
}

// AllInteractions returns copies of every stored interaction, in creation
// order.
func (c *CRM) AllInteractions() []crm.Interaction {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]crm.Interaction, 0, len(c.interactions))
	for _, in := range c.interactions {
		out = append(out, copyInteraction(in))
	}
	return out
}

// SetMaintenance makes every request answer the HTML maintenance page.
func (c *CRM) SetMaintenance(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.maintenance = on
}

// ExpireTokens makes every token issued so far answer 401.
func (c *CRM) ExpireTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	past := time.Now().Add(-time.Second)
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
	f.Kinds = append([]FaultKind(nil), f.Kinds...)
	if f.SlowDelay == 0 {
		f.SlowDelay = 100 * time.Millisecond
	}
	c.faults = f
	c.faultsGiven = 0
	c.rng = mrand.New(mrand.NewPCG(uint64(f.Seed), 0x6d61696c))
}

// Stats returns a copy of the counters.
func (c *CRM) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.ByRoute = make(map[string]int, len(c.stats.ByRoute))
	for k, v := range c.stats.ByRoute {
		s.ByRoute[k] = v
	}
	return s
}

func (c *CRM) newID() int64 {
	c.nextID++
	return c.nextID
}

func (c *CRM) interactionsOf(clientID int64) []crm.Interaction {
	var out []crm.Interaction
	for _, in := range c.interactions {
		if in.ClientID == clientID {
			out = append(out, copyInteraction(in))
		}
	}
	return out
}

func copyInteraction(in crm.Interaction) crm.Interaction {
	in.ContactIDs = append([]int64(nil), in.ContactIDs...)
	return in
}

// serve counts the request, applies latency, maintenance and faults, then
// routes it.
func (c *CRM) serve(w http.ResponseWriter, r *http.Request) {
	_, pattern := c.mux.Handler(r)
	route := strings.Replace(pattern, " /v1/", " /", 1)
	key := r.Method + " " + r.URL.RequestURI()
	now := time.Now()
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
	c.stats.Requests++
	if route != "" {
		c.stats.ByRoute[route]++
	}
	c.inFlight++
	c.stats.PeakInFlight = max(c.stats.PeakInFlight, c.inFlight)
	if nb, ok := c.notBefore[key]; ok {
		if now.Before(nb) {
			c.stats.EarlyRetries++
		}
		delete(c.notBefore, key)
	}
	latency, maintenance := c.latency, c.maintenance
	fault, f := c.drawFault()
	if fault != 0 {
		c.stats.Faults++
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()

	if !wait(r, latency) {
		return
	}
	if maintenance {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, maintenancePage)
		return
	}
	switch fault {
	case Throttle429, Unavailable503:
		status, msg := http.StatusTooManyRequests, "Too many requests"
		if fault == Unavailable503 {
			status, msg = http.StatusServiceUnavailable, "Service temporarily unavailable"
		}
		c.mu.Lock()
		c.notBefore[key] = time.Now().Add(f.RetryAfter)
		c.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
		writeError(w, status, msg)
		return
	case ConnReset:
		reset(w)
		return
	case Slow:
		if !wait(r, f.SlowDelay) {
			return
		}
	case TruncatedBody, ResetAfterApply:
		rec := httptest.NewRecorder()
		c.mux.ServeHTTP(rec, r)
		if fault == ResetAfterApply {
			reset(w)
		} else {
			truncate(w, rec)
		}
		return
	}
	c.mux.ServeHTTP(w, r)
}

// drawFault picks the fault for one request; c.mu is held.
func (c *CRM) drawFault() (FaultKind, Faults) {
	f := c.faults
	if f.Rate <= 0 || len(f.Kinds) == 0 || (f.Max > 0 && c.faultsGiven >= f.Max) {
		return 0, f
	}
	if c.rng.Float64() >= f.Rate {
		return 0, f
	}
	c.faultsGiven++
	return f.Kinds[c.rng.IntN(len(f.Kinds))], f
}

// wait sleeps d unless the client goes away first; it reports whether to go on.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// reset closes the connection with a TCP RST and no answer.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// truncate sends rec's status and headers with the full Content-Length but
// only half of its body, then closes the connection.
func truncate(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	body := rec.Body.Bytes()
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	h := rec.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	_ = h.Write(buf)
	buf.WriteString("\r\n")
	buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}

const maintenancePage = `<!DOCTYPE html>
<html><head><title>System Maintenance</title></head>
<body><h1>System Maintenance</h1>
<p>ClientSuccess is currently undergoing scheduled maintenance. We will be back shortly.</p>
</body></html>
`

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers a JSON error the way the API does.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": status, "message": msg})
}

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
