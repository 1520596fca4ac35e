package crmtest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"mailsync/sync/crm"
)

// auth is POST /auth. docs/evidence.md (POST /v1/auth): JSON or form
// {"username","password"}; the answer {"access_token","token_type":"Bearer",
// "expires_in":43200}; bad credentials 401 {"code":"Unauthorized","message":""}.
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
	c.mu.Lock()
	want, ok := c.users[username]
	if username == "" || !ok || want != password {
		c.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "Unauthorized", "message": ""})
		return
	}
	tok := newToken()
	life := c.lifetime
	c.tokens[tok] = c.now().Add(life)
	c.stats.Auths++
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(math.Ceil(life.Seconds())),
	})
}

// authed admits requests whose Authorization header is a live token.
// docs/evidence.md (the token): sent bare; a "Bearer " prefix gets 401; the v1
// token is accepted on the v2 routes; an expired token answers 401
// {"error":"invalid_token","error_description":…} with WWW-Authenticate:
// Bearer. The recorded error_description repeats the token, so the fake
// does too: a client must never show it.
func (c *CRM) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("Authorization")
		c.mu.Lock()
		exp, ok := c.tokens[tok]
		live := ok && c.now().Before(exp)
		c.mu.Unlock()
		if tok == "" || !live {
			w.Header().Set("WWW-Authenticate", `Bearer realm="clientsuccess", error="invalid_token", error_description="`+tok+`"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": tok})
			return
		}
		h(w, r)
	}
}

// when writes a time in one of the forms docs/evidence.md allows for dates in
// answers (ISO 8601 date-times; bare dates are common elsewhere), chosen by
// n so that every form occurs in one run: RFC 3339 with milliseconds,
// zone-less, with a numeric offset, and epoch milliseconds.
func when(t time.Time, n int64) any {
	switch n % 4 {
	case 1:
		return t.UTC().Format("2006-01-02T15:04:05")
	case 2:
		return t.In(time.FixedZone("", -5*3600)).Format("2006-01-02T15:04:05.000-0700")
	case 3:
		return t.UnixMilli()
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// v1Contact is a contact as v1 answers it. docs/evidence.md sources (the
// contact cassettes): id, uuid, clientId, email, firstName, lastName,
// "client" (the client's name), and many nullable fields.
func (c *CRM) v1Contact(ct *contact) map[string]any {
	return map[string]any{
		"id": ct.id, "uuid": ct.uuid, "clientId": nullID(ct.clientID), "statusId": 1,
		"email": ct.email, "firstName": nullable(ct.first), "lastName": nullable(ct.last),
		"phone": nil, "mobile": nil, "title": nil, "note": nil, "externalId": nil,
		"client": nullable(c.clients[ct.clientID].Name), "customFieldValues": []any{},
	}
}

// nullID is an id, or null for none (a contact without a client).
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// sortedContacts returns the contacts for which keep is true, by id.
func (c *CRM) sortedContacts(keep func(*contact) bool) []*contact {
	var out []*contact
	for _, ct := range c.contacts {
		if keep(ct) {
			out = append(out, ct)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// contactByEmail is GET /contacts?email=X. docs/evidence.md: one contact
// object, or 200 with the body null when there is none (never 404, never
// an array). Without clientExternalId the shape is unknown; when several
// clients have a contact with that address the fake answers only the
// first, so a caller cannot learn them all this way.
func (c *CRM) contactByEmail(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	c.mu.Lock()
	found := c.sortedContacts(func(ct *contact) bool { return strings.EqualFold(ct.email, email) })
	var out any
	if email != "" && len(found) > 0 {
		out = c.v1Contact(found[0])
	}
	if c.lookupArray {
		// Not the real service's shape (SetLookupAnswersArray).
		list := []any{}
		if out != nil {
			list = append(list, out)
		}
		out = list
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// searchContactsV1 is GET /contacts/search?term='X'. docs/evidence.md: a JSON
// array; the term matches more than the exact address (how wide is unknown:
// the fake matches any part of the address or name, case-insensitively,
// the quotes taken off).
func (c *CRM) searchContactsV1(w http.ResponseWriter, r *http.Request) {
	term := strings.ToLower(strings.Trim(strings.TrimSpace(r.URL.Query().Get("term")), `'"`))
	c.mu.Lock()
	found := c.sortedContacts(func(ct *contact) bool {
		return term != "" && (strings.Contains(strings.ToLower(ct.email), term) ||
			strings.Contains(strings.ToLower(ct.first+" "+ct.last), term) ||
			// A wider match than the address: the same domain.
			strings.Contains(term, "@") && strings.HasSuffix(strings.ToLower(ct.email), term[strings.LastIndex(term, "@"):]))
	})
	out := make([]map[string]any, 0, len(found))
	for _, ct := range found {
		// The recorded search answer carries fewer fields than a contact.
		out = append(out, map[string]any{
			"clientId": nullID(ct.clientID), "email": ct.email, "phone": nil, "firstName": nullable(ct.first),
			"title": nil, "id": ct.id, "lastName": nullable(ct.last), "linkedinUrl": nil, "mobile": nil,
		})
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// v2PageMax is the largest page the v2 search gives, whatever size asks.
// docs/evidence.md: sizes of 200 used by a live client; the maximum is unknown.
const v2PageMax = 200

// searchContactsV2 is GET /v2/contact/search?page=P&size=S. docs/evidence.md:
// {"data":[…],"page","last",…} with totalElements and totalPages; pages
// 0-based; modifiedAfter=YYYY-MM-DD and sortBy=modifiedTime accepted; a
// contact carries id, uuid, email, firstName, lastName, tenantClientId,
// tenantClient, createdTime, modifiedTime. modifiedAfter is read as a UTC
// day and keeps contacts modified on that day or later (its exact meaning
// is unknown: callers should overlap by a day).
func (c *CRM) searchContactsV2(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c.mu.Lock()
	down := c.v2Down
	c.mu.Unlock()
	if down {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	page, err1 := strconv.Atoi(q.Get("page"))
	size, err2 := strconv.Atoi(q.Get("size"))
	if q.Get("page") == "" {
		page, err1 = 0, nil
	}
	if q.Get("size") == "" {
		size, err2 = 20, nil
	}
	if err1 != nil || err2 != nil || page < 0 || size < 1 {
		writeError(w, http.StatusBadRequest, "page and size must be numbers")
		return
	}
	size = min(size, v2PageMax)
	var after time.Time
	if s := q.Get("modifiedAfter"); s != "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "modifiedAfter must be YYYY-MM-DD")
			return
		}
		after = d
	}
	c.mu.Lock()
	found := c.sortedContacts(func(ct *contact) bool { return !ct.modified.Before(after) })
	if q.Get("sortBy") == "modifiedTime" {
		// The direction is unknown (docs/evidence.md): newest first unless
		// SetDirectoryOldestFirst.
		sort.SliceStable(found, func(i, j int) bool {
			if c.oldestFirst {
				return found[i].modified.Before(found[j].modified)
			}
			return found[i].modified.After(found[j].modified)
		})
	}
	total := len(found)
	pages := (total + size - 1) / size
	data := []map[string]any{}
	for i := page * size; i < min(total, (page+1)*size); i++ {
		ct := found[i]
		cl := c.clients[ct.clientID]
		v := map[string]any{
			"id": ct.id, "uuid": ct.uuid, "email": ct.email,
			"firstName": nullable(ct.first), "lastName": nullable(ct.last),
			// The published schema's object (docs/evidence.md).
			"tenantClient": map[string]any{"id": cl.ID, "uuid": fmt.Sprintf("c-%d", cl.ID), "name": cl.Name, "status": "Active"},
			"createdTime":  when(ct.created, ct.id), "modifiedTime": when(ct.modified, ct.id+1),
		}
		if ct.clientID == 0 {
			v["tenantClient"], v["tenantClientId"] = nil, nil
		} else if ct.id%2 == 0 {
			// Half the contacts carry tenantClientId too; the others
			// only the object, whose id must then be read.
			v["tenantClientId"] = ct.clientID
		}
		data = append(data, v)
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"data": data, "page": page, "size": size, "last": page >= pages-1,
		"totalElements": total, "totalPages": pages,
	})
}

// listClients is GET /clients. docs/evidence.md: an array, clients in one call.
func (c *CRM) listClients(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	out := make([]map[string]any, 0, len(c.clients))
	for _, cl := range c.clients {
		out = append(out, clientJSON(cl))
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i]["id"].(int64) < out[j]["id"].(int64) })
	writeJSON(w, http.StatusOK, out)
}

