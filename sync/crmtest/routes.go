package crmtest

import (
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"mailsync/sync/crm"
)

// auth is POST /auth: JSON or form {"username","password"} → a bare token.
func (c *CRM) auth(w http.ResponseWriter, r *http.Request) {
	var username, password string
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		var v struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&v); err != nil {
			writeError(w, http.StatusBadRequest, "malformed JSON")
			return
		}
		username, password = v.Username, v.Password
	default:
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "malformed form")
			return
		}
		username, password = r.PostForm.Get("username"), r.PostForm.Get("password")
	}
	if username == "" || password == "" {
		writeError(w, http.StatusBadRequest, "username and password are required")
		return
	}
	c.mu.Lock()
	want, ok := c.users[username]
	if !ok || want != password {
		c.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "Invalid username or password")
		return
	}
	tok := newToken()
	life := c.lifetime
	c.tokens[tok] = time.Now().Add(life)
	c.stats.Auths++
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, crm.AuthResponse{
		AccessToken: tok,
		TokenType:   "bearer",
		ExpiresIn:   int(math.Ceil(life.Seconds())),
	})
}

// authed admits requests whose Authorization header is a live token, bare
// as the real API wants it ("Bearer <token>" is refused).
func (c *CRM) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("Authorization")
		c.mu.Lock()
		exp, ok := c.tokens[tok]
		c.mu.Unlock()
		if tok == "" || !ok || !time.Now().Before(exp) {
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		h(w, r)
	}
}

// listContacts is GET /contacts?email=, matching the address without
// regard to case; without email it lists every contact.
func (c *CRM) listContacts(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	c.mu.Lock()
	out := []crm.Contact{}
	for _, ct := range c.contacts {
		if email == "" || strings.EqualFold(ct.Email, email) {
			out = append(out, ct)
		}
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, out)
}

// listClients is GET /clients.
func (c *CRM) listClients(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	out := make([]crm.Client, 0, len(c.clients))
	for _, cl := range c.clients {
		out = append(out, cl)
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, out)
}

// client finds the {id} of the path; it answers 404 and returns false when
// there is no such client.
func (c *CRM) client(w http.ResponseWriter, r *http.Request) (crm.Client, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	c.mu.Lock()
	cl, ok := c.clients[id]
	c.mu.Unlock()
	if err != nil || !ok {
		writeError(w, http.StatusNotFound, "Client not found")
		return crm.Client{}, false
	}
	return cl, true
}

// getClient is GET /clients/{id}.
func (c *CRM) getClient(w http.ResponseWriter, r *http.Request) {
	if cl, ok := c.client(w, r); ok {
		writeJSON(w, http.StatusOK, cl)
	}
}

// clientContacts is GET /clients/{id}/contacts.
func (c *CRM) clientContacts(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.client(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	out := []crm.Contact{}
	for _, ct := range c.contacts {
		if ct.ClientID == cl.ID {
			out = append(out, ct)
		}
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, out)
}

// listInteractions is GET /clients/{id}/interactions, in creation order.
func (c *CRM) listInteractions(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.client(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	out := c.interactionsOf(cl.ID)
	c.mu.Unlock()
	if out == nil {
		out = []crm.Interaction{}
	}
	writeJSON(w, http.StatusOK, out)
}

// createInteraction is POST /clients/{id}/interactions. Like the real API
// it has no idempotency: posting the same body twice creates two.
func (c *CRM) createInteraction(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.client(w, r)
	if !ok {
		return
	}
	var v struct {
		InteractionTypeID *int       `json:"interactionTypeId"`
		Subject           *string    `json:"subject"`
		InteractionDate   *time.Time `json:"interactionDate"`
		Note              string     `json:"note"`
		ContactIDs        []int64    `json:"contactIds"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20)).Decode(&v); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON")
		return
	}
	switch {
	case v.InteractionTypeID == nil || *v.InteractionTypeID < 1 || *v.InteractionTypeID > 8:
		writeError(w, http.StatusBadRequest, "interactionTypeId must be between 1 and 8")
		return
	case v.Subject == nil || strings.TrimSpace(*v.Subject) == "":
		writeError(w, http.StatusBadRequest, "subject is required")
		return
	case v.InteractionDate == nil || v.InteractionDate.IsZero():
		writeError(w, http.StatusBadRequest, "interactionDate is required")
		return
	}
	c.mu.Lock()
	for _, id := range v.ContactIDs {
		if ct, ok := c.contacts[id]; !ok || ct.ClientID != cl.ID {
			c.mu.Unlock()
			writeError(w, http.StatusBadRequest, "contact "+strconv.FormatInt(id, 10)+" does not belong to this client")
			return
		}
	}
	in := crm.Interaction{
		ID:                c.newID(),
		ClientID:          cl.ID,
		InteractionTypeID: *v.InteractionTypeID,
		Subject:           *v.Subject,
		InteractionDate:   *v.InteractionDate,
		Note:              v.Note,
		ContactIDs:        append([]int64(nil), v.ContactIDs...),
	}
	c.interactions = append(c.interactions, copyInteraction(in))
	c.mu.Unlock()
	writeJSON(w, http.StatusCreated, in)
}
