package agentapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// What Activity shows, and the fixes it offers for an email that was not
// copied: add a missing ClientSuccess contact, never copy an address or a
// domain again, copy one email anyway.

// Activity filters (ActivityQuery.Show).
const (
	ShowAll     = ""
	ShowCopied  = "copied"
	ShowSkipped = "skipped"
)

// ActivityQuery asks for Activity's rows: those whose subject, people,
// clients or reason contain Text (case-insensitive; "" for all), copied
// or skipped or both (Show), newest email first, at most Limit (0: all
// kept).
type ActivityQuery struct {
	Text  string `json:"text,omitempty"`
	Show  string `json:"show,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// ClientChoice is one ClientSuccess client a new contact can belong to.
type ClientChoice struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Contacts is how many contacts of the address's domain the client
	// has in the directory: why it is suggested.
	Contacts int `json:"contacts,omitempty"`
}

// ContactSuggestion is what Add as contact starts from: the address, the
// names its emails give it, the clients its domain suggests (most contacts
// first) and every client to pick from instead (by name).
type ContactSuggestion struct {
	Address   string         `json:"address"`
	FirstName string         `json:"firstName,omitempty"`
	LastName  string         `json:"lastName,omitempty"`
	Suggested []ClientChoice `json:"suggested"`
	Clients   []ClientChoice `json:"clients"`
}

// NewContact is a contact to create. The client is ClientID, else Client
// (an id, or a client's name: exact, or the one name that contains it),
// else the one client the address's domain suggests.
type NewContact struct {
	Address   string `json:"address"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	ClientID  int64  `json:"clientId,omitempty"`
	Client    string `json:"client,omitempty"`
}

// AddedContact is the outcome of AddContact.
type AddedContact struct {
	ContactID int64  `json:"contactId"`
	ClientID  int64  `json:"clientId"`
	Client    string `json:"client"`
	// Existed is true when ClientSuccess already had the contact in that
	// client: nothing was created.
	Existed bool `json:"existed,omitempty"`
	// Syncing is true when a pass was started to copy its emails; false
	// when syncing is paused or cannot run.
	Syncing bool `json:"syncing"`
}

// ClientChoiceError is AddContact's answer when no client was named and
// the domain suggests none or several: Candidates are those it suggests
// (none: pick any client).
type ClientChoiceError struct {
	Words      string         `json:"error"`
	Candidates []ClientChoice `json:"candidates"`
}

func (e *ClientChoiceError) Error() string { return e.Words }

// activityRoutes adds the routes of this file to the handler.
func (h *handler) activityRoutes() {
	m := h.mux
	m.HandleFunc("GET /v1/activity", h.activity)
	m.HandleFunc("GET /v1/contacts/suggest", h.suggestContact)
	m.HandleFunc("POST /v1/contacts", h.addContact)
	m.HandleFunc("POST /v1/blocklist", h.blockAddress)
	m.HandleFunc("POST /v1/activity/{key}/copy", h.copyAnyway)
}

func (h *handler) activity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := limitOf(w, q)
	if !ok {
		return
	}
	ds, err := h.api.Activity(r.Context(), ActivityQuery{Text: q.Get("q"), Show: q.Get("show"), Limit: limit})
	h.writeDecisions(w, ds, err)
}

func (h *handler) suggestContact(w http.ResponseWriter, r *http.Request) {
	s, err := h.api.SuggestContact(r.Context(), r.URL.Query().Get("address"))
	if err != nil {
		h.writeAPIError(w, err)
		return
	}
	writeJSON(w, s)
}

func (h *handler) addContact(w http.ResponseWriter, r *http.Request) {
	var in NewContact
	if !readJSON(w, r, &in) {
		return
	}
	out, err := h.api.AddContact(r.Context(), in)
	var ce *ClientChoiceError
	if errors.As(err, &ce) {
		reply := *ce
		if reply.Candidates == nil {
			reply.Candidates = []ClientChoice{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		_ = json.NewEncoder(w).Encode(reply)
		return
	}
	if err != nil {
		h.writeAPIError(w, err)
		return
	}
	writeJSON(w, out)
}

type blockRequest struct {
	Address     string `json:"address"`
	WholeDomain bool   `json:"wholeDomain"`
}

type blockReply struct {
	Entry string `json:"entry"`
}

func (h *handler) blockAddress(w http.ResponseWriter, r *http.Request) {
	var in blockRequest
	if !readJSON(w, r, &in) {
		return
	}
	e, err := h.api.BlockAddress(r.Context(), in.Address, in.WholeDomain)
	if err != nil {
		h.writeAPIError(w, err)
		return
	}
	writeJSON(w, blockReply{Entry: e})
}

func (h *handler) copyAnyway(w http.ResponseWriter, r *http.Request) {
	if err := h.api.CopyAnyway(r.Context(), r.PathValue("key")); err != nil {
		h.writeAPIError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Activity returns Activity's rows for q.
func (c *Client) Activity(ctx context.Context, q ActivityQuery) ([]Decision, error) {
	v := url.Values{}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	if q.Show != "" {
		v.Set("show", q.Show)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "activity"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var ds []Decision
	err := c.call(ctx, callTimeout, http.MethodGet, path, nil, &ds)
	return ds, err
}

// SuggestContact returns what Add as contact starts from for address.
func (c *Client) SuggestContact(ctx context.Context, address string) (ContactSuggestion, error) {
	var s ContactSuggestion
	err := c.call(ctx, callTimeout, http.MethodGet, "contacts/suggest?"+url.Values{"address": {address}}.Encode(), nil, &s)
	return s, err
}

// AddContact creates a contact in ClientSuccess and starts a pass. When no
// client is named and the domain suggests none or several, the error is a
// *ClientChoiceError.
func (c *Client) AddContact(ctx context.Context, in NewContact) (AddedContact, error) {
	var out AddedContact
	err := c.call(ctx, callTimeout, http.MethodPost, "contacts", in, &out)
	return out, err
}

// BlockAddress adds address (or its whole domain) to the blocklist and
// returns the entry.
func (c *Client) BlockAddress(ctx context.Context, address string, wholeDomain bool) (string, error) {
	var out blockReply
	err := c.call(ctx, callTimeout, http.MethodPost, "blocklist", blockRequest{address, wholeDomain}, &out)
	return out.Entry, err
}

// CopyAnyway copies the email with Decision.Key key although a rule the
// person chose skipped it.
func (c *Client) CopyAnyway(ctx context.Context, key string) error {
	return c.call(ctx, callTimeout, http.MethodPost, "activity/"+url.PathEscape(key)+"/copy", nil, nil)
}

func (p inProcess) Activity(ctx context.Context, q ActivityQuery) ([]Decision, error) {
	ds, err := p.api.Activity(ctx, q)
	return ds, p.err(err)
}

func (p inProcess) SuggestContact(ctx context.Context, address string) (ContactSuggestion, error) {
	s, err := p.api.SuggestContact(ctx, address)
	return s, p.err(err)
}

func (p inProcess) AddContact(ctx context.Context, c NewContact) (AddedContact, error) {
	out, err := p.api.AddContact(ctx, c)
	var ce *ClientChoiceError
	if errors.As(err, &ce) {
		return out, ce // its words and candidates, as over the socket
	}
	return out, p.err(err)
}

func (p inProcess) BlockAddress(ctx context.Context, address string, wholeDomain bool) (string, error) {
	e, err := p.api.BlockAddress(ctx, address, wholeDomain)
	return e, p.err(err)
}

func (p inProcess) CopyAnyway(ctx context.Context, key string) error {
	return p.err(p.api.CopyAnyway(ctx, key))
}
