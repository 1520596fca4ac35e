// Package crm is the ClientSuccess API client: it signs in with the
// person's username and password, reads the tenant's contacts (the v2
// contact search, or v1 look-ups by e-mail address), reads clients and their
// interactions, and creates the Email interactions that a pass uploads.
//
// ClientSuccess answers the same call in several shapes (one object, an
// array or null; dates in four forms; a new id in the body or in Location);
// the readers in read.go accept them all. An answer in a shape they cannot
// read is an error that names the call and the keys and types that came
// back, never a value, and is not retried: asking again would get the same.
//
// Every failure is a *remote.Error (Service "crm") whose Kind tells the engine
// whether to retry later, give up on the item, or ask the person to sign in to
// ClientSuccess again. Reads are retried through remote.ShouldRetry;
// CreateInteraction is retried only when ClientSuccess surely did not apply
// it, because the API has no idempotency key (see IsAmbiguous).
package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"mailsync/sync/remote"
)

// ErrBadCredentials means ClientSuccess refused the username or password.
// Login and every call that has to log in return it wrapped in a
// *remote.Error of Kind NeedsReconnect; test with errors.Is.
var ErrBadCredentials = errors.New(badCredentials)

// ErrMaintenance means ClientSuccess answered with its HTML maintenance page.
// It is returned wrapped in a *remote.Error of Kind Transient: a later pass
// will try again. Test with errors.Is.
var ErrMaintenance = errors.New(maintenance)

// ErrAmbiguous means a request that changes data may or may not have been
// applied: it was sent, but no complete answer came back (connection reset,
// timeout, truncated answer, a 5xx other than 503). It is returned wrapped in
// a *remote.Error of Kind Transient. The caller must look for the result
// before sending the request again. Test with IsAmbiguous.
var ErrAmbiguous = errors.New(ambiguous)

// IsAmbiguous reports whether err says that the change may have been applied
// even though it failed, so that sending it again could duplicate it. It is
// false for failures where the change surely was not made (refused
// connection, throttling, maintenance, validation errors).
func IsAmbiguous(err error) bool { return errors.Is(err, ErrAmbiguous) }

// refreshMargin is how long before its expiry a token is replaced, so that a
// request never starts with a token about to run out.
const refreshMargin = 5 * time.Minute

// maxAnswer bounds the size of an answer read into memory: a longer one is
// not read at all (errTooLarge), rather than cut and decoded in part. A
// variable for tests.
var maxAnswer = 32 << 20

// errTooLarge: an answer longer than maxAnswer.
var errTooLarge = errors.New("answer too large")

// API is a ClientSuccess client. It logs in lazily, keeps the access token
// in memory only, and is safe for concurrent use; at most MaxInFlight of
// its requests are in flight at once. A Retry-After that
// ClientSuccess sends holds every request of the API until it has passed,
// not only the one that met it: throttling is per account, so requests
// running alongside would be refused too. Policy may be changed
// before the first call only. (It is not called Client because in
// ClientSuccess's words a Client is a customer account; see type Client.)
type API struct {
	// Policy is the retry policy; NewClient sets remote.DefaultPolicy.
	Policy remote.Policy

	baseURL  string
	v2URL    string
	username string
	password func() (string, error)
	hc       *http.Client

	// loginSem serialises logins (a 1-slot semaphore rather than a mutex so
	// that waiting for it honours the context): concurrent calls that find
	// the token stale share one POST /auth.
	loginSem chan struct{}

	// pause holds every request while a Retry-After runs (see API).
	pause remote.Pause

	// slots bounds the requests in flight (see MaxInFlight).
	slots chan struct{}

	mu        sync.Mutex
	token     string
	refreshAt time.Time
}

