package graphtest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailsync/sync/graphtest"
)

var scopes = []string{"openid", "profile", "email", "User.Read", "offline_access", "Mail.Read"}

func newIdentity(t *testing.T) (*graphtest.Identity, *oauth2.Config) {
	t.Helper()
	id := graphtest.NewIdentity(graphtest.IdentityAccount{Name: "Ada Lovelace", Email: "ada@contoso.example", TenantID: "tenant-1"})
	t.Cleanup(id.Close)
	cfg := &oauth2.Config{
		ClientID:    id.ClientID(),
		RedirectURL: "http://localhost:4242/",
		Scopes:      scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   id.Authority() + "/oauth2/v2.0/authorize",
			TokenURL:  id.Authority() + "/oauth2/v2.0/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	return id, cfg
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize asks the fake for a code as an approving person would, and
// returns the redirect's query.
func authorize(t *testing.T, id *graphtest.Identity, authURL string) url.Values {
	t.Helper()
	id.AutoApprove(true)
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), "http://localhost:4242/?") {
		t.Fatalf("redirected to %s", loc.Redacted())
	}
	return loc.Query()
}

// approve has an approving person authorize cfg with a fresh PKCE
// verifier and returns exchange, which trades the code issued for tokens
// with that verifier, as the app does.
func approve(t *testing.T, id *graphtest.Identity, cfg *oauth2.Config) (exchange func() (*oauth2.Token, error)) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, id, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	return func() (*oauth2.Token, error) {
		return cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	}
}

func entraCode(err error) string {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return ""
	}
	var body struct {
		ErrorCodes []int `json:"error_codes"`
	}
	_ = json.Unmarshal(re.Body, &body)
	if len(body.ErrorCodes) != 1 || !strings.HasPrefix(re.ErrorDescription, "AADSTS") {
		return "malformed"
	}
	return re.ErrorCode + " " + strings.SplitN(re.ErrorDescription, ":", 2)[0]
}

func TestIdentityPKCEVerifierChecked(t *testing.T) {
	id, cfg := newIdentity(t)
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, id, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if q.Get("state") != "st" || q.Get("code") == "" {
		t.Fatalf("redirect query %v", q)
	}
	_, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if got := entraCode(err); got != "invalid_grant AADSTS501481" {
		t.Fatalf("wrong verifier: %v (%s)", err, got)
	}
	// The failed attempt spent the code.
	_, err = cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if got := entraCode(err); got != "invalid_grant AADSTS54005" {
		t.Fatalf("code after a failed attempt: %v (%s)", err, got)
	}
	// No verifier at all.
	q = authorize(t, id, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	if _, err = cfg.Exchange(context.Background(), q.Get("code")); entraCode(err) != "invalid_grant AADSTS501481" {
		t.Fatalf("missing verifier: %v", err)
	}
}

func TestIdentityCodeSingleUseAndRedirectURI(t *testing.T) {
	id, cfg := newIdentity(t)
	exchange := approve(t, id, cfg)
	tok, err := exchange()
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if !id.ValidAccessToken(tok.AccessToken) || tok.RefreshToken == "" {
		t.Fatal("exchange gave no usable token")
	}
	if _, err := exchange(); entraCode(err) != "invalid_grant AADSTS54005" {
		t.Fatalf("code reuse: %v", err)
	}

	verifier := oauth2.GenerateVerifier()
	q := authorize(t, id, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)))
	other := *cfg
	other.RedirectURL = "http://localhost:4243/"
	if _, err := other.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier)); entraCode(err) != "invalid_grant AADSTS50011" {
		t.Fatalf("different redirect_uri: %v", err)
	}
}

func TestIdentityIDToken(t *testing.T) {
	id, cfg := newIdentity(t)
	tok, err := approve(t, id, cfg)()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token has %d segments", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	acct := id.Account()
	if c["name"] != "Ada Lovelace" || c["preferred_username"] != "ada@contoso.example" || c["email"] != "ada@contoso.example" ||
		c["tid"] != "tenant-1" || c["oid"] != acct.ObjectID || acct.ObjectID == "" || c["aud"] != id.ClientID() {
		t.Errorf("claims = %v", c)
	}
	issued := id.Issued()
	for _, v := range []string{tok.AccessToken, tok.RefreshToken, raw} {
		found := false
		for _, s := range issued {
			found = found || s == v
		}
		if !found {
			t.Errorf("Issued() lacks a token it handed out")
		}
	}
}

