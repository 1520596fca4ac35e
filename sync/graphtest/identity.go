package graphtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IdentityClientID is the application (client) id the fake identity
// platform knows, as if registered in Entra as a public client with the
// redirect URI http://localhost. Other client ids are refused with
// AADSTS700016, as Entra refuses an unknown application.
const IdentityClientID = "6a5d0c1e-3b7f-4e8a-9c2d-5a1b0c2d3e4f"

// IdentityAccount is the one person who signs in to a fake identity
// platform. Empty fields get sandbox defaults.
type IdentityAccount struct {
	Name     string
	Email    string
	TenantID string
	ObjectID string
}

// IdentityStats counts what clients asked the identity platform.
type IdentityStats struct {
	TokenRequests     int // every request to /oauth2/v2.0/token, failed ones included
	AuthorizeRequests int // GET /oauth2/v2.0/authorize (sign-in pages asked for)
	// AuthorizeScope, RedemptionScope and RefreshScope are the scope
	// parameter of the last authorize request, code redemption and
	// refresh, as sent ("" when it was left out).
	AuthorizeScope, RedemptionScope, RefreshScope string
	// AuthorizeResponseMode is the response_mode of the last authorize
	// request, as sent.
	AuthorizeResponseMode string
}

// Identity is a fake Microsoft identity platform (Entra ID, v2.0 endpoints)
// on an httptest server. It serves {authority}/oauth2/v2.0/authorize and
// {authority}/oauth2/v2.0/token for any tenant segment ("organizations",
// "common", a tenant id).
//
// The authorize endpoint checks the request like Entra does (client id,
// loopback redirect URI, response_type=code, the scopes Mail Sync needs, a
// PKCE S256 challenge, a state) and answers the redirect URI the way
// response_mode asks (Entra v2-oauth2-auth-code-flow): query (the default for
// a code) as a 302 with the answer in the query, fragment in the fragment,
// form_post as an HTML page whose form POSTs code and state (and
// session_state, as Entra adds) to the redirect URI by itself, with a Submit
// button for a browser without script. It renders a sign-in page labelled
// "Microsoft 365 sandbox" with an Accept (id "accept") and a Cancel (id
// "cancel") button. The token endpoint redeems each code once, checks the
// redirect URI and the PKCE verifier, issues a new refresh token on every
// use (like Entra, the old one stays valid unless SpendRefreshTokens is on),
// and answers errors with
// Entra's JSON ({"error","error_description":"AADSTS…","error_codes"}).
//
// ID tokens are well-formed JWTs whose signature is random bytes: the fake
// has no signing key, and Mail Sync reads ID tokens for display only.
//
// An Identity is safe for concurrent use.
type Identity struct {
	srv *httptest.Server
	mux *http.ServeMux

	mu          sync.Mutex
	acct        IdentityAccount
	autoApprove bool
	spend       bool // a refresh token works once
	lifetime    time.Duration
	failStatus  int
	failN       int
	approval    *ApprovalRefusal      // how sign-ins are refused until an administrator approves
	approved    bool                  // an administrator approved the app through the admin-consent link
	pending     map[string]idpRequest // sign-in pages shown, by page id
	codes       map[string]*idpCode
	refresh     map[string]*idpRefresh
	access      map[string]time.Time // access token → expiry
	issued      []string
	stats       IdentityStats
}

type idpRequest struct {
	clientID, redirectURI, state, challenge, scope, nonce string
	responseMode                                          string
}

type idpCode struct {
	req     idpRequest
	used    bool
	expires time.Time
}

type idpRefresh struct {
	clientID, scope string
	used            bool
	revoked         string // AADSTS code, when revoked
}

// RequiredScopes are the scopes the fake's authorize endpoint insists on:
// what Mail Sync needs, no more (a sign-in may ask for more, as older
// versions asked for Mail.Send too).
var RequiredScopes = []string{"openid", "profile", "email", "User.Read", "offline_access", "Mail.Read"}

var scopeWords = map[string]string{
	"openid":         "Sign you in",
	"profile":        "View your basic profile",
	"email":          "View your email address",
	"user.read":      "Read your profile",
	"offline_access": "Maintain access to data you have given it access to",
	"mail.read":      "Read your mail",
	"mail.send":      "Send mail as you",
}