func clientJSON(cl crm.Client) map[string]any {
	return map[string]any{"id": cl.ID, "name": cl.Name, "externalId": nil, "statusId": 1}
}

// client finds the {id} of the path; it answers 404 and returns false when
// there is no such client (docs/evidence.md: unknown ids 404).
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

// getClient is GET /clients/{id}: the object with id and name.
func (c *CRM) getClient(w http.ResponseWriter, r *http.Request) {
	if cl, ok := c.client(w, r); ok {
		writeJSON(w, http.StatusOK, clientJSON(cl))
	}
}

// clientContacts is GET /clients/{id}/contacts: an array.
func (c *CRM) clientContacts(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.client(w, r)
	if !ok {
		return
	}
	c.mu.Lock()
	out := []map[string]any{}
	for _, ct := range c.sortedContacts(func(ct *contact) bool { return ct.clientID == cl.ID }) {
		out = append(out, c.v1Contact(ct))
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// interactionJSON is an interaction as GET answers it. docs/evidence.md
// (GET /v1/clients/{id}/interactions): id, note, createdDateTime, clientId,
// interactionTypeId, contactIds, subject, to/cc/from, threadId, sourceId,
// emailMessageMeta — no interactionDate. The note comes back in the form
// set by SetNoteForm.
func (c *CRM) interactionJSON(in interaction) map[string]any {
	return map[string]any{
		"id": in.id, "clientId": in.clientID, "interactionTypeId": in.typeID, "subject": in.subject,
		"note": storedNote(in.note, c.noteForm, in.id), "createdDateTime": when(in.created, in.id),
		"contactIds": in.contactIDs, "to": nil, "cc": nil, "from": nil,
		"threadId": nil, "sourceId": nil, "emailMessageMeta": nil,
	}
}

// listInteractions is GET /clients/{id}/interactions?page=P. docs/evidence.md:
// an array; the one public reader sends no page parameter, so v1 paging is
// unknown: the fake ignores ?page= (the first 100, oldest first, whatever
// is asked) unless SetV1Paging, and then answers 0-based pages of 100.
func (c *CRM) listInteractions(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.client(w, r)
	if !ok {
		return
	}
	page, err := strconv.Atoi(r.URL.Query().Get("page"))
	if r.URL.Query().Get("page") == "" {
		page, err = 0, nil
	}
	if err != nil || page < 0 {
		writeError(w, http.StatusBadRequest, "page must be a number")
		return
	}
	c.mu.Lock()
	if !c.v1PagesOK {
		page = 0
	}
	var mine []interaction
	for _, in := range c.interactions {
		if in.clientID == cl.ID {
			mine = append(mine, in)
		}
	}
	out := []map[string]any{}
	for i := page * InteractionsPageSize; i < min(len(mine), (page+1)*InteractionsPageSize); i++ {
		out = append(out, c.interactionJSON(mine[i]))
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// getInteraction is GET /clients/{id}/interactions/{iid}, where a Location
// header points.
func (c *CRM) getInteraction(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.client(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("iid"), 10, 64)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, in := range c.interactions {
		if in.clientID == cl.ID && in.id == id {
			writeJSON(w, http.StatusOK, c.interactionJSON(in))
			return
		}
	}
	writeError(w, http.StatusNotFound, "Interaction not found")
}

// createInteraction is POST /clients/{id}/interactions. docs/evidence.md: body
// interactionTypeId (1–8), subject, note, interactionDate as YYYY-MM-DD
// (the only public writer), contactIds. Recorded creates answer 201 or 200
// with the object, a refused create once answered 200 null, and only
// hand-written stubs an empty body with a relative Location: the fake
// gives all of these, the last rarely (see CreateMixed; a contact of
// another client is refused with null). Like
// the real API it has no idempotency: posting the same body twice creates
// two.
func (c *CRM) createInteraction(w http.ResponseWriter, r *http.Request) {
	cl, ok := c.client(w, r)
	if !ok {
		return
	}
	var v struct {
		InteractionTypeID *int    `json:"interactionTypeId"`
		Subject           *string `json:"subject"`
		InteractionDate   *string `json:"interactionDate"`
		Note              string  `json:"note"`
		ContactIDs        []int64 `json:"contactIds"`
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
	case v.InteractionDate == nil:
		writeError(w, http.StatusBadRequest, "interactionDate is required")
		return
	}
	if _, err := time.Parse(time.DateOnly, *v.InteractionDate); err != nil {
		// Only YYYY-MM-DD is evidenced; anything else is refused.
		writeError(w, http.StatusBadRequest, "interactionDate must be YYYY-MM-DD")
		return
	}
	c.mu.Lock()
	for _, id := range v.ContactIDs {
		if ct, ok := c.contacts[id]; !ok || ct.clientID != cl.ID {
			c.mu.Unlock()
			writeJSON(w, http.StatusOK, nil)
			return
		}
	}
	in := interaction{
		id:         c.newID(),
		clientID:   cl.ID,
		typeID:     *v.InteractionTypeID,
		subject:    *v.Subject,
		date:       *v.InteractionDate,
		note:       v.Note,
		contactIDs: append([]int64(nil), v.ContactIDs...),
		created:    c.now(),
	}
	c.interactions = append(c.interactions, in)
	answer := c.create
	c.creates++
	if answer == CreateMixed {
		switch {
		case c.creates%10 == 0:
			answer = CreateLocation
		case c.creates%2 == 0:
			answer = CreateObject200
		default:
			answer = CreateObject
		}
	}
	out := c.interactionJSON(in)
	switch answer {
	case CreateLocation:
		c.stats.CreatedWithLocation++
	case CreateObject200:
		c.stats.CreatedWithBody++
		c.stats.CreatedWith200++
	default:
		c.stats.CreatedWithBody++
	}
	c.mu.Unlock()
	switch answer {
	case CreateLocation:
		// Relative, as the hand-written stubs give it.
		w.Header().Set("Location", "/v1/clients/"+strconv.FormatInt(cl.ID, 10)+"/interactions/"+strconv.FormatInt(in.id, 10))
		w.WriteHeader(http.StatusCreated)
	case CreateObject200:
		writeJSON(w, http.StatusOK, out)
	default:
		writeJSON(w, http.StatusCreated, out)
	}
}

// notePageMax is the largest page the v2 note search gives, whatever size
// asks: the maximum is unknown (docs/evidence.md), so the fake gives fewer than
// a reader is likely to ask for.
const notePageMax = 50

// searchNotes is GET /v2/clientNote/search?clientId=&page=&size=. docs/evidence.md
// (GET /v1/clients/{id}/interactions): the documented, paged way to read a
// timeline, answering the v2 page object {"data","page","first","last",
// "size","totalPages","totalElements"}; a public client reads id, subject,
// interactionTypeId, createdTime, note and sanitizedNote. Whether e-mail
// interactions are among the notes is unknown; the fake lists them (the
// other answer leaves nothing to read). The order is unknown: oldest
// first, so what was posted last is on the last page. See SetNoteSearch
// for the adverse answers.
func (c *CRM) searchNotes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, err := strconv.ParseInt(q.Get("clientId"), 10, 64)
	page, err1 := strconv.Atoi(q.Get("page"))
	size, err2 := strconv.Atoi(q.Get("size"))
	if q.Get("page") == "" {
		page, err1 = 0, nil
	}
	if q.Get("size") == "" {
		size, err2 = 20, nil
	}
	if err != nil || err1 != nil || err2 != nil || page < 0 || size < 1 {
		writeError(w, http.StatusBadRequest, "clientId, page and size must be numbers")
		return
	}
	size = min(size, notePageMax)
	c.mu.Lock()
	mode := c.noteSearch
	if _, ok := c.clients[clientID]; !ok {
		c.mu.Unlock()
		writeError(w, http.StatusNotFound, "Client not found")
		return
	}
	if mode == NotesUnreadable {
		c.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"result": "ok", "notes": "see the client page"})
		return
	}
	asked := page
	if mode == NotesIgnorePage {
		page = 0
	}
	var mine []interaction
	for _, in := range c.interactions {
		if in.clientID == clientID {
			mine = append(mine, in)
		}
	}
	total := len(mine)
	pages := (total + size - 1) / size
	data := []map[string]any{}
	for i := page * size; i < min(total, (page+1)*size); i++ {
		in := mine[i]
		data = append(data, map[string]any{
			"id": in.id, "clientId": in.clientID, "interactionTypeId": in.typeID, "subject": in.subject,
			"note": storedNote(in.note, c.noteForm, in.id), "sanitizedNote": noteText(in.note),
			"createdTime": when(in.created, in.id), "contactIds": in.contactIDs,
		})
	}
	c.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"data": data, "page": asked, "first": asked == 0, "last": page >= pages-1, "size": size,
		"totalElements": total, "totalPages": pages,
	})
}
