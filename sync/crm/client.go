// Package crm is the ClientSuccess v1 API client: it signs in with the
// person's username and password, looks contacts up by e-mail address, reads
// clients and their interactions, and creates the Email interactions that a
// pass uploads.
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
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mailsync/sync/remote"
)

// ErrBadCredentials means ClientSuccess refused the username or password.
// Login and every call that has to log in return it wrapped in a
// *remote.Error of Kind NeedsReconnect; test with errors.Is.
var ErrBadCredentials = errors.New("ClientSuccess rejected the username or password")

// ErrMaintenance means ClientSuccess answered with its HTML maintenance page.
// It is returned wrapped in a *remote.Error of Kind Transient: a later pass
// will try again. Test with errors.Is.
var ErrMaintenance = errors.New("ClientSuccess is down for maintenance")

// ErrAmbiguous means a request that changes data may or may not have been
// applied: it was sent, but no complete answer came back (connection reset,
// timeout, truncated answer, a 5xx other than 503). It is returned wrapped in
// a *remote.Error of Kind Transient. The caller must look for the result
// before sending the request again. Test with IsAmbiguous.
var ErrAmbiguous = errors.New("ClientSuccess did not confirm whether the change was made")

// IsAmbiguous reports whether err says that the change may have been applied
// even though it failed, so that sending it again could duplicate it. It is
// false for failures where the change surely was not made (refused
// connection, throttling, maintenance, validation errors).
func IsAmbiguous(err error) bool { return errors.Is(err, ErrAmbiguous) }

// refreshMargin is how long before its expiry a token is replaced, so that a
// request never starts with a token about to run out.
const refreshMargin = 5 * time.Minute

// maxAnswer bounds the size of an answer read into memory.
const maxAnswer = 32 << 20

// API is a ClientSuccess v1 client. It logs in lazily, keeps the access token
// in memory only, and is safe for concurrent use. A Retry-After that
// ClientSuccess sends holds every request of the API until it has passed,
// not only the one that met it: throttling is per account, so requests
// running alongside would be refused too. Policy may be changed
// before the first call only. (It is not called Client because in
// ClientSuccess's words a Client is a customer account; see type Client.)
type API struct {
	// Policy is the retry policy; NewClient sets remote.DefaultPolicy.
	Policy remote.Policy

	baseURL  string
	username string
	password func() (string, error)
	hc       *http.Client

	// loginSem serialises logins (a 1-slot semaphore rather than a mutex so
	// that waiting for it honours the context): concurrent calls that find
	// the token stale share one POST /auth.
	loginSem chan struct{}

	// pause holds every request while a Retry-After runs (see API).
	pause remote.Pause

	mu        sync.Mutex
	token     string
	refreshAt time.Time
}

// NewClient returns a client for the ClientSuccess API at baseURL (for
// example https://api.clientsuccess.com/v1). password is called each time a
// token is needed (it reads the keyring), so the password is held no longer
// than one login. hc may be nil: remote.NewHTTPClient(nil) is used, whose
// timeout bounds every request. Redirects follow remote.CheckRedirect whatever
// hc says, so the password and the token never reach another host.
func NewClient(baseURL, username string, password func() (string, error), hc *http.Client) *API {
	return &API{
		Policy:   remote.DefaultPolicy,
		baseURL:  strings.TrimRight(baseURL, "/"),
		username: username,
		password: password,
		hc:       remote.GuardRedirects(hc),
		loginSem: make(chan struct{}, 1),
	}
}

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

