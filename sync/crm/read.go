package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"mailsync/sync/remote"
)

// The readers below take an answer's bytes and accept every shape public
// evidence shows ClientSuccess giving (and the plausible neighbours): one
// object, an array or null; numbers as JSON numbers or numeric strings;
// dates as YYYY-MM-DD, RFC 3339, zone-less or epoch milliseconds; a list
// bare or wrapped in {"data":…} / {"content":…}. What they cannot read is
// a *shapeError naming the keys and types that came back, never a value.

// shapeError says that an answer had a shape the reader cannot use.
type shapeError struct {
	want string // what was expected, in words: "a contact object or null"
	got  string // the shape that came: keys and types
}

func (e *shapeError) Error() string {
	return fmt.Sprintf("expected %s, got %s", e.want, e.got)
}

// errShape is matched by errors.Is for every *shapeError.
var errShape = errors.New("unreadable answer")

func (e *shapeError) Is(target error) bool { return target == errShape }

func unreadable(want string, raw []byte) error {
	return &shapeError{want: want, got: shapeOf(raw)}
}

// shapeWords describe an answer in the words of ClientSuccess errors:
// "boolean", "object" for an object too deep to show, keys cut and quoted.
var shapeWords = remote.ShapeWords{Bool: "boolean", Array: "array", Folded: "object", More: "…%d more", Key: safeKey}

// shapeOf describes JSON without its values: "object{id:number,
// note:string}", "array[3] of object{…}", "null", or "not JSON (N bytes)".
func shapeOf(raw []byte) string {
	shape, _ := shapeWords.Shape(raw)
	return shape
}

// safeKey keeps a key printable and short: keys are names, but an answer
// could use values as keys.
func safeKey(k string) string {
	if len(k) > 32 {
		k = k[:32] + "…"
	}
	return strconv.Quote(k)[1 : len(strconv.Quote(k))-1]
}

type object = map[string]json.RawMessage

func isNull(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// decodeObject reads raw as an object; ok is false for anything else.
func decodeObject(raw []byte) (object, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var o object
	if json.Unmarshal(raw, &o) != nil {
		return nil, false
	}
	return o, true
}

// decodeList reads raw as an array, or as an object wrapping one under
// "data", "content", "results" or "items"; ok is false for anything else.
func decodeList(raw []byte) ([]json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var l []json.RawMessage
		if json.Unmarshal(raw, &l) != nil {
			return nil, false
		}
		return l, true
	}
	if o, ok := decodeObject(raw); ok {
		for _, k := range []string{"data", "content", "results", "items"} {
			if v, ok := o[k]; ok {
				if isNull(v) {
					return nil, true
				}
				return decodeList(v)
			}
		}
	}
	return nil, false
}

// field returns the first of keys present and not null in o.
func field(o object, keys ...string) (json.RawMessage, bool) {
	for _, k := range keys {
		if v, ok := o[k]; ok && !isNull(v) {
			return v, true
		}
	}
	return nil, false
}

// readID reads an id: a JSON integer or a string of digits. Ids are
// positive: anything else gives 0 and false, so that a caller keeping the
// value whatever ok says never keeps a negative id.
func readID(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		raw = []byte(strings.TrimSpace(s))
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(raw), 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, false
		}
		n = int64(f)
	}
	if n <= 0 {
		return 0, false
	}
	return n, true
}

func readString(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func readBool(raw json.RawMessage) (bool, bool) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	if s, ok := readString(raw); ok {
		b, err := strconv.ParseBool(s)
		return b, err == nil
	}
	return false, false
}

// readInt reads a count (a type id, expires_in): 0 or a positive integer
// that fits in 32 bits; anything else gives 0 and false.
func readInt(raw json.RawMessage) (int, bool) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "0" || string(raw) == `"0"` {
		return 0, true
	}
	n, ok := readID(raw)
	if !ok || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// timeLayouts are the date and date-time forms ClientSuccess answers with
// (docs/evidence.md: bare YYYY-MM-DD common, date-times as ISO 8601), without
// and with a zone; zone-less ones are read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	time.DateOnly,
}