// NewClient returns a client for the ClientSuccess API at baseURL (for
// example https://api.clientsuccess.com/v1); the v2 routes are at the same
// place with /v2 for /v1. password is called each time a
// token is needed (it reads the keyring), so the password is held no longer
// than one login. hc may be nil: remote.NewHTTPClient(nil) is used, whose
// timeout bounds every request. Redirects follow remote.CheckRedirect whatever
// hc says, so the password and the token never reach another host.
func NewClient(baseURL, username string, password func() (string, error), hc *http.Client) *API {
	return &API{
		Policy:   remote.DefaultPolicy,
		baseURL:  strings.TrimRight(baseURL, "/"),
		v2URL:    strings.TrimSuffix(strings.TrimRight(baseURL, "/"), "/v1") + "/v2",
		username: username,
		password: password,
		hc:       remote.GuardRedirects(hc),
		loginSem: make(chan struct{}, 1),
		slots:    make(chan struct{}, MaxInFlight),
	}
}

// MaxInFlight is how many requests one API has in flight at once, whatever
// its callers do: ClientSuccess publishes no limit, and a desktop app
// copying one person's mail should not look like a load test.
const MaxInFlight = 4

// Login signs in with POST /auth now, replacing any token held. Wrong
// credentials give ErrBadCredentials (Kind NeedsReconnect); the maintenance
// page gives ErrMaintenance.
func (a *API) Login(ctx context.Context) error {
	if err := a.acquireLogin(ctx); err != nil {
		return err
	}
	defer a.releaseLogin()
	return a.login(ctx)
}