func TestIdentityRefreshRotatesAndRevokes(t *testing.T) {
	id, cfg := newIdentity(t)
	tok, err := approve(t, id, cfg)()
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
	}
	next, err := refresh(tok.RefreshToken)
	if err != nil || next.RefreshToken == tok.RefreshToken || next.RefreshToken == "" {
		t.Fatalf("refresh did not rotate: %v", err)
	}
	// Like Entra, the old refresh token still works after a new one was
	// issued; in strict mode it is spent.
	again, err := refresh(tok.RefreshToken)
	if err != nil || again.RefreshToken == next.RefreshToken {
		t.Fatalf("old refresh token refused by default: %v", err)
	}
	if !id.ValidRefreshToken(tok.RefreshToken) {
		t.Error("a used refresh token reported invalid by default")
	}
	id.SpendRefreshTokens(true)
	if id.ValidRefreshToken(tok.RefreshToken) || !id.ValidRefreshToken(next.RefreshToken) {
		t.Error("ValidRefreshToken disagrees with strict mode")
	}
	if _, err := refresh(tok.RefreshToken); entraCode(err) != "invalid_grant AADSTS70000" {
		t.Fatalf("replayed refresh token: %v", err)
	}
	id.Revoke("AADSTS50173")
	if id.ValidRefreshToken(next.RefreshToken) || id.ValidRefreshToken("made-up") {
		t.Error("revoked or unknown refresh token reported valid")
	}
	if id.ValidAccessToken(next.AccessToken) {
		t.Error("access token still valid after revocation")
	}
	if _, err := refresh(next.RefreshToken); entraCode(err) != "invalid_grant AADSTS50173" {
		t.Fatalf("revoked refresh token: %v", err)
	}
}

func TestIdentityTokenFailureAndLifetime(t *testing.T) {
	id, cfg := newIdentity(t)
	exchange := approve(t, id, cfg)
	id.SetTokenFailure(http.StatusServiceUnavailable, 1)
	_, err := exchange()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable || re.ErrorCode != "temporarily_unavailable" {
		t.Fatalf("injected failure: %v", err)
	}
	id.SetAccessTokenLifetime(time.Second)
	tok, err := exchange()
	if err != nil {
		t.Fatalf("exchange after the failure ended: %v", err)
	}
	if d := time.Until(tok.Expiry); d > 2*time.Second {
		t.Errorf("expiry in %v, want about a second", d)
	}
	if s := id.Stats(); s.TokenRequests != 2 || s.AuthorizeRequests != 1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestIdentityAuthorizeValidates(t *testing.T) {
	id, cfg := newIdentity(t)
	challenge := oauth2.S256ChallengeOption(oauth2.GenerateVerifier())
	for _, tc := range []struct {
		name      string
		mutate    func(*oauth2.Config) []oauth2.AuthCodeOption
		status    int
		errorCode string // in the redirect, when status is 302
	}{
		{"unknown client", func(c *oauth2.Config) []oauth2.AuthCodeOption {
			c.ClientID = "other"
			return []oauth2.AuthCodeOption{challenge}
		}, 400, ""},
		{"non-loopback redirect", func(c *oauth2.Config) []oauth2.AuthCodeOption {
			c.RedirectURL = "http://attacker.example/"
			return []oauth2.AuthCodeOption{challenge}
		}, 400, ""},
		{"https redirect", func(c *oauth2.Config) []oauth2.AuthCodeOption {
			c.RedirectURL = "https://localhost/"
			return []oauth2.AuthCodeOption{challenge}
		}, 400, ""},
		{"missing scope", func(c *oauth2.Config) []oauth2.AuthCodeOption {
			c.Scopes = scopes[:5]
			return []oauth2.AuthCodeOption{challenge}
		}, 302, "invalid_scope"},
		{"no PKCE", func(c *oauth2.Config) []oauth2.AuthCodeOption { return nil }, 302, "invalid_request"},
		{"plain PKCE", func(c *oauth2.Config) []oauth2.AuthCodeOption {
			return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", "abc"), oauth2.SetAuthURLParam("code_challenge_method", "plain")}
		}, 302, "invalid_request"},
		{"implicit flow", func(c *oauth2.Config) []oauth2.AuthCodeOption {
			return []oauth2.AuthCodeOption{challenge, oauth2.SetAuthURLParam("response_type", "token")}
		}, 302, "unsupported_response_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *cfg
			opts := tc.mutate(&c)
			resp, err := noRedirect.Get(c.AuthCodeURL("st", opts...))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.errorCode != "" {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if loc.Query().Get("error") != tc.errorCode || loc.Query().Get("state") != "st" || loc.Query().Get("code") != "" {
					t.Errorf("redirect %v", loc.Query())
				}
			}
		})
	}
	id.AutoApprove(false)
	resp, err := noRedirect.Get(cfg.AuthCodeURL("", challenge))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("missing state: status %d, want 400", resp.StatusCode)
	}
}