// readTime reads a date or date-time string, or epoch milliseconds (a
// number or a string of digits).
func readTime(raw json.RawMessage) (time.Time, bool) {
	if s, ok := readString(raw); ok {
		s = strings.TrimSpace(s)
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t, true
			}
		}
		raw = json.RawMessage(s)
	}
	ms, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || ms < 0 || ms > 1e14 {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}

// readContact reads one contact object: v1 has clientId; the v2 search has
// tenantClientId (the v1 client id) and tenantClient, an object {id, uuid,
// name, status} in the published schema (docs/evidence.md) or the client's name;
// its id is used when tenantClientId is missing, a name is never taken for
// an id. ok is false without an id or a client.
func readContact(raw json.RawMessage) (Contact, bool) {
	o, ok := decodeObject(raw)
	if !ok {
		return Contact{}, false
	}
	var c Contact
	v, ok := field(o, "id", "contactId")
	if !ok {
		return Contact{}, false
	}
	if c.ID, ok = readID(v); !ok {
		return Contact{}, false
	}
	if v, ok := field(o, "clientId", "tenantClientId"); ok {
		c.ClientID, _ = readID(v)
	}
	if c.ClientID == 0 {
		if v, ok := field(o, "tenantClient", "client"); ok {
			if co, ok := decodeObject(v); ok {
				if id, ok := field(co, "id"); ok {
					c.ClientID, _ = readID(id)
				}
			}
		}
	}
	if c.ClientID == 0 {
		return Contact{}, false
	}
	readContactNames(o, &c)
	if v, ok := field(o, "modifiedTime", "modifiedDateTime", "modifiedDate", "lastModifiedDate"); ok {
		c.Modified, _ = readTime(v)
	}
	return c, true
}