// NewIdentity starts a fake identity platform where acct signs in. Close it
// when done.
func NewIdentity(acct IdentityAccount) *Identity {
	if acct.Name == "" {
		acct.Name = "Alex Sandbox"
	}
	if acct.Email == "" {
		acct.Email = "alex@sandbox.example"
	}
	if acct.TenantID == "" {
		acct.TenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"
	}
	if acct.ObjectID == "" {
		acct.ObjectID = idpGUID()
	}
	id := &Identity{
		acct:     acct,
		lifetime: time.Hour,
		pending:  map[string]idpRequest{},
		codes:    map[string]*idpCode{},
		refresh:  map[string]*idpRefresh{},
		access:   map[string]time.Time{},
		mux:      http.NewServeMux(),
	}
	id.mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", id.authorizePage)
	id.mux.HandleFunc("POST /{tenant}/oauth2/v2.0/authorize", id.authorizeAnswer)
	id.mux.HandleFunc("/{tenant}/oauth2/v2.0/token", id.token)
	id.mux.HandleFunc("GET /{tenant}/v2.0/adminconsent", id.adminConsentPage)
	id.mux.HandleFunc("POST /{tenant}/v2.0/adminconsent", id.adminConsentAnswer)
	id.srv = httptest.NewServer(id.mux)
	return id
}

// Handler returns the HTTP handler of the fake, to mount it elsewhere.
func (id *Identity) Handler() http.Handler { return id.mux }

// URL is the base URL of the started server.
func (id *Identity) URL() string { return id.srv.URL }

// Authority is the authority to hand to graph.OAuthConfig: the server URL
// followed by the account's tenant id.
func (id *Identity) Authority() string { return id.srv.URL + "/" + id.acct.TenantID }

// ClientID is the client id the fake accepts (IdentityClientID).
func (id *Identity) ClientID() string { return IdentityClientID }

// Account is the account that signs in, with defaults filled in.
func (id *Identity) Account() IdentityAccount { return id.acct }

// Close shuts the server down.
func (id *Identity) Close() { id.srv.Close() }

// AutoApprove makes the authorize endpoint redirect straight back with a
// code, as if the person pressed Accept, for tests without a browser.
func (id *Identity) AutoApprove(on bool) {
	id.mu.Lock()
	id.autoApprove = on
	id.mu.Unlock()
}

// SpendRefreshTokens makes every refresh token work once: a second use is
// refused like a replay. Entra itself keeps an old refresh token valid after
// issuing a new one; the strict mode proves a client persists each new token
// before relying on it.
func (id *Identity) SpendRefreshTokens(on bool) {
	id.mu.Lock()
	id.spend = on
	id.mu.Unlock()
}

// SetAccessTokenLifetime sets the lifetime of access tokens issued from now
// on (an hour by default).
func (id *Identity) SetAccessTokenLifetime(d time.Duration) {
	id.mu.Lock()
	id.lifetime = d
	id.mu.Unlock()
}

// ApprovalRefusal is how the fake refuses a sign-in while the organisation
// has not approved the app (RequireApproval). Microsoft answers a consent
// problem in several shapes (docs/evidence.md "Microsoft Graph and Entra"; Entra error codes
// AADSTS65001, AADSTS90094, AADSTS90095):
//   - Code "" is the bare redirect error=access_denied&error_subcode=cancel
//     with no error_description, the same bytes as a person's Cancel:
//     what a person refused by the consent policy brings back from "Need
//     admin approval" → "Return to the application";
//   - Code "AADSTS65001", "AADSTS90094" or "AADSTS90095" on the redirect
//     (AtToken false): error=access_denied (consent_required for 65001)
//     with the code in error_description;
//   - the same codes with AtToken: the redirect carries a code, and the
//     token endpoint refuses to redeem it with invalid_grant (AtToken is
//     ignored for the bare answer, which only a redirect carries).
type ApprovalRefusal struct {
	Code    string
	AtToken bool
}

