package crmtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"mailsync/sync/crm"
)

// ContactAnswer is how the fake answers a created contact.
// docs/evidence.md "POST /v1/clients/{id}/contacts": both recordings
// answer 200 with the new contact; a hand-written stub answers 200 with an
// empty body and a relative Location. 201 was never seen for a contact but
// is what interaction creates answer, so a client must read it too.
type ContactAnswer int

const (
	// ContactMixed answers 200 with the contact, as recorded, and every
	// third create 201 with it and every fifth 200 with an empty body and
	// a relative Location, so that every answer occurs in one run.
	ContactMixed ContactAnswer = iota
	// ContactObject200 answers 200 with the contact (the recordings).
	ContactObject200
	// ContactObject201 answers 201 with the contact.
	ContactObject201
	// ContactLocation answers 200 with an empty body and a relative
	// Location (the stub).
	ContactLocation
	// ContactNull answers 200 null, as a refused interaction create does:
	// nothing is created.
	ContactNull
)

// SetContactAnswer chooses how contact creates are answered (ContactMixed
// by default).
func (c *CRM) SetContactAnswer(a ContactAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.contactNew = a
}

// ContactsOf returns the contacts of a client with address email
// (case-insensitive), by id: more than one means a contact was created
// twice.
func (c *CRM) ContactsOf(clientID int64, email string) []crm.Contact {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []crm.Contact
	for _, ct := range c.sortedContacts(func(ct *contact) bool {
		return ct.clientID == clientID && strings.EqualFold(ct.email, email)
	}) {
		out = append(out, crm.Contact{ID: ct.id, ClientID: ct.clientID, Email: ct.email, FirstName: ct.first, LastName: ct.last})
	}
	return out
}

// createContact is POST /clients/{id}/contacts with {"email","firstName",
// "lastName",…}. An unknown client is 404; a body without an address is
// refused 422 with an empty body, as the stubs of a client refuse a
// contact (docs/evidence.md). Whether the real service refuses a second
// contact with the same address is unknown: the fake creates it, like the
// interactions it never de-duplicates, so a client that posts twice leaves
// a duplicate a test can see. The new contact is in every search at once,
// modified now.
func (c *CRM) createContact(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.client(w, r)
	if !ok {
		return
	}
	var v struct {
		Email     *string `json:"email"`
		FirstName *string `json:"firstName"`
		LastName  *string `json:"lastName"`
	}
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON")
		return
	}
	if v.Email == nil || !strings.Contains(*v.Email, "@") {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return
	}
	c.mu.Lock()
	answer := c.contactNew
	if answer == ContactNull {
		c.mu.Unlock()
		writeJSON(w, http.StatusOK, nil)
		return
	}
	now := c.now()
	ct := &contact{id: c.newID(), clientID: cl.ID, email: strings.TrimSpace(*v.Email), created: now, modified: now}
	ct.uuid = "cnt_" + strconv.FormatInt(ct.id, 36)
	if v.FirstName != nil {
		ct.first = *v.FirstName
	}
	if v.LastName != nil {
		ct.last = *v.LastName
	}
	c.contacts[ct.id] = ct
	c.contactNews++
	c.stats.ContactsCreated++
	if answer == ContactMixed {
		switch {
		case c.contactNews%5 == 0:
			answer = ContactLocation
		case c.contactNews%3 == 0:
			answer = ContactObject201
		default:
			answer = ContactObject200
		}
	}
	out := c.v1Contact(ct)
	// The recorded answer names the contact's whole name too.
	out["name"] = nullable(strings.TrimSpace(ct.first + " " + ct.last))
	c.mu.Unlock()
	switch answer {
	case ContactLocation:
		w.Header().Set("Location", "/clients/"+strconv.FormatInt(cl.ID, 10)+"/contacts/"+strconv.FormatInt(ct.id, 10))
		w.WriteHeader(http.StatusOK)
	case ContactObject201:
		writeJSON(w, http.StatusCreated, out)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}