// readEach reads every element of a list with read; ok is false when one
// cannot be read.
func readEach[T any](l []json.RawMessage, read func(json.RawMessage) (T, bool)) ([]T, bool) {
	out := make([]T, 0, len(l))
	for _, e := range l {
		v, ok := read(e)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// readContacts reads GET /contacts?email= (docs/evidence.md: one object or
// null) and GET /contacts/search (an array), accepting either shape from
// either call.
//
// A contact without a client (docs/evidence.md: unknown whether they occur) is
// left out: nothing can be copied to it. A contact without an id, or an
// element that is not an object, makes the answer unreadable.
func readContacts(raw []byte) ([]Contact, error) {
	const want = "a contact object, an array of contacts, or null"
	if isNull(raw) {
		return nil, nil
	}
	if l, ok := decodeList(raw); ok {
		var out []Contact
		for _, e := range l {
			c, why := readDirectoryContact(e)
			switch {
			case why == noClient:
			case why != "":
				return nil, unreadable(want, raw)
			default:
				out = append(out, c)
			}
		}
		return out, nil
	}
	switch c, why := readDirectoryContact(raw); why {
	case "":
		return []Contact{c}, nil
	case noClient:
		return nil, nil
	}
	return nil, unreadable(want, raw)
}

// readContactPage reads a page of GET /v2/contact/search: {"data":[…],
// "page","last",…}. When "last" is missing it is worked out from
// totalPages, or from a page shorter than size. A contact that cannot be
// used (no client, no id) is left out with the reason in Skipped instead of
// making the whole page unreadable: one odd contact must not hide the
// others.
func readContactPage(raw []byte, page, size int) (ContactPage, error) {
	const want = `a page object {"data":[contacts],"last":…}`
	o, ok := decodeObject(raw)
	if !ok {
		return ContactPage{}, unreadable(want, raw)
	}
	l, ok := decodeList(raw)
	if !ok {
		return ContactPage{}, unreadable(want, raw)
	}
	var p ContactPage
	for _, e := range l {
		c, why := readDirectoryContact(e)
		if why != "" {
			p.Skipped = append(p.Skipped, why)
			continue
		}
		p.Contacts = append(p.Contacts, c)
	}
	p.Last, _ = pageEnd(o, page, size, len(l))
	return p, nil
}

// readDirectoryContact reads one contact of the v2 search, or says in
// words, without its values, why it cannot be used.
func readDirectoryContact(raw json.RawMessage) (Contact, string) {
	o, ok := decodeObject(raw)
	if !ok {
		return Contact{}, "a contact that is not an object (" + shapeOf(raw) + ")"
	}
	if v, ok := field(o, "id", "contactId"); !ok {
		return Contact{}, "a contact without an id"
	} else if _, ok := readID(v); !ok {
		return Contact{}, "a contact whose id is not a number"
	}
	c, ok := readContact(raw)
	if !ok {
		return Contact{}, noClient
	}
	return c, ""
}

// noClient is why a contact without a client is left out.
const noClient = "a contact without a client"

// pageEnd reads the paging fields of a v2 page object o holding n
// elements, asked for as page (0-based) of size: whether it is the last
// ("last", else totalPages, else a page shorter than the size it says it
// has or, when it says none, than size; an empty page
// always is, so a server that never says "last" cannot keep a caller
// asking forever), and the page number it says it is (-1 when none).
func pageEnd(o object, page, size, n int) (last bool, answered int) {
	if hasInt(o, "size") {
		// The size the service used, which may be less than asked.
		if s, _ := readInt(o["size"]); s > 0 {
			size = s
		}
	}
	switch {
	case hasBool(o, "last"):
		last, _ = readBool(o["last"])
	case hasInt(o, "totalPages"):
		t, _ := readInt(o["totalPages"])
		last = page+1 >= t
	default:
		last = n < size
	}
	if n == 0 {
		last = true
	}
	answered = -1
	for _, k := range []string{"page", "number", "pageNumber"} {
		if hasInt(o, k) {
			answered, _ = readInt(o[k])
			break
		}
	}
	return last, answered
}

// readNotePage reads a page of GET /v2/clientNote/search: the v2 page
// object {"data":[notes],"page","last",…} (docs/evidence.md). Every note must be
// readable: the page is read to find an upload, and a note left out could
// be the one looked for.
func readNotePage(raw []byte, page, size int) (InteractionPage, error) {
	const want = `a page object {"data":[notes],"last":…}`
	o, ok := decodeObject(raw)
	if !ok {
		return InteractionPage{}, unreadable(want, raw)
	}
	l, ok := decodeList(raw)
	if !ok {
		return InteractionPage{}, unreadable(want, raw)
	}
	ins, ok := readEach(l, readInteraction)
	if !ok {
		return InteractionPage{}, unreadable(want, raw)
	}
	p := InteractionPage{Interactions: ins}
	p.Last, p.Page = pageEnd(o, page, size, len(l))
	if !hasBool(o, "last") && !hasInt(o, "totalPages") && !hasInt(o, "size") && len(l) > 0 {
		// A short page says nothing when the page size is unknown (the
		// service may give fewer than asked): only an empty page ends.
		p.Last = false
	}
	return p, nil
}

func hasBool(o object, k string) bool {
	v, ok := field(o, k)
	if !ok {
		return false
	}
	_, ok = readBool(v)
	return ok
}

func hasInt(o object, k string) bool {
	v, ok := field(o, k)
	if !ok {
		return false
	}
	_, ok = readInt(v)
	return ok
}

// readClients reads GET /clients: an array of client objects (docs/evidence.md),
// or a page object wrapping one.
func readClients(raw []byte) ([]Client, error) {
	const want = "an array of clients"
	if isNull(raw) {
		return nil, nil
	}
	l, ok := decodeList(raw)
	if !ok {
		return nil, unreadable(want, raw)
	}
	out, ok := readEach(l, func(e json.RawMessage) (Client, bool) {
		c, err := readClient(e)
		return c, err == nil
	})
	if !ok {
		return nil, unreadable(want, raw)
	}
	return out, nil
}

// readClient reads GET /clients/{id}.
func readClient(raw []byte) (Client, error) {
	o, ok := decodeObject(raw)
	if ok {
		if v, ok := field(o, "id"); ok {
			if id, ok := readID(v); ok {
				c := Client{ID: id}
				if v, ok := field(o, "name"); ok {
					c.Name, _ = readString(v)
				}
				return c, nil
			}
		}
	}
	return Client{}, unreadable(`a client object {"id","name"}`, raw)
}

// readInteraction reads one interaction object (docs/evidence.md: id, note,
// createdDateTime, clientId, interactionTypeId, contactIds, subject, …; no
// interactionDate).
func readInteraction(raw json.RawMessage) (Interaction, bool) {
	o, ok := decodeObject(raw)
	if !ok {
		return Interaction{}, false
	}
	var in Interaction
	v, ok := field(o, "id")
	if !ok {
		return Interaction{}, false
	}
	if in.ID, ok = readID(v); !ok {
		return Interaction{}, false
	}
	if v, ok := field(o, "note", "sanitizedNote"); ok {
		if in.Note, ok = readString(v); !ok {
			return Interaction{}, false
		}
	}
	if v, ok := field(o, "clientId"); ok {
		in.ClientID, _ = readID(v)
	}
	if v, ok := field(o, "interactionTypeId"); ok {
		in.InteractionTypeID, _ = readInt(v)
	}
	if v, ok := field(o, "subject"); ok {
		in.Subject, _ = readString(v)
	}
	if v, ok := field(o, "createdDateTime", "createdDate", "createdTime"); ok {
		in.Created, _ = readTime(v)
	}
	if v, ok := field(o, "interactionDate"); ok {
		in.InteractionDate, _ = readTime(v)
	}
	if v, ok := field(o, "contactIds"); ok {
		var ids []json.RawMessage
		if json.Unmarshal(v, &ids) == nil {
			for _, e := range ids {
				if id, ok := readID(e); ok {
					in.ContactIDs = append(in.ContactIDs, id)
				}
			}
		}
	}
	return in, true
}

// readInteractions reads one page of GET /clients/{id}/interactions: an
// array (docs/evidence.md), or a page object wrapping one.
func readInteractions(raw []byte) ([]Interaction, error) {
	const want = "an array of interactions"
	if isNull(raw) {
		return nil, nil
	}
	l, ok := decodeList(raw)
	if !ok {
		return nil, unreadable(want, raw)
	}
	out, ok := readEach(l, readInteraction)
	if !ok {
		return nil, unreadable(want, raw)
	}
	return out, nil
}

// errRefused is a create answered 2xx with the body null: docs/evidence.md (POST
// /v1/clients/{id}/interactions) records a refused create answering 200
// null.
var errRefused = errors.New("refused without a reason")

// readCreated reads the answer to a create: 201 with the object (its id),
// 201 with an empty body and a Location header ending in the new id, or
// 200 null (refused). docs/evidence.md: all three occur.
func readCreated(raw []byte, location string) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && string(raw) != "null" {
		if in, ok := readInteraction(raw); ok {
			return in.ID, nil
		}
		if o, ok := decodeObject(raw); ok {
			if v, ok := field(o, "data"); ok {
				if in, ok := readInteraction(v); ok {
					return in.ID, nil
				}
			}
		}
	}
	if location != "" {
		if id, ok := idOfLocation(location); ok {
			return id, nil
		}
		return 0, &shapeError{want: "a Location ending in the new id", got: "a Location without one"}
	}
	if string(raw) == "null" {
		return 0, errRefused
	}
	return 0, unreadable("the created object, or an empty body with a Location header", raw)
}

// idOfLocation reads the id at the end of a Location URL or path.
func idOfLocation(loc string) (int64, bool) {
	u, err := url.Parse(strings.TrimSpace(loc))
	if err != nil {
		return 0, false
	}
	return readID(json.RawMessage(path.Base(strings.TrimRight(u.Path, "/"))))
}

// readAuth reads POST /auth: {"access_token","token_type","expires_in"}
// (docs/evidence.md), expires_in a number or a numeric string.
func readAuth(raw []byte) (AuthResponse, error) {
	o, ok := decodeObject(raw)
	var a AuthResponse
	if ok {
		if v, ok := field(o, "access_token", "accessToken", "token"); ok {
			a.AccessToken, _ = readString(v)
		}
		if v, ok := field(o, "token_type"); ok {
			a.TokenType, _ = readString(v)
		}
		if v, ok := field(o, "expires_in", "expiresIn"); ok {
			// A lifetime past 32 bits of seconds is read as the longest
			// one, not as none: the token is still good.
			if n, ok := readID(v); ok {
				a.ExpiresIn = int(min(n, math.MaxInt32))
			}
		}
	}
	if a.AccessToken == "" {
		return AuthResponse{}, unreadable(`{"access_token","expires_in"}`, raw)
	}
	return a, nil
}

// readErrorMessage returns the human text of an error answer, shortened:
// userMessage (docs/evidence.md: {"userMessage":…} on 4xx), else message, else
// the code of an OAuth-style {"error":…}. error_description is never read:
// the recorded invalid_token answers repeat the token in it.
func readErrorMessage(raw []byte) string {
	o, ok := decodeObject(raw)
	if !ok {
		return ""
	}
	for _, k := range []string{"userMessage", "message", "error"} {
		if v, ok := field(o, k); ok {
			if s, ok := readString(v); ok && strings.TrimSpace(s) != "" {
				s = strings.Join(strings.Fields(s), " ")
				if r := []rune(s); len(r) > 200 {
					s = string(r[:200]) + "…"
				}
				return s
			}
		}
	}
	return ""
}

// readCreatedContact reads the answer to POST /clients/{id}/contacts: the
// contact object (docs/evidence.md "POST /v1/clients/{id}/contacts": the
// recordings answer 200 with it; 201 and a {"data":…} wrapper are read
// too), an empty body with a Location ending in the new id (hand-written
// stubs), or null (refused, as a refused interaction create). The client
// the answer names is kept; an answer that names none is the client asked
// for.
func readCreatedContact(raw []byte, location string, clientID int64) (Contact, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && string(raw) != "null" {
		o, ok := decodeObject(raw)
		if ok {
			if v, ok := field(o, "data"); ok {
				if inner, ok := decodeObject(v); ok {
					o = inner
				}
			}
			if c, ok := readNewContact(o, clientID); ok {
				return c, nil
			}
		}
		return Contact{}, unreadable("the created contact (an object with its id)", raw)
	}
	if location != "" {
		if id, ok := idOfLocation(location); ok {
			return Contact{ID: id, ClientID: clientID}, nil
		}
		return Contact{}, &shapeError{want: "a Location ending in the new contact's id", got: "a Location without one"}
	}
	if string(raw) == "null" {
		return Contact{}, errRefused
	}
	return Contact{}, unreadable("the created contact, or an empty body with a Location header", raw)
}

// readNewContact reads a created contact's object: its id, and its client
// when the object names one (else clientID).
func readNewContact(o object, clientID int64) (Contact, bool) {
	v, ok := field(o, "id", "contactId")
	if !ok {
		return Contact{}, false
	}
	id, ok := readID(v)
	if !ok {
		return Contact{}, false
	}
	b, _ := json.Marshal(o)
	c, ok := readContact(b)
	if !ok {
		// No client in the answer (or one not read as an id): the one
		// asked for.
		c = Contact{ID: id, ClientID: clientID}
		readContactNames(o, &c)
	}
	return c, true
}

// readContactNames reads a contact's address and names from o, those that
// are strings.
func readContactNames(o map[string]json.RawMessage, c *Contact) {
	if v, ok := field(o, "email", "emailAddress"); ok {
		c.Email, _ = readString(v)
	}
	if v, ok := field(o, "firstName"); ok {
		c.FirstName, _ = readString(v)
	}
	if v, ok := field(o, "lastName"); ok {
		c.LastName, _ = readString(v)
	}
}