// RequireApproval makes every sign-in end the way r says until an
// administrator approves the app through the admin-consent endpoint
// ({tenant}/v2.0/adminconsent), or RequireApproval(nil) is called. Under
// AutoApprove the refusal comes back at once, as Entra sends it back
// without showing the consent page when the person cannot consent.
func (id *Identity) RequireApproval(r *ApprovalRefusal) {
	id.mu.Lock()
	defer id.mu.Unlock()
	if r == nil {
		id.approval = nil
		return
	}
	c := *r
	c.Code = strings.ToUpper(strings.TrimSpace(c.Code))
	if c.Code != "" && !strings.HasPrefix(c.Code, "AADSTS") {
		c.Code = "AADSTS" + c.Code
	}
	id.approval, id.approved = &c, false
}

// ParseApprovalRefusal reads a refusal as `mailsync demo --needs-approval`
// takes it: "cancel" (the bare answer), "65001", "90094" or "90095" (on the
// redirect), each of those followed by "@token" (from the token endpoint).
func ParseApprovalRefusal(s string) (*ApprovalRefusal, error) {
	code, where, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "@")
	r := &ApprovalRefusal{AtToken: where == "token"}
	if where != "" && where != "token" {
		return nil, fmt.Errorf("--needs-approval %q: only @token may follow the code", s)
	}
	switch code = strings.TrimPrefix(code, "aadsts"); code {
	case "cancel":
		if r.AtToken {
			return nil, fmt.Errorf("--needs-approval %q: the bare answer comes only on the redirect", s)
		}
	case "65001", "90094", "90095":
		r.Code = "AADSTS" + code
	default:
		return nil, fmt.Errorf("--needs-approval %q: want cancel, 65001, 90094 or 90095", s)
	}
	return r, nil
}

// Approved reports whether an administrator approved the app through the
// admin-consent endpoint.
func (id *Identity) Approved() bool {
	id.mu.Lock()
	defer id.mu.Unlock()
	return id.approved
}

// approvalWords are Microsoft's descriptions of the consent problems.
var approvalWords = map[string]string{
	"AADSTS65001": "The user or administrator has not consented to use the application with ID '" + IdentityClientID + "' named 'Mail Sync'. Send an interactive authorization request for this user and resource.",
	"AADSTS90094": "The grant requires admin permission.",
	"AADSTS90095": "Admin consent is required for the permissions requested by this application. An admin consent request may be sent to the admin.",
}

// refusal is the refusal in force, nil when none (id.mu held).
func (id *Identity) refusalLocked() *ApprovalRefusal {
	if id.approval == nil || id.approved {
		return nil
	}
	return id.approval
}

// SetTokenFailure makes the next n token requests answer status (for
// example 503) with Entra's temporarily_unavailable error. n = 0 ends it.
func (id *Identity) SetTokenFailure(status int, n int) {
	id.mu.Lock()
	id.failStatus, id.failN = status, n
	id.mu.Unlock()
}

// Revoke refuses every refresh token issued so far with invalid_grant and
// the given AADSTS code (for example "AADSTS50173": revoked or password
// changed; "AADSTS700082": expired; "AADSTS65001": no consent;
// "AADSTS50076": MFA required). Access tokens issued so far stop being
// valid too, as Continuous Access Evaluation does for these events. A new
// sign-in works again.
func (id *Identity) Revoke(code string) {
	code = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(code)), "AADSTS")
	id.mu.Lock()
	defer id.mu.Unlock()
	for _, r := range id.refresh {
		r.revoked = code
	}
	clear(id.access)
}

// ValidAccessToken reports whether tok is an access token this platform
// issued that has not expired or been revoked. It fits
// Graph.SetAuthorizer.
func (id *Identity) ValidAccessToken(tok string) bool {
	id.mu.Lock()
	defer id.mu.Unlock()
	exp, ok := id.access[tok]
	return ok && time.Now().Before(exp)
}

// ValidRefreshToken reports whether tok is a refresh token this platform
// issued that a token request would still accept: not revoked, and not
// spent when SpendRefreshTokens is on.
func (id *Identity) ValidRefreshToken(tok string) bool {
	id.mu.Lock()
	defer id.mu.Unlock()
	rt, ok := id.refresh[tok]
	return ok && rt.revoked == "" && !(rt.used && id.spend)
}

// Issued returns every access, refresh and ID token issued so far, so that
// tests can check none of them leaked into logs or files.
func (id *Identity) Issued() []string {
	id.mu.Lock()
	defer id.mu.Unlock()
	return slices.Clone(id.issued)
}