// ContactsByEmail returns the contacts whose address is email (ClientSuccess
// compares it case-insensitively). No contact is an empty result, not an
// error.
func (a *API) ContactsByEmail(ctx context.Context, email string) ([]Contact, error) {
	var out []Contact
	q := "/contacts?email=" + url.QueryEscape(email)
	err := a.do(ctx, call{op: "look up contact", method: http.MethodGet, path: q, auth: true}, &out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetClient returns the client with the given id; an unknown id is a
// Permanent error with Status 404.
func (a *API) GetClient(ctx context.Context, id int64) (Client, error) {
	var out Client
	err := a.do(ctx, call{op: "get client", method: http.MethodGet, path: "/clients/" + strconv.FormatInt(id, 10), auth: true}, &out)
	return out, err
}

// Interactions returns the interactions on a client's timeline.
func (a *API) Interactions(ctx context.Context, clientID int64) ([]Interaction, error) {
	var out []Interaction
	err := a.do(ctx, call{op: "list interactions", method: http.MethodGet, path: interactionsPath(clientID), auth: true}, &out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateInteraction adds in to the timeline of client clientID and returns
// it as created, with its id. It is retried only when ClientSuccess surely
// did not apply it (throttling, 503, refused connection, expired token).
// When the outcome is unknown it returns an error for which IsAmbiguous is
// true, and the caller must look the interaction up before posting again.
func (a *API) CreateInteraction(ctx context.Context, clientID int64, in Interaction) (Interaction, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return Interaction{}, &remote.Error{Service: "crm", Op: "create interaction", Kind: remote.Permanent,
			Message: "the interaction could not be encoded", Err: err}
	}
	var out Interaction
	err = a.do(ctx, call{op: "create interaction", method: http.MethodPost, path: interactionsPath(clientID),
		body: body, auth: true, unsafe: true}, &out)
	if err != nil {
		return Interaction{}, err
	}
	if out.ID == 0 {
		// A 2xx without an id cannot be matched to what was posted.
		return Interaction{}, &remote.Error{Service: "crm", Op: "create interaction", Kind: remote.Transient,
			Message: "ClientSuccess answered without the new interaction's id", Err: ErrAmbiguous}
	}
	return out, nil
}

func interactionsPath(clientID int64) string {
	return "/clients/" + strconv.FormatInt(clientID, 10) + "/interactions"
}

// call describes one API request.
type call struct {
	op     string // what is being done, for errors: "look up contact"
	method string
	path   string // below baseURL, with its query
	body   []byte // JSON, or nil
	auth   bool   // send the access token (every request but POST /auth)
	// unsafe requests change data and have no idempotency key: they are not
	// repeated when the server may have applied them.
	unsafe bool
}

// do sends k, retrying as the policy and k.unsafe allow, and decodes a 2xx
// JSON answer into out.
func (a *API) do(ctx context.Context, k call, out any) error {
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
			if k.unsafe && !surelyNotSent(err) {
				return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient,
					Message: "the connection to ClientSuccess broke before it confirmed the change",
					Err:     fmt.Errorf("%w: %w", ErrAmbiguous, err)}
			}
			retry, wait := remote.ShouldRetry(ctx, a.Policy, attempt, nil, err)
			if !retry {
				return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient,
					Message: "could not reach ClientSuccess", Err: err}
			}
			if err := remote.Sleep(ctx, wait); err != nil {
				return a.stopped(ctx, k, err, false)
			}
			continue
		}
		if d, ok := remote.RetryAfterWait(a.Policy, resp); ok {
			a.pause.Extend(d)
		}
		if isHTML(resp) {
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
					Message: "ClientSuccess no longer accepts the sign-in; sign in to ClientSuccess again"}
			}
			// The token expired or was revoked early: log in once more and
			// repeat. A 401 means the request was not applied, so this is
			// safe for unsafe requests too, and it does not use an attempt.
			reauthed = true
			a.forget(token)
			attempt--
			continue
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			if out == nil {
				return nil
			}
			err := json.Unmarshal(body, out)
			if err == nil {
				return nil
			}
			if k.unsafe {
				return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient, Status: resp.StatusCode,
					Message: "ClientSuccess accepted the change but its answer could not be read",
					Err:     fmt.Errorf("%w: %w", ErrAmbiguous, err)}
			}
			// A garbled answer to a read is treated like a truncated one.
			retry, wait := remote.ShouldRetry(ctx, a.Policy, attempt, nil, io.ErrUnexpectedEOF)
			if !retry {
				return &remote.Error{Service: "crm", Op: k.op, Kind: remote.Transient, Status: resp.StatusCode,
					Message: "ClientSuccess's answer could not be read", Err: err}
			}
			if err := remote.Sleep(ctx, wait); err != nil {
				return a.stopped(ctx, k, err, false)
			}
			continue
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