// ContactsByEmail returns the contacts whose address is email, through GET
// /contacts?email= (ClientSuccess compares it case-insensitively; it
// answers one contact or null, so at most one of several clients' contacts
// with that address). No contact is an empty result, not an error.
func (a *API) ContactsByEmail(ctx context.Context, email string) ([]Contact, error) {
	var out []Contact
	q := "/contacts?email=" + url.QueryEscape(email)
	err := a.do(ctx, call{op: "look up contact", method: http.MethodGet, path: q, auth: true,
		read: func(_ http.Header, b []byte) (err error) { out, err = readContacts(b); return err }})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FindContacts returns the contacts whose address equals email
// case-insensitively, through GET /contacts/search?term='email' (whose term
// matches more than the exact address; the rest is dropped). Unlike
// ContactsByEmail it finds the contacts of every client with that address.
func (a *API) FindContacts(ctx context.Context, email string) ([]Contact, error) {
	var all []Contact
	q := "/contacts/search?term=" + url.QueryEscape("'"+email+"'")
	err := a.do(ctx, call{op: "search contacts", method: http.MethodGet, path: q, auth: true,
		read: func(_ http.Header, b []byte) (err error) { all, err = readContacts(b); return err }})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, c := range all {
		if strings.EqualFold(strings.TrimSpace(c.Email), strings.TrimSpace(email)) {
			out = append(out, c)
		}
	}
	return out, nil
}

// ContactSearchPageSize is the page size SearchContacts asks for when given
// none: the size a live client uses.
const ContactSearchPageSize = 200

// SearchContacts returns page (0-based) of the tenant's contacts from the v2
// contact search, size contacts at most (ContactSearchPageSize when size <=
// 0), in order of modification. When modifiedAfter is not zero only
// contacts modified since its calendar day (in its own location) are
// asked for: the API takes a day, not an instant, so callers should
// overlap by a day. Each contact carries its id, client id, address and,
// when ClientSuccess says, when it was modified. An account that cannot
// use the v2 search gets a Permanent error with Status 404 or 403.
func (a *API) SearchContacts(ctx context.Context, page, size int, modifiedAfter time.Time) (ContactPage, error) {
	if size <= 0 {
		size = ContactSearchPageSize
	}
	q := url.Values{}
	q.Set("page", strconv.Itoa(max(page, 0)))
	q.Set("size", strconv.Itoa(size))
	q.Set("sortBy", "modifiedTime")
	if !modifiedAfter.IsZero() {
		q.Set("modifiedAfter", modifiedAfter.Format(time.DateOnly))
	}
	var out ContactPage
	err := a.do(ctx, call{op: "search contacts (v2)", method: http.MethodGet, path: "/contact/search?" + q.Encode(), v2: true, auth: true,
		read: func(_ http.Header, b []byte) (err error) { out, err = readContactPage(b, page, size); return err }})
	return out, err
}

// Clients returns every client of the tenant, from GET /clients (one
// request, whatever their number).
func (a *API) Clients(ctx context.Context) ([]Client, error) {
	var out []Client
	err := a.do(ctx, call{op: "list clients", method: http.MethodGet, path: "/clients", auth: true,
		read: func(_ http.Header, b []byte) (err error) { out, err = readClients(b); return err }})
	return out, err
}

// GetClient returns the client with the given id; an unknown id is a
// Permanent error with Status 404.
func (a *API) GetClient(ctx context.Context, id int64) (Client, error) {
	var out Client
	err := a.do(ctx, call{op: "get client", method: http.MethodGet, path: "/clients/" + strconv.FormatInt(id, 10), auth: true,
		read: func(_ http.Header, b []byte) (err error) { out, err = readClient(b); return err }})
	return out, err
}

// InteractionsPage returns one page (0-based) of the interactions on a
// client's timeline, from v1 GET /clients/{id}/interactions?page=N. Public
// evidence shows no client sending a page parameter (docs/evidence.md): v1 may
// ignore it. Reconciliation reads the v2 note search instead (EachNote).
func (a *API) InteractionsPage(ctx context.Context, clientID int64, page int) ([]Interaction, error) {
	var out []Interaction
	p := interactionsPath(clientID) + "?page=" + strconv.Itoa(page)
	err := a.do(ctx, call{op: "list interactions", method: http.MethodGet, path: p, auth: true,
		read: func(_ http.Header, b []byte) (err error) { out, err = readInteractions(b); return err }})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// InteractionsPageSize is how many interactions a page of
// GET /clients/{id}/interactions holds (a public client reads it in pages
// of 100).
const InteractionsPageSize = 100

// maxInteractionPages bounds one listing, so that a server that ignored the
// page parameter and kept answering full pages could not keep a caller
// reading forever: 1,000 pages is 100,000 interactions on one timeline.
const maxInteractionPages = 1000

// ErrIncomplete means a paged listing could not be read to its end: the
// service answered the same page twice or another page than the one asked
// for (it ignores the page parameter), or the pages did not end within the
// cap. What was read says nothing about what was not. It is returned
// wrapped in a *remote.Error of Kind Transient; test with errors.Is.
var ErrIncomplete = errors.New(incompleteList)

// incomplete is the error of a listing that could not be read to its end.
func incomplete(op, why string) error {
	return &remote.Error{Service: "crm", Op: op, Kind: remote.Transient,
		Message: fmt.Sprintf(incompleteWhy, why), Err: ErrIncomplete}
}

// pager tells when a paged listing cannot be trusted: a page that repeats
// the one before, a page other than the one asked for, or more pages than
// max. Its zero value with max set is ready.
type pager struct {
	op   string
	max  int
	prev []int64
}

// check takes the ids of page (0-based) as answered, and the page number
// the answer says it is (-1 when it says none); it returns an
// ErrIncomplete error when the listing cannot be trusted.
func (g *pager) check(page, answered int, ids []int64) error {
	if page >= g.max {
		return incomplete(g.op, fmt.Sprintf("more than %d pages", g.max))
	}
	if answered >= 0 && answered != page {
		return incomplete(g.op, fmt.Sprintf("page %d was asked for, page %d came", page, answered))
	}
	if page > 0 && len(ids) > 0 && slices.Equal(ids, g.prev) {
		return incomplete(g.op, "the same page came twice")
	}
	g.prev = ids
	return nil
}

// EachInteraction calls fn with every interaction on a client's timeline,
// from v1, page by page, until fn returns false or the pages end. A page
// that repeats the one before (a server ignoring the page parameter), or
// more than maxInteractionPages, is an ErrIncomplete error: the listing
// cannot be trusted to be whole.
func (a *API) EachInteraction(ctx context.Context, clientID int64, fn func(Interaction) bool) error {
	g := pager{op: "list interactions", max: maxInteractionPages}
	for page := 0; ; page++ {
		ins, err := a.InteractionsPage(ctx, clientID, page)
		if err != nil {
			return err
		}
		if len(ins) == 0 {
			return nil
		}
		if err := g.check(page, -1, idsOf(ins)); err != nil {
			return err
		}
		for _, in := range ins {
			if !fn(in) {
				return nil
			}
		}
		if len(ins) < InteractionsPageSize {
			return nil
		}
	}
}

func idsOf(ins []Interaction) []int64 {
	ids := make([]int64, len(ins))
	for i, in := range ins {
		ids[i] = in.ID
	}
	return ids
}

// Interactions returns every interaction on a client's timeline, reading
// all its v1 pages (see EachInteraction).
func (a *API) Interactions(ctx context.Context, clientID int64) ([]Interaction, error) {
	var out []Interaction
	err := a.EachInteraction(ctx, clientID, func(in Interaction) bool { out = append(out, in); return true })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NotePageSize is the page size EachNote asks the v2 note search for.
const NotePageSize = 100

// maxNotePages bounds one reading of a timeline through the note search:
// 2,000 pages is 200,000 notes when the size asked for is honoured.
const maxNotePages = 2000

// NotesPage returns one page (0-based) of the notes on a client's timeline
// (its interactions, e-mails included) from the documented, paged v2
// search GET /v2/clientNote/search?clientId=&page=&size= (docs/evidence.md).
func (a *API) NotesPage(ctx context.Context, clientID int64, page, size int) (InteractionPage, error) {
	if size <= 0 {
		size = NotePageSize
	}
	q := url.Values{}
	q.Set("clientId", strconv.FormatInt(clientID, 10))
	q.Set("page", strconv.Itoa(max(page, 0)))
	q.Set("size", strconv.Itoa(size))
	var out InteractionPage
	err := a.do(ctx, call{op: "search notes", method: http.MethodGet, path: "/clientNote/search?" + q.Encode(), v2: true, auth: true,
		read: func(_ http.Header, b []byte) (err error) { out, err = readNotePage(b, page, size); return err }})
	return out, err
}

// EachNote calls fn with every note on a client's timeline, reading the v2
// note search one page at a time (only one page is held), until fn
// returns false or the pages end; then it returns nil. When the timeline
// cannot be read to its end it returns an error and the caller must
// conclude nothing from what fn saw: an answer in a shape that cannot be
// read (Permanent), a page that repeats the one before or is another than
// the one asked for, or more than maxNotePages (ErrIncomplete, Transient).
// A 404 may mean the client is gone or the search unavailable: ask
// GetClient which.
func (a *API) EachNote(ctx context.Context, clientID int64, fn func(Interaction) bool) error {
	g := pager{op: "search notes", max: maxNotePages}
	for page := 0; ; page++ {
		p, err := a.NotesPage(ctx, clientID, page, NotePageSize)
		if err != nil {
			return err
		}
		if len(p.Interactions) == 0 {
			return nil
		}
		if err := g.check(page, p.Page, idsOf(p.Interactions)); err != nil {
			return err
		}
		for _, in := range p.Interactions {
			if !fn(in) {
				return nil
			}
		}
		if p.Last {
			return nil
		}
	}
}

// CreateInteraction adds in to the timeline of client clientID and returns
// it with its new id (read from the answer's body or its Location header).
// It is retried only when ClientSuccess surely did not apply it
// (throttling, 503, refused connection, expired token). When the outcome is
// unknown it returns an error for which IsAmbiguous is true, and the caller
// must look the interaction up before posting again. A create that
// ClientSuccess answers with null was refused: a Permanent error.
func (a *API) CreateInteraction(ctx context.Context, clientID int64, in Interaction) (Interaction, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return Interaction{}, &remote.Error{Service: "crm", Op: "create interaction", Kind: remote.Permanent,
			Message: notEncoded, Err: err}
	}
	var id int64
	err = a.do(ctx, call{op: "create interaction", method: http.MethodPost, path: interactionsPath(clientID),
		body: body, auth: true, unsafe: true,
		read: func(h http.Header, b []byte) (err error) { id, err = readCreated(b, h.Get("Location")); return err }})
	if err != nil {
		return Interaction{}, err
	}
	out := in
	out.ID, out.ClientID = id, clientID
	return out, nil
}

func interactionsPath(clientID int64) string {
	return "/clients/" + strconv.FormatInt(clientID, 10) + "/interactions"
}

// call describes one API request.
type call struct {
	op     string // what is being done, for errors: "look up contact"
	method string
	path   string // below the v1 (or v2) base, with its query
	v2     bool   // under the v2 base
	body   []byte // JSON, or nil
	auth   bool   // send the access token (every request but POST /auth)
	// unsafe requests change data and have no idempotency key: they are not
	// repeated when the server may have applied them.
	unsafe bool
	// read takes a 2xx answer; nil ignores it. A *shapeError from it is a
	// shape Mail Sync cannot read.
	read func(h http.Header, body []byte) error
}

// do sends k, retrying as the policy and k.unsafe allow, and hands a 2xx
// answer to k.read.
func (a *API) do(ctx context.Context, k call) error {
	reauthed := false
	for attempt := 1; ; attempt++ {
		if err := a.pause.Wait(ctx); err != nil {
			return a.stopped(ctx, k, err, false)
		}
		var token string
		if k.auth {
			t, err := a.currentToken(ctx)
			if err != nil {
				return err
			}
			token = t
		}
		resp, body, err := a.send(ctx, k, token)
		if errors.Is(err, errTooLarge) {
			// Asking again would get the same answer. A change may have
			// been made.
			msg := fmt.Sprintf("ClientSuccess's answer was larger than %d MB", maxAnswer>>20)
			if k.unsafe {
				return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient, Status: resp.StatusCode,
					Message: msg, Err: fmt.Errorf("%w: %w", ErrAmbiguous, err)}
			}
			return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Permanent, Status: resp.StatusCode, Message: msg, Err: err}
		}
		if err != nil {
			if ctx.Err() != nil {
				return a.stopped(ctx, k, err, true)
			}
			var redirect *remote.RedirectError
			if errors.As(err, &redirect) {
				// ClientSuccess answered with a redirect the policy refuses:
				// the same request would be redirected again.
				return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Permanent,
					Message: "ClientSuccess " + redirect.Reason, Err: err}
			}
			if k.unsafe && !remote.NeverConnected(err) {
				return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient,
					Message: brokeBeforeConfirm,
					Err:     fmt.Errorf("%w: %w", ErrAmbiguous, err)}
			}
			retry, wait := remote.ShouldRetry(ctx, a.Policy, attempt, nil, err)
			if !retry {
				return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient,
					Message: unreachable, Err: err}
			}
			if err := remote.Sleep(ctx, wait); err != nil {
				return a.stopped(ctx, k, err, false)
			}
			continue
		}
		if d, ok := remote.RetryAfterWait(a.Policy, resp); ok {
			a.pause.Extend(d)
		}
		if isHTML(resp, body) {
			// The maintenance page: ClientSuccess did not process the request.
			// Maintenance lasts far longer than a retry budget, so the pass
			// ends here and a later one tries again.
			return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient, Status: resp.StatusCode,
				Message: ErrMaintenance.Error(), Err: ErrMaintenance}
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && k.auth:
			if reauthed {
				return &remote.Error{Service: "crm", Op: k.op, Kind: remote.NeedsReconnect, Status: resp.StatusCode,
					Message: signInRefused}
			}
			// The token expired or was revoked early: log in once more and
			// repeat. A 401 means the request was not applied, so this is
			// safe for unsafe requests too, and it does not use an attempt.
			reauthed = true
			a.forget(token)
			attempt--
			continue
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			if k.read == nil {
				return nil
			}
			if !k.unsafe && len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
				// Not JSON at all: a garbled answer to a read is treated
				// like a truncated one and asked again, within the policy.
				retry, wait := remote.ShouldRetry(ctx, a.Policy, attempt, nil, io.ErrUnexpectedEOF)
				if !retry {
					return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient, Status: resp.StatusCode,
						Message: fmt.Sprintf(answerUnreadable, shapeOf(body))}
				}
				if err := remote.Sleep(ctx, wait); err != nil {
					return a.stopped(ctx, k, err, false)
				}
				continue
			}
			return a.readError(k, resp.StatusCode, k.read(resp.Header, body))
		}
		retry, wait := remote.ShouldRetry(ctx, a.Policy, attempt, resp, nil)
		if k.unsafe && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
			// Only throttling and 503 say for sure that nothing was done.
			retry = false
		}
		if !retry {
			if ctx.Err() != nil {
				return a.stopped(ctx, k, ctx.Err(), false)
			}
			return statusError(k, resp, body)
		}
		if err := remote.Sleep(ctx, wait); err != nil {
			return a.stopped(ctx, k, err, false)
		}
	}
}

