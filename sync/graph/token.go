package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"mailsync/sync/remote"
)

// TokenRetry is how a TokenSource retries a token endpoint that is down or
// slow. It is short on purpose: Token runs inside a Graph request, and a
// sign-in service that stays down is retried by the next pass.
var TokenRetry = remote.Policy{MaxAttempts: 3, BaseDelay: 500 * time.Millisecond, MaxDelay: 10 * time.Second}

// TokenSource is an oauth2.TokenSource for Microsoft Graph that renews the
// access token with the refresh token. It is safe for concurrent use;
// concurrent callers share one renewal.
//
// A renewal ends when the context given to NewTokenSource ends, or when the
// caller's does (TokenContext; the requests of Client pass their own), so
// that cancelling a pass or the source stops a renewal in flight at once
// instead of after the token endpoint's timeouts. A caller waiting for
// another's renewal stops waiting when its own context ends.
//
// Microsoft rotates the refresh token on every renewal. The new refresh
// token is handed to save before the new access token is returned to anyone,
// so a crash right after a renewal loses nothing; save is called only when
// the refresh token changed. If save fails, the token is kept in memory, the
// error is returned, and the next Token call saves again before answering.
//
// When Microsoft refuses the refresh token (invalid_grant and the like),
// Token returns a *remote.Error of Kind remote.NeedsReconnect with the reason
// in words, and keeps returning it without asking Microsoft again: only a new
// sign-in (a new TokenSource) helps. A token endpoint that is down or slow
// gives a remote.Transient error, retried a few times, never NeedsReconnect.
type TokenSource struct {
	// Retry is the retry policy for the token endpoint; set it before first
	// use. NewTokenSource sets TokenRetry.
	Retry remote.Policy

	ctx  context.Context
	cfg  *oauth2.Config
	save func(refreshToken string) error

	lock        chan struct{} // 1-slot: held by the caller reading or renewing the token
	refresh     string
	access      *oauth2.Token // nil when a renewal is needed
	unsaved     bool          // refresh changed but save has not succeeded yet
	reconnectEr error         // sticky NeedsReconnect
}

// NewTokenSource returns a TokenSource that renews tokens with cfg at its
// token endpoint, starting from refreshToken. ctx bounds every renewal (and
// may carry an *http.Client under oauth2.HTTPClient; otherwise one from
// remote.NewHTTPClient is used; either way its redirects follow
// remote.CheckRedirect, so the refresh token never reaches another host). save stores a rotated refresh token, usually
// in the keyring.
func NewTokenSource(ctx context.Context, cfg *oauth2.Config, refreshToken string, save func(refreshToken string) error) *TokenSource {
	hc, _ := ctx.Value(oauth2.HTTPClient).(*http.Client)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, remote.GuardRedirects(hc))
	return &TokenSource{Retry: TokenRetry, ctx: ctx, cfg: cfg, save: save, refresh: refreshToken, lock: make(chan struct{}, 1)}
}

// Token returns a valid access token, renewing it when it expired or was
// invalidated. See TokenSource for the contract on saving and errors.
func (ts *TokenSource) Token() (*oauth2.Token, error) { return ts.TokenContext(context.Background()) }

// TokenContext is Token bounded by ctx as well: it stops waiting for a
// renewal in flight, and stops its own renewal, when ctx ends.
func (ts *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	select {
	case ts.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("graph: wait for the token renewal in flight: %w", ctx.Err())
	}
	defer func() { <-ts.lock }()
	if ts.reconnectEr != nil {
		return nil, ts.reconnectEr
	}
	if ts.unsaved {
		if err := ts.save(ts.refresh); err != nil {
			return nil, fmt.Errorf("graph: save refresh token: %w", err)
		}
		ts.unsaved = false
	}
	if ts.access.Valid() {
		return ts.access, nil
	}
	if ts.refresh == "" {
		ts.reconnectEr = &remote.Error{Service: "graph", Op: "renew sign-in", Kind: remote.NeedsReconnect,
			Message: notConnected}
		return nil, ts.reconnectEr
	}
	tok, err := ts.renew(ctx)
	if err != nil {
		if remote.IsNeedsReconnect(err) {
			ts.reconnectEr = err
		}
		return nil, err
	}
	if tok.RefreshToken == "" {
		// The endpoint may omit the refresh token when it did not rotate it.
		tok.RefreshToken = ts.refresh
	}
	if tok.RefreshToken != ts.refresh {
		ts.refresh = tok.RefreshToken
		// Keep the access token even if saving fails: the old refresh
		// token may already be spent, so the new one must not be lost.
		ts.access = tok
		if err := ts.save(ts.refresh); err != nil {
			ts.unsaved = true
			return nil, fmt.Errorf("graph: save refresh token: %w", err)
		}
	}
	ts.access = tok
	return tok, nil
}