func TestIdentitySignInPage(t *testing.T) {
	id, cfg := newIdentity(t)
	resp, err := http.Get(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{"Microsoft 365 sandbox", "Ada Lovelace", "ada@contoso.example", `id="accept"`, `id="cancel"`, "Read your mail"} {
		if !strings.Contains(page, want) {
			t.Errorf("sign-in page lacks %q", want)
		}
	}
	// The page lists what is asked for, and Mail Sync no longer asks to send.
	if strings.Contains(page, "Send mail as you") {
		t.Error("the sign-in page asks to send mail, which was not requested")
	}
	// A form answered twice, or never shown, is refused.
	form := url.Values{"request": {"never-shown"}, "action": {"accept"}}
	r2, err := noRedirect.PostForm(cfg.Endpoint.AuthURL, form)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown form: status %d", r2.StatusCode)
	}
	if s := id.Stats(); s.AuthorizeRequests != 1 {
		t.Errorf("AuthorizeRequests = %d, want 1", s.AuthorizeRequests)
	}
}

// response_mode=form_post answers with a page whose form posts code and state
// to the redirect URI, as Entra does; nothing of the answer is in a URL.
func TestIdentityFormPost(t *testing.T) {
	id, cfg := newIdentity(t)
	id.AutoApprove(true)
	got := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.RawQuery != "" {
			t.Errorf("callback %s %s, want a POST without a query", r.Method, r.URL)
		}
		_ = r.ParseForm()
		got <- r.PostForm
		_, _ = io.WriteString(w, "taken")
	}))
	defer cb.Close()
	c := *cfg
	c.RedirectURL = strings.Replace(cb.URL, "127.0.0.1", "localhost", 1) + "/"
	verifier := oauth2.GenerateVerifier()
	authURL := c.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", "form_post"))

	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" || strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Fatalf("form_post answer: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.Contains(string(page), "document.forms[0].submit()") || !strings.Contains(string(page), `method="POST"`) {
		t.Fatalf("form_post page does not submit itself: %s", page)
	}
	status, body, err := graphtest.Browse(authURL)
	if err != nil || status != http.StatusOK || body != "taken" {
		t.Fatalf("browse: %d %q %v", status, body, err)
	}
	form := <-got
	if form.Get("state") != "st" || form.Get("code") == "" {
		t.Fatalf("posted form %v", form)
	}
	tok, err := c.Exchange(context.Background(), form.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("exchange of the posted code: %v", err)
	}
}

// A token request may ask for fewer scopes than were consented to, never
// more: a grant that holds Mail.Send (an older sign-in) still refreshes for
// the six scopes, and one without it cannot gain it.
func TestIdentityScopeOnTokenRequests(t *testing.T) {
	id, cfg := newIdentity(t)
	wide := *cfg
	wide.Scopes = append(slices.Clone(scopes), "Mail.Send")
	tok, err := approve(t, id, &wide)()
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt, scope string) (map[string]any, int) {
		resp, err := http.PostForm(cfg.Endpoint.TokenURL, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {id.ClientID()}, "scope": {scope},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out, resp.StatusCode
	}
	six := strings.Join(scopes, " ")
	out, status := refresh(tok.RefreshToken, six)
	if status != http.StatusOK || out["scope"] != six {
		t.Fatalf("refresh for fewer scopes: %d %v", status, out["scope"])
	}
	if got := id.Stats().RefreshScope; got != six {
		t.Errorf("RefreshScope = %q", got)
	}
	narrow, err := approve(t, id, cfg)()
	if err != nil {
		t.Fatal(err)
	}
	out, status = refresh(narrow.RefreshToken, six+" Mail.Send")
	if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("refresh for a scope never consented: %d %v", status, out)
	}
}

func TestParseApprovalRefusal(t *testing.T) {
	for in, want := range map[string]*graphtest.ApprovalRefusal{
		"cancel":       {},
		"90094":        {Code: "AADSTS90094"},
		"AADSTS65001":  {Code: "AADSTS65001"},
		"90095@token":  {Code: "AADSTS90095", AtToken: true},
		"cancel@token": nil,
		"50076":        nil,
		"90094@page":   nil,
	} {
		got, err := graphtest.ParseApprovalRefusal(in)
		switch {
		case want == nil && err == nil:
			t.Errorf("%q: %+v, want an error", in, got)
		case want != nil && (err != nil || *got != *want):
			t.Errorf("%q: %+v, %v; want %+v", in, got, err, want)
		}
	}
}