// readError turns what k.read said about a 2xx answer into the call's
// error. A shape it cannot read is never retried: asking again would get
// the same answer. For a change that came back 2xx it is ambiguous (the
// change was probably made; the caller looks it up), for a read permanent.
func (a *API) readError(k call, status int, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errRefused) {
		return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Permanent, Status: status,
			Message: refusedNull, Err: err}
	}
	msg := shapeUnreadable + err.Error()
	if k.unsafe {
		return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient, Status: status,
			Message: msg, Err: fmt.Errorf("%w: %w", ErrAmbiguous, err)}
	}
	return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Permanent, Status: status, Message: msg, Err: err}
}

// send makes one HTTP request and reads the whole answer. An error means no
// complete answer arrived; errTooLarge comes with the response.
func (a *API) send(ctx context.Context, k call, token string) (*http.Response, []byte, error) {
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	base := a.baseURL
	if k.v2 {
		base = a.v2URL
	}
	req, err := http.NewRequestWithContext(ctx, k.method, base+k.path, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		// ClientSuccess wants the bare token; "Bearer <token>" is refused.
		req.Header.Set("Authorization", token)
	}
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-a.slots }()
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(maxAnswer)+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > maxAnswer {
		return resp, nil, errTooLarge
	}
	return resp, b, nil
}