// Stats returns the request counters.
func (id *Identity) Stats() IdentityStats {
	id.mu.Lock()
	defer id.mu.Unlock()
	return id.stats
}

// authorizePage answers GET /oauth2/v2.0/authorize: the sign-in and consent
// page, or straight back with a code under AutoApprove.
func (id *Identity) authorizePage(w http.ResponseWriter, r *http.Request) {
	id.mu.Lock()
	id.stats.AuthorizeRequests++
	auto := id.autoApprove
	q := r.URL.Query()
	id.stats.AuthorizeScope = q.Get("scope")
	id.stats.AuthorizeResponseMode = q.Get("response_mode")
	id.mu.Unlock()

	if cid := q.Get("client_id"); cid != IdentityClientID {
		idpErrorPage(w, http.StatusBadRequest, "AADSTS700016: Application with identifier '"+cid+"' was not found in the directory 'Microsoft 365 sandbox'.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if !idpLoopbackRedirect(redirectURI) {
		idpErrorPage(w, http.StatusBadRequest, "AADSTS50011: The redirect URI '"+redirectURI+"' specified in the request does not match the redirect URIs configured for the application (http://localhost).")
		return
	}
	state := q.Get("state")
	if state == "" {
		idpErrorPage(w, http.StatusBadRequest, "AADSTS900144: The request body must contain the following parameter: 'state' (the sandbox insists on it).")
		return
	}
	mode := q.Get("response_mode")
	switch mode {
	case "", "query", "fragment", "form_post":
	default:
		idpErrorPage(w, http.StatusBadRequest, "AADSTS900144: The value '"+mode+"' of the parameter 'response_mode' is not valid.")
		return
	}
	fail := func(code, desc string) {
		idpRedirect(w, r, redirectURI, mode, url.Values{"error": {code}, "error_description": {desc}, "state": {state}})
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "AADSTS700054: response_type '"+q.Get("response_type")+"' is not enabled for the application.")
		return
	}
	if missing := idpMissingScopes(q.Get("scope")); len(missing) > 0 {
		fail("invalid_scope", "AADSTS70011: The provided request must include the scopes "+strings.Join(missing, " ")+".")
		return
	}
	if q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
		fail("invalid_request", "AADSTS9002325: Proof Key for Code Exchange with code_challenge_method S256 is required.")
		return
	}
	req := idpRequest{
		clientID:     IdentityClientID,
		redirectURI:  redirectURI,
		state:        state,
		challenge:    q.Get("code_challenge"),
		scope:        q.Get("scope"),
		nonce:        q.Get("nonce"),
		responseMode: mode,
	}
	id.mu.Lock()
	refusal := id.refusalLocked()
	id.mu.Unlock()
	if refusal != nil && (!refusal.AtToken || refusal.Code == "") {
		params := url.Values{"error": {"access_denied"}, "state": {state}}
		switch refusal.Code {
		case "":
			params.Set("error_subcode", "cancel")
		case "AADSTS65001":
			params.Set("error", "consent_required")
			fallthrough
		default:
			params.Set("error_description", refusal.Code+": "+approvalWords[refusal.Code]+"\r\nTrace ID: "+idpGUID()+"\r\nCorrelation ID: "+idpGUID()+"\r\nTimestamp: "+time.Now().UTC().Format("2006-01-02 15:04:05Z"))
		}
		idpRedirect(w, r, redirectURI, mode, params)
		return
	}
	if auto {
		id.approve(w, r, req)
		return
	}
	pageID := rand.Text()
	id.mu.Lock()
	id.pending[pageID] = req
	id.mu.Unlock()

	var perms []string
	for _, s := range strings.Fields(req.scope) {
		if words, ok := scopeWords[strings.ToLower(s)]; ok {
			perms = append(perms, words+" ("+s+")")
		}
	}
	host := ""
	if u, err := url.Parse(redirectURI); err == nil {
		host = u.Host
	}
	idpHTMLHeaders(w)
	w.WriteHeader(http.StatusOK)
	_ = idpSignInTemplate.Execute(w, map[string]any{
		"Account":     id.acct,
		"Permissions": perms,
		"PageID":      pageID,
		"App":         "Mail Sync",
		"ReplyHost":   host,
	})
}

