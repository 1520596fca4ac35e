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
	"maps"
	"net/http"
	"net/http/httptest"
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
	faults       remotetest.Injector // Retry-After kept by method and URL
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
		users:    map[string]string{},
		tokens:   map[string]time.Time{},
		clients:  map[int64]crm.Client{},
		contacts: map[int64]crm.Contact{},
		nextID:   1000,
		lifetime: DefaultTokenLifetime,
		stats:    Stats{ByRoute: map[string]int{}},
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

// MessageIDs returns, per client, the Message-IDs that the notes of the
// stored interactions name in their header block (the "Message-ID:" line
// Mail Sync writes), sorted, duplicates kept: what syncing left in
// ClientSuccess. A note that names none counts as "", so a comparison with
// the expected Message-IDs fails on it.
func (c *CRM) MessageIDs() map[int64][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int64][]string{}
	for _, in := range c.interactions {
		out[in.ClientID] = append(out[in.ClientID], noteMessageID(in.Note))
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

// noteMessageID reads the Message-ID line of a note's header block, which
// ends at the first blank line.
func noteMessageID(note string) string {
	for line := range strings.SplitSeq(note, "\n") {
		if line == "" {
			return ""
		}
		if v, ok := strings.CutPrefix(line, "Message-ID: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
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
	if c.faults.Early(key, now) {
		c.stats.EarlyRetries++
	}
	latency, maintenance := c.latency, c.maintenance
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
		c.faults.AnnounceRetry(w.Header(), fault, key, time.Now())
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