// stopped is the error for a call ended by its context. When the request of
// an unsafe call may have been sent (inFlight), the outcome is ambiguous.
func (a *API) stopped(ctx context.Context, k call, err error, inFlight bool) error {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	if k.unsafe && inFlight {
		err = fmt.Errorf("%w: %w", ErrAmbiguous, err)
	}
	return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient,
		Message: stoppedBeforeAnswer, Err: err}
}

// isHTML reports an HTML page (the maintenance page), by its Content-Type
// or, when that is missing or wrong, by its first bytes.
func isHTML(resp *http.Response, body []byte) bool {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err == nil && mt == "text/html" {
		return true
	}
	b := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 64)]))
	return bytes.HasPrefix(b, []byte("<!doctype html")) || bytes.HasPrefix(b, []byte("<html"))
}

// statusError turns a final non-2xx answer into a *remote.Error. For an
// unsafe call, a 5xx other than 503 leaves the outcome unknown.
func statusError(k call, resp *http.Response, body []byte) error {
	e := &remote.Error{Service: "crm", Op: k.op, Status: resp.StatusCode}
	detail := readErrorMessage(body)
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.Kind, e.Message = remote.Transient, busy
	case s == http.StatusServiceUnavailable:
		e.Kind, e.Message = remote.Transient, unavailable
	case s >= 500:
		e.Kind, e.Message = remote.Transient, fmt.Sprintf(serverProblem, s)
		if k.unsafe {
			e.Err = ErrAmbiguous
		}
	case s == http.StatusNotFound:
		e.Kind, e.Message = remote.Permanent, unknownToCRM
	case s == http.StatusForbidden:
		e.Kind, e.Message = remote.Permanent, notAllowed
	case s == http.StatusUnauthorized:
		e.Kind, e.Message = remote.NeedsReconnect, signInRefused
	default:
		e.Kind, e.Message = remote.Permanent, fmt.Sprintf(refusedStatus, s)
	}
	if detail != "" {
		e.Message += ": " + detail
	}
	return e
}