// authorizeAnswer takes the Accept or Cancel of the sign-in page.
func (id *Identity) authorizeAnswer(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		idpErrorPage(w, http.StatusBadRequest, "AADSTS900144: The request is malformed.")
		return
	}
	pageID := r.PostForm.Get("request")
	id.mu.Lock()
	req, ok := id.pending[pageID]
	delete(id.pending, pageID)
	id.mu.Unlock()
	if !ok {
		idpErrorPage(w, http.StatusBadRequest, "AADSTS50058: This sign-in page has expired or was already answered. Start the sign-in again from Mail Sync.")
		return
	}
	switch r.PostForm.Get("action") {
	case "accept":
		id.approve(w, r, req)
	default:
		idpRedirect(w, r, req.redirectURI, req.responseMode, url.Values{
			"error":             {"access_denied"},
			"error_subcode":     {"cancel"},
			"error_description": {"AADSTS65004: User declined to consent to access the app."},
			"state":             {req.state},
		})
	}
}

func (id *Identity) approve(w http.ResponseWriter, r *http.Request, req idpRequest) {
	code := rand.Text() + rand.Text()
	id.mu.Lock()
	id.codes[code] = &idpCode{req: req, expires: time.Now().Add(10 * time.Minute)}
	id.mu.Unlock()
	idpRedirect(w, r, req.redirectURI, req.responseMode, url.Values{
		"code": {code}, "state": {req.state},
		// Entra adds the session's id; a client must ignore what it
		// does not use.
		"session_state": {idpGUID()},
	})
}

// adminConsentPage answers GET {tenant}/v2.0/adminconsent the way Entra's
// admin-consent documentation describes the request (v2-admin-consent):
// tenant a directory or "organizations", never "common"; client_id the
// registered app; redirect_uri exactly a registered one (http://localhost);
// scope required. A valid request shows an approval page with Accept (id
// "accept"); a wrong one shows Entra's error page.
func (id *Identity) adminConsentPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if msg := adminConsentProblem(r.PathValue("tenant"), q); msg != "" {
		idpErrorPage(w, http.StatusBadRequest, msg)
		return
	}
	idpHTMLHeaders(w)
	w.WriteHeader(http.StatusOK)
	_ = idpAdminConsentTemplate.Execute(w, map[string]any{
		"Account": id.acct,
		"Scopes":  strings.Fields(q.Get("scope")),
		"Query":   r.URL.RawQuery,
	})
}