// Invalidate drops the cached access token, so that the next Token renews
// it. Call it when Graph answered 401 with a token that had not expired.
func (ts *TokenSource) Invalidate() {
	ts.lock <- struct{}{}
	ts.access = nil
	<-ts.lock
}

// Client returns an HTTP client that sends ts's access token on every
// request. Its transport is the *http.Client under oauth2.HTTPClient in ctx,
// or one from remote.NewHTTPClient. A request's own context bounds the
// renewal it may wait for.
func (ts *TokenSource) Client(ctx context.Context) *http.Client {
	base, ok := ctx.Value(oauth2.HTTPClient).(*http.Client)
	if !ok {
		base = remote.NewHTTPClient(nil)
	}
	return &http.Client{
		Transport:     &bearer{ts: ts, base: base.Transport},
		Timeout:       base.Timeout,
		CheckRedirect: remote.CheckRedirect,
	}
}

// bearer is oauth2.Transport with the request's context handed to the
// token source (oauth2.TokenSource has no context).
type bearer struct {
	ts   *TokenSource
	base http.RoundTripper // nil: http.DefaultTransport
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := b.ts.TokenContext(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	tok.SetAuthHeader(r)
	base := b.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// renew asks the token endpoint for a new access token, retrying transient
// failures through remote.ShouldRetry within ts.Retry. It ends when ctx or
// the source's context ends.
func (ts *TokenSource) renew(ctx context.Context) (*oauth2.Token, error) {
	// ts.ctx carries the HTTP client; ctx only adds its end.
	rctx, cancel := context.WithCancel(ts.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	for attempt := 1; ; attempt++ {
		tok, err := refreshGrant(rctx, ts.cfg, ts.refresh)
		if err == nil {
			return tok, nil
		}
		classified := classifyTokenError("renew sign-in", err)
		if classified.Kind != remote.Transient {
			return nil, classified
		}
		var resp *http.Response
		netErr := err
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			resp, netErr = re.Response, nil
		}
		retry, wait := remote.ShouldRetry(rctx, ts.Retry, attempt, resp, netErr)
		if !retry || remote.Sleep(rctx, wait) != nil {
			return nil, classified
		}
	}
}

var aadstsPattern = regexp.MustCompile(`AADSTS(\d+)`)

// classifyTokenError turns a token endpoint failure into a *remote.Error:
// invalid_grant and the interaction errors need a new sign-in; 5xx, 429,
// timeouts and unreachable endpoints are transient; the rest is permanent.
// Message never carries a token.
func classifyTokenError(op string, err error) *remote.Error {
	e := &remote.Error{Service: "graph", Op: op, Err: err}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		e.Kind = remote.KindOf(err)
		if e.Kind == remote.Transient {
			e.Message = signInUnreachable
		} else {
			e.Message = signInUnreadable
		}
		return e
	}
	if re.Response != nil {
		e.Status = re.Response.StatusCode
	}
	aad := ""
	if m := aadstsPattern.FindStringSubmatch(re.ErrorDescription); m != nil {
		aad = m[1]
	}
	e.Code = re.ErrorCode
	if aad != "" {
		e.Code += " AADSTS" + aad
	}
	switch re.ErrorCode {
	case "invalid_grant", "interaction_required", "consent_required", "login_required":
		e.Kind = remote.NeedsReconnect
		e.Message = reconnectReasons[aad]
		if e.Message == "" {
			e.Message = signInRefused
		}
		return e
	case "invalid_client", "unauthorized_client":
		e.Kind = remote.Permanent
		e.Message = appRefused
		return e
	case "temporarily_unavailable":
		e.Kind = remote.Transient
		e.Message = signInUnavailable
		return e
	}
	if e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout {
		e.Kind = remote.Transient
		e.Message = signInUnavailable
		return e
	}
	e.Kind = remote.Permanent
	desc, _, _ := strings.Cut(strings.TrimSpace(re.ErrorDescription), "\n")
	if desc == "" {
		desc = fmt.Sprintf("HTTP %d", e.Status)
	}
	e.Message = "The Microsoft sign-in service refused the request: " + strings.TrimSpace(desc)
	return e
}

// AccountFromIDToken reads the account from an ID token's claims: name,
// preferred_username (else email, else upn) and tid.
//
// The signature is not verified, on purpose: the ID token is only used for
// display, and it came straight from the token endpoint over TLS in answer
// to our own code exchange, which OpenID Connect (section 3.1.3.7) allows to
// trust without a signature check. It is never used to authorize anything.
func AccountFromIDToken(idToken string) (Account, error) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return Account{}, errors.New("graph: read ID token: not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Account{}, fmt.Errorf("graph: read ID token: %w", err)
	}
	var c struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
		UPN               string `json:"upn"`
		TenantID          string `json:"tid"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return Account{}, fmt.Errorf("graph: read ID token claims: %w", err)
	}
	a := Account{Name: c.Name, TenantID: c.TenantID}
	for _, e := range []string{c.PreferredUsername, c.Email, c.UPN} {
		if strings.Contains(e, "@") {
			a.Email = e
			break
		}
	}
	if a.Email == "" {
		a.Email = c.PreferredUsername
	}
	return a, nil
}

// maxTokenAnswer bounds a token endpoint answer read into memory.
const maxTokenAnswer = 1 << 20

// maxTokenLifetime caps expires_in, in seconds (a day; Entra's access tokens
// last about an hour).
const maxTokenLifetime = 24 * 60 * 60

// refreshGrant redeems refreshToken at cfg's token endpoint with cfg.Scopes
// as scope, as MSAL does: the access token is then for exactly Mail Sync's
// scopes, even when the grant holds more (Mail.Send, consented to by older
// versions). x/oauth2's own refresh sends no scope, hence this request. A
// refused or unreadable answer is an *oauth2.RetrieveError, as x/oauth2
// gives, so that classifyTokenError reads both alike.
func refreshGrant(ctx context.Context, cfg *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"client_id":     {cfg.ClientID},
		"scope":         {strings.Join(cfg.Scopes, " ")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc, ok := ctx.Value(oauth2.HTTPClient).(*http.Client)
	if !ok {
		hc = remote.NewHTTPClient(nil)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswer))
	if err != nil {
		return nil, err
	}
	return parseTokenAnswer(resp, body)
}

// parseTokenAnswer reads a token endpoint answer (RFC 6749 section 5): a 2xx
// JSON object with access_token, or an error object. expires_in may be a
// number or a string of digits (both seen from Microsoft's endpoints); the
// other fields stay in Extra (id_token, scope).
func parseTokenAnswer(resp *http.Response, body []byte) (*oauth2.Token, error) {
	var raw map[string]any
	jsonErr := json.Unmarshal(body, &raw)
	str := func(k string) string {
		s, _ := raw[k].(string)
		return s
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || jsonErr != nil || str("access_token") == "" {
		re := &oauth2.RetrieveError{Response: resp, Body: body}
		if jsonErr == nil {
			re.ErrorCode, re.ErrorDescription, re.ErrorURI = str("error"), str("error_description"), str("error_uri")
		}
		if re.ErrorCode == "" && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			// A 2xx that is no token: as x/oauth2 says it, without the body.
			return nil, errors.New("oauth2: server response missing access_token")
		}
		return nil, re
	}
	tok := &oauth2.Token{
		AccessToken:  str("access_token"),
		TokenType:    str("token_type"),
		RefreshToken: str("refresh_token"),
	}
	var secs int64
	switch v := raw["expires_in"].(type) {
	case float64:
		secs = int64(min(v, maxTokenLifetime)) // converting a huge float is undefined
	case string:
		var err error
		if secs, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64); errors.Is(err, strconv.ErrRange) && secs > 0 {
			secs = maxTokenLifetime
		}
	}
	if secs > 0 {
		// An absurd lifetime must not overflow into an expired token.
		secs = min(secs, maxTokenLifetime)
		tok.ExpiresIn = secs
		tok.Expiry = time.Now().Add(time.Duration(secs) * time.Second)
	}
	return tok.WithExtra(raw), nil
}