// currentToken returns a token valid for at least refreshMargin, logging in
// when there is none.
func (a *API) currentToken(ctx context.Context) (string, error) {
	if t := a.fresh(); t != "" {
		return t, nil
	}
	if err := a.acquireLogin(ctx); err != nil {
		return "", err
	}
	defer a.releaseLogin()
	// Another call may have logged in while this one waited.
	if t := a.fresh(); t != "" {
		return t, nil
	}
	if err := a.login(ctx); err != nil {
		return "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.token, nil
}

func (a *API) fresh() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && time.Now().Before(a.refreshAt) {
		return a.token
	}
	return ""
}

// forget drops token if it is still the current one, so that of several
// calls refused with the same token only the first logs in again.
func (a *API) forget(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == token {
		a.token = ""
	}
}

func (a *API) acquireLogin(ctx context.Context) error {
	select {
	case a.loginSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &remote.Error{Service: "crm", Op: "log in", Kind: remote.Transient,
			Message: stoppedBeforeAnswer, Err: ctx.Err()}
	}
}

func (a *API) releaseLogin() { <-a.loginSem }

// login runs POST /auth; the caller holds loginSem.
func (a *API) login(ctx context.Context) error {
	const op = "log in"
	pw, err := a.password()
	if err != nil {
		return &remote.Error{Service: "crm", Op: op, Kind: remote.NeedsReconnect,
			Message: passwordUnreadable, Err: err}
	}
	body, err := json.Marshal(struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}{a.username, pw})
	if err != nil {
		return &remote.Error{Service: "crm", Op: op, Kind: remote.Permanent, Message: signInNotEncoded}
	}
	var ans AuthResponse
	err = a.do(ctx, call{op: op, method: http.MethodPost, path: "/auth", body: body,
		read: func(_ http.Header, b []byte) (err error) { ans, err = readAuth(b); return err }})
	if err != nil {
		var re *remote.Error
		if errors.As(err, &re) && !errors.Is(err, ErrMaintenance) &&
			(re.Status == http.StatusUnauthorized || re.Status == http.StatusForbidden || re.Status == http.StatusBadRequest) {
			// /auth takes nothing but the username and password, so a
			// refusal is about them.
			return &remote.Error{Service: "crm", Op: op, Kind: remote.NeedsReconnect, Status: re.Status,
				Message: ErrBadCredentials.Error(), Err: ErrBadCredentials}
		}
		return err
	}
	if ans.AccessToken == "" || ans.ExpiresIn <= 0 {
		return &remote.Error{Service: "crm", Op: op, Kind: remote.Transient,
			Message: noToken}
	}
	life := time.Duration(ans.ExpiresIn) * time.Second
	// A token shorter-lived than twice the margin (only seen in tests) is
	// replaced at half its life instead of on every call.
	margin := min(refreshMargin, life/2)
	a.mu.Lock()
	a.token = ans.AccessToken
	a.refreshAt = time.Now().Add(life - margin)
	a.mu.Unlock()
	return nil
}