// adminConsentAnswer takes the administrator's Accept: the app is approved
// for the organisation, and the browser goes back to redirect_uri with
// admin_consent=True and the tenant, as Entra answers.
func (id *Identity) adminConsentAnswer(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if msg := adminConsentProblem(r.PathValue("tenant"), q); msg != "" {
		idpErrorPage(w, http.StatusBadRequest, msg)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("action") != "accept" {
		idpRedirect(w, r, q.Get("redirect_uri"), "", url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: The administrator declined to consent."}})
		return
	}
	id.mu.Lock()
	id.approved = true
	tenant := id.acct.TenantID
	id.mu.Unlock()
	params := url.Values{"admin_consent": {"True"}, "tenant": {tenant}}
	if st := q.Get("state"); st != "" {
		params.Set("state", st)
	}
	idpRedirect(w, r, q.Get("redirect_uri"), "", params)
}

// adminConsentProblem says what Entra would refuse in an admin-consent
// request, "" when nothing.
func adminConsentProblem(tenant string, q url.Values) string {
	switch {
	case strings.EqualFold(tenant, "common") || strings.EqualFold(tenant, "consumers"):
		return "AADSTS90130: Admin consent cannot be requested for '" + tenant + "': use the directory's tenant id, a verified domain or 'organizations'."
	case q.Get("client_id") != IdentityClientID:
		return "AADSTS700016: Application with identifier '" + q.Get("client_id") + "' was not found in the directory 'Microsoft 365 sandbox'."
	case q.Get("redirect_uri") != "http://localhost":
		return "AADSTS50011: The redirect URI '" + q.Get("redirect_uri") + "' specified in the request does not match the redirect URIs configured for the application (http://localhost)."
	case strings.TrimSpace(q.Get("scope")) == "":
		return "AADSTS900144: The request body must contain the following parameter: 'scope'."
	}
	return ""
}

// token answers POST /oauth2/v2.0/token.
func (id *Identity) token(w http.ResponseWriter, r *http.Request) {
	id.mu.Lock()
	defer id.mu.Unlock()
	id.stats.TokenRequests++
	if id.failN > 0 {
		id.failN--
		idpTokenError(w, id.failStatus, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
		return
	}
	if r.Method != http.MethodPost {
		idpTokenError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests.")
		return
	}
	if err := r.ParseForm(); err != nil {
		idpTokenError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body is malformed.")
		return
	}
	f := r.PostForm
	if f.Get("client_secret") != "" || f.Get("client_assertion") != "" {
		idpTokenError(w, http.StatusUnauthorized, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		return
	}
	if _, _, ok := r.BasicAuth(); ok {
		idpTokenError(w, http.StatusUnauthorized, "invalid_client", 700025, "Client is public so no client authentication should be presented.")
		return
	}
	clientID := f.Get("client_id")
	if clientID != IdentityClientID {
		idpTokenError(w, http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '"+clientID+"' was not found in the directory 'Microsoft 365 sandbox'.")
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		id.redeemCode(w, f)
	case "refresh_token":
		id.redeemRefresh(w, f)
	default:
		idpTokenError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+f.Get("grant_type")+"'.")
	}
}

func (id *Identity) redeemCode(w http.ResponseWriter, f url.Values) {
	c, ok := id.codes[f.Get("code")]
	switch {
	case !ok:
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid.")
		return
	case c.used:
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
		return
	}
	// Any attempt spends the code, so that a wrong verifier cannot be
	// followed by guesses.
	c.used = true
	switch {
	case time.Now().After(c.expires):
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity.")
	case f.Get("redirect_uri") != c.req.redirectURI:
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", 50011, "The redirect URI '"+f.Get("redirect_uri")+"' does not match the redirect URI used to request the authorization code.")
	case f.Get("code_verifier") == "" || idpS256(f.Get("code_verifier")) != c.req.challenge:
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
	case id.refusalLocked() != nil && id.refusalLocked().Code != "":
		code := id.refusalLocked().Code
		n, _ := strconv.Atoi(strings.TrimPrefix(code, "AADSTS"))
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", n, approvalWords[code])
	default:
		id.stats.RedemptionScope = f.Get("scope")
		granted, ok := idpGrantScope(c.req.scope, f.Get("scope"))
		if !ok {
			idpTokenError(w, http.StatusBadRequest, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '"+c.req.clientID+"'. Send an interactive authorization request for this user and resource.")
			return
		}
		id.issueLocked(w, c.req.clientID, c.req.scope, granted, c.req.nonce)
	}
}

// idpGrantScope is what a token request asking for scope gets from a grant
// of consented: the scopes asked for when each of them was consented to (a
// request may ask for fewer, never more), all consented ones when it asks
// for none.
func idpGrantScope(consented, scope string) (string, bool) {
	if strings.TrimSpace(scope) == "" {
		return consented, true
	}
	have := map[string]bool{}
	for _, s := range strings.Fields(consented) {
		have[strings.ToLower(s)] = true
	}
	for _, s := range strings.Fields(scope) {
		if !have[strings.ToLower(s)] {
			return "", false
		}
	}
	return scope, true
}

func (id *Identity) redeemRefresh(w http.ResponseWriter, f url.Values) {
	rt, ok := id.refresh[f.Get("refresh_token")]
	switch {
	case !ok:
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the refresh token is not valid.")
	case rt.revoked != "":
		n, _ := strconv.Atoi(rt.revoked)
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", n, idpRevokeWords(rt.revoked))
	case rt.used && id.spend:
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed: the refresh token was already redeemed.")
	case rt.clientID != f.Get("client_id"):
		idpTokenError(w, http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed: the refresh token belongs to another application.")
	default:
		id.stats.RefreshScope = f.Get("scope")
		granted, ok := idpGrantScope(rt.scope, f.Get("scope"))
		if !ok {
			idpTokenError(w, http.StatusBadRequest, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '"+rt.clientID+"'. Send an interactive authorization request for this user and resource.")
			return
		}
		rt.used = true
		id.issueLocked(w, rt.clientID, rt.scope, granted, "")
	}
}

// issueLocked answers a successful token request: an access token for
// granted, a refresh token that keeps the whole consented grant. id.mu is
// held.
func (id *Identity) issueLocked(w http.ResponseWriter, clientID, consented, granted, nonce string) {
	access := rand.Text() + rand.Text()
	refresh := rand.Text() + rand.Text() + rand.Text()
	now := time.Now()
	claims := map[string]any{
		"aud":                clientID,
		"iss":                id.srv.URL + "/" + id.acct.TenantID + "/v2.0",
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(time.Hour).Unix(),
		"name":               id.acct.Name,
		"preferred_username": id.acct.Email,
		"email":              id.acct.Email,
		"oid":                id.acct.ObjectID,
		"sub":                id.acct.ObjectID,
		"tid":                id.acct.TenantID,
		"ver":                "2.0",
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	idToken := idpJWT(claims)

	id.access[access] = now.Add(id.lifetime)
	id.refresh[refresh] = &idpRefresh{clientID: clientID, scope: consented}
	id.issued = append(id.issued, access, refresh, idToken)

	expiresIn := int((id.lifetime + time.Second - 1) / time.Second)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token_type":     "Bearer",
		"scope":          granted,
		"expires_in":     expiresIn,
		"ext_expires_in": expiresIn,
		"access_token":   access,
		"refresh_token":  refresh,
		"id_token":       idToken,
	})
}

func idpJWT(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": "microsoft-365-sandbox"})
	payload, _ := json.Marshal(claims)
	sig := make([]byte, 64)
	_, _ = rand.Read(sig)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(sig)
}

func idpS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func idpRevokeWords(code string) string {
	switch code {
	case "50173":
		return "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password."
	case "700082":
		return "The refresh token has expired due to inactivity. The token was issued and was inactive for 90.00:00:00."
	case "65001":
		return "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource."
	case "50076":
		return "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource."
	case "50079":
		return "Due to a configuration change made by your administrator, you must enroll in multi-factor authentication to access the resource."
	case "50133":
		return "Session is invalid due to expiration or recent password change."
	}
	return "The provided grant is no longer valid."
}

// idpLoopbackRedirect reports whether uri is a loopback redirect URI that
// matches a public client registered with http://localhost (any port, any
// path), as Entra accepts it.
func idpLoopbackRedirect(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.Fragment != "" || u.User != nil {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1":
		return true
	}
	return false
}

func idpMissingScopes(scope string) []string {
	have := map[string]bool{}
	for _, s := range strings.Fields(scope) {
		have[strings.ToLower(s)] = true
	}
	var missing []string
	for _, s := range RequiredScopes {
		if !have[strings.ToLower(s)] {
			missing = append(missing, s)
		}
	}
	return missing
}

// idpRedirect sends the browser back to redirectURI with params, the way
// response mode asks.
func idpRedirect(w http.ResponseWriter, r *http.Request, redirectURI, mode string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		idpErrorPage(w, http.StatusBadRequest, "AADSTS50011: The redirect URI is malformed.")
		return
	}
	switch mode {
	case "form_post":
		type field struct{ Name, Value string }
		var fields []field
		for _, k := range slices.Sorted(maps.Keys(params)) {
			for _, v := range params[k] {
				fields = append(fields, field{k, v})
			}
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		// The page's one script submits the form; form-action limits
		// where it may go.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; form-action "+u.Scheme+"://"+u.Host)
		w.WriteHeader(http.StatusOK)
		_ = idpFormPostTemplate.Execute(w, map[string]any{"Action": u.String(), "Fields": fields})
		return
	case "fragment":
		u.Fragment = ""
		u.RawFragment = params.Encode()
	default:
		q := u.Query()
		for k, v := range params {
			q[k] = v
		}
		u.RawQuery = q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// idpFormPostTemplate is the page Entra answers response_mode=form_post
// with: a form named hiddenform that a script submits at once.
var idpFormPostTemplate = template.Must(template.New("formpost").Parse(`<html><head><title>Working...</title></head>
<body><form method="POST" name="hiddenform" id="hiddenform" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}" />
{{end}}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript>
</form><script language="javascript">window.setTimeout(function(){document.forms[0].submit()}, 0);</script></body></html>
`))

// idpTokenError writes Entra's token endpoint error JSON.
func idpTokenError(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	now := time.Now().UTC()
	trace := idpGUID()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, desc, trace, idpGUID(), now.Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts},
		"timestamp":         now.Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    idpGUID(),
	})
}

func idpGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func idpHTMLHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
}

func idpErrorPage(w http.ResponseWriter, status int, message string) {
	idpHTMLHeaders(w)
	w.WriteHeader(status)
	_ = idpErrorTemplate.Execute(w, message)
}

const idpStyle = `<style>
body{font-family:"Segoe UI",system-ui,-apple-system,sans-serif;background:#f2f2f2;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;color:#1b1b1b}
.card{background:#fff;width:440px;box-shadow:0 2px 6px rgba(0,0,0,.2);padding:44px}
.brand{display:flex;align-items:center;gap:8px;font-weight:600;color:#5e5e5e}
.logo{display:grid;grid-template-columns:10px 10px;gap:2px}
.logo i{width:10px;height:10px;display:block}
.sandbox{display:inline-block;margin-top:12px;background:#fff4ce;color:#6b4f00;border:1px solid #f2c94c;border-radius:3px;padding:2px 8px;font-size:.8rem}
h1{font-size:1.5rem;font-weight:600;margin:16px 0 8px}
.account{color:#1b1b1b;margin-bottom:16px}
.account small{display:block;color:#5e5e5e}
ul{padding-left:20px;line-height:1.6}
.buttons{display:flex;justify-content:flex-end;gap:8px;margin-top:24px}
button{min-width:108px;padding:6px 12px;font-size:.95rem;border:1px solid #8a8a8a;background:#ccc;cursor:pointer}
button#accept{background:#0067b8;border-color:#0067b8;color:#fff}
.error{color:#a4262c}
</style>`

const idpLogo = `<span class="logo"><i style="background:#f25022"></i><i style="background:#7fba00"></i><i style="background:#00a4ef"></i><i style="background:#ffb900"></i></span>`

var idpSignInTemplate = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to your account — Microsoft 365 sandbox</title>` + idpStyle + `</head>
<body><div class="card">
<div class="brand">` + idpLogo + ` Microsoft</div>
<span class="sandbox" id="sandbox">Microsoft 365 sandbox — not a real Microsoft sign-in</span>
<div class="account" id="account"><h1>Permissions requested</h1>
<strong>{{.Account.Name}}</strong><small>{{.Account.Email}}</small></div>
<p><strong>{{.App}}</strong> (unverified, redirects to {{.ReplyHost}}) would like to:</p>
<ul id="permissions">{{range .Permissions}}<li>{{.}}</li>{{end}}</ul>
<p><small>Accepting these permissions lets this app use your data as specified in its terms of service and privacy statement.</small></p>
<form method="post">
<input type="hidden" name="request" value="{{.PageID}}">
<div class="buttons">
<button type="submit" id="cancel" name="action" value="cancel">Cancel</button>
<button type="submit" id="accept" name="action" value="accept">Accept</button>
</div></form>
</div></body></html>
`))

var idpAdminConsentTemplate = template.Must(template.New("adminconsent").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Permissions requested — Microsoft 365 sandbox</title>` + idpStyle + `</head>
<body><div class="card">
<div class="brand">` + idpLogo + ` Microsoft</div>
<span class="sandbox">Microsoft 365 sandbox — not a real Microsoft sign-in</span>
<h1>Permissions requested — accept for your organization</h1>
<p><strong>Mail Sync</strong> would like to, for everyone in {{.Account.Email}}'s organization:</p>
<ul id="permissions">{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="?{{.Query}}">
<div class="buttons">
<button type="submit" id="cancel" name="action" value="cancel">Cancel</button>
<button type="submit" id="accept" name="action" value="accept">Accept</button>
</div></form>
</div></body></html>
`))

var idpErrorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in — Microsoft 365 sandbox</title>` + idpStyle + `</head>
<body><div class="card">
<div class="brand">` + idpLogo + ` Microsoft</div>
<span class="sandbox">Microsoft 365 sandbox</span>
<h1>Sorry, but we're having trouble signing you in.</h1>
<p class="error" id="error">{{.}}</p>
</div></body></html>
`))