// send makes one HTTP request and reads the whole answer. An error means no
// complete answer arrived.
func (a *API) send(ctx context.Context, k call, token string) (*http.Response, []byte, error) {
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, a.baseURL+k.path, body)
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
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, nil, err
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
		Message: "stopped before ClientSuccess answered", Err: err}
}

// surelyNotSent reports whether a transport error happened before any byte
// of the request could reach ClientSuccess.
func surelyNotSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

func isHTML(resp *http.Response) bool {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err == nil && mt == "text/html"
}

// statusError turns a final non-2xx answer into a *remote.Error. For an
// unsafe call, a 5xx other than 503 leaves the outcome unknown.
func statusError(k call, resp *http.Response, body []byte) error {
	e := &remote.Error{Service: "crm", Op: k.op, Status: resp.StatusCode}
	detail := serverMessage(body)
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.Kind, e.Message = remote.Transient, "ClientSuccess is busy; Mail Sync will try again later"
	case s == http.StatusServiceUnavailable:
		e.Kind, e.Message = remote.Transient, "ClientSuccess is unavailable; Mail Sync will try again later"
	case s >= 500:
		e.Kind, e.Message = remote.Transient, fmt.Sprintf("ClientSuccess had a problem (HTTP %d)", s)
		if k.unsafe {
			e.Err = ErrAmbiguous
		}
	case s == http.StatusNotFound:
		e.Kind, e.Message = remote.Permanent, "ClientSuccess does not know it (it may have been deleted)"
	case s == http.StatusForbidden:
		e.Kind, e.Message = remote.Permanent, "the ClientSuccess account is not allowed to do this"
	case s == http.StatusUnauthorized:
		e.Kind, e.Message = remote.NeedsReconnect, "ClientSuccess no longer accepts the sign-in; sign in to ClientSuccess again"
	default:
		e.Kind, e.Message = remote.Permanent, fmt.Sprintf("ClientSuccess refused the request (HTTP %d)", s)
	}
	if detail != "" && e.Kind == remote.Permanent {
		e.Message += ": " + detail
	}
	return e
}

// serverMessage extracts the human text of a JSON error answer, shortened.
func serverMessage(body []byte) string {
	var v struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	m := v.Message
	if m == "" {
		m = v.Error
	}
	if len(m) > 200 {
		m = m[:200] + "…"
	}
	return m
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
			Message: "stopped before ClientSuccess answered", Err: ctx.Err()}
	}
}

func (a *API) releaseLogin() { <-a.loginSem }

// login runs POST /auth; the caller holds loginSem.
func (a *API) login(ctx context.Context) error {
	const op = "log in"
	pw, err := a.password()
	if err != nil {
		return &remote.Error{Service: "crm", Op: op, Kind: remote.NeedsReconnect,
			Message: "the ClientSuccess password could not be read; sign in to ClientSuccess again", Err: err}
	}
	body, err := json.Marshal(struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}{a.username, pw})
	if err != nil {
		return &remote.Error{Service: "crm", Op: op, Kind: remote.Permanent, Message: "the sign-in could not be encoded"}
	}
	var ans AuthResponse
	err = a.do(ctx, call{op: op, method: http.MethodPost, path: "/auth", body: body}, &ans)
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
			Message: "ClientSuccess answered the sign-in without a token"}
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