// CreateContact adds a contact with c's address and names to client
// clientID (POST /v1/clients/{id}/contacts) and returns it with its new
// id. docs/evidence.md "POST /v1/clients/{id}/contacts": recorded creates
// answer 200 with the contact; the answer is read in every plausible shape
// (201, a data wrapper, an empty body with a Location). Like
// CreateInteraction it is not repeated when ClientSuccess may have applied
// it: such an error is IsAmbiguous, and the caller looks the address up
// before creating it again. A create answered null was refused: a
// Permanent error.
func (a *API) CreateContact(ctx context.Context, clientID int64, c Contact) (Contact, error) {
	type wire struct {
		Email     string `json:"email"`
		FirstName string `json:"firstName,omitempty"`
		LastName  string `json:"lastName,omitempty"`
	}
	body, err := json.Marshal(wire{strings.TrimSpace(c.Email), strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)})
	if err != nil {
		return Contact{}, &remote.Error{Service: "crm", Op: "create contact", Kind: remote.Permanent,
			Message: "the contact could not be encoded", Err: err}
	}
	var out Contact
	err = a.do(ctx, call{op: "create contact", method: http.MethodPost, path: contactsPath(clientID),
		body: body, auth: true, unsafe: true,
		read: func(h http.Header, b []byte) (err error) {
			out, err = readCreatedContact(b, h.Get("Location"), clientID)
			return err
		}})
	if err != nil {
		return Contact{}, err
	}
	if out.Email == "" {
		out.Email = strings.TrimSpace(c.Email)
	}
	if out.FirstName == "" && out.LastName == "" {
		out.FirstName, out.LastName = strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	}
	return out, nil
}

func contactsPath(clientID int64) string {
	return "/clients/" + strconv.FormatInt(clientID, 10) + "/contacts"
}
