package graph_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/remote"
)

// fastRetry keeps retry tests quick while still retrying.
var fastRetry = remote.Policy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// signIn connects the sandbox account without a browser.
func signIn(t *testing.T, id *graphtest.Identity) *graph.Result {
	t.Helper()
	id.AutoApprove(true)
	s := &graph.SignIn{
		Config: graph.OAuthConfig(id.Authority(), id.ClientID()),
		Open: func(u string) error {
			go browse(u)
			return nil
		},
	}
	res, err := s.Run(context.Background())
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return res
}

// keyring stands in for the OS keyring: it records every saved refresh
// token, in order.
type keyring struct {
	mu    sync.Mutex
	saved []string
	fail  error
}

func (k *keyring) save(rt string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	k.saved = append(k.saved, rt)
	return nil
}

func (k *keyring) last() (string, int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.saved) == 0 {
		return "", 0
	}
	return k.saved[len(k.saved)-1], len(k.saved)
}

func newSource(id *graphtest.Identity, rt string, k *keyring) *graph.TokenSource {
	ts := graph.NewTokenSource(context.Background(), graph.OAuthConfig(id.Authority(), id.ClientID()), rt, k.save)
	ts.Retry = fastRetry
	return ts
}

func TestTokenSourceSavesRotationBeforeReturning(t *testing.T) {
	id := newIdentity(t)
	id.SpendRefreshTokens(true) // only the saved token can continue
	first := signIn(t, id)
	k := &keyring{}
	ts := newSource(id, first.Token.RefreshToken, k)

	tok, err := ts.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	saved, n := k.last()
	if n != 1 || saved == first.Token.RefreshToken || saved != tok.RefreshToken {
		t.Fatalf("after the first renewal: %d saves, saved the rotated token = %v", n, saved == tok.RefreshToken && saved != first.Token.RefreshToken)
	}
	if !id.ValidAccessToken(tok.AccessToken) {
		t.Fatal("access token not valid at the identity platform")
	}

	// The old refresh token is spent: only what was saved can continue.
	if _, err := newSource(id, first.Token.RefreshToken, &keyring{}).Token(); !remote.IsNeedsReconnect(err) {
		t.Fatalf("spent refresh token: err = %v, want NeedsReconnect", err)
	}

	// Crash right after the renewal: a new process starts from the keyring.
	restarted := newSource(id, saved, k)
	tok2, err := restarted.Token()
	if err != nil {
		t.Fatalf("Token after restart from the saved refresh token: %v", err)
	}
	if !id.ValidAccessToken(tok2.AccessToken) {
		t.Fatal("access token after restart not valid")
	}
	if saved2, n := k.last(); n != 2 || saved2 != tok2.RefreshToken {
		t.Errorf("after restart: %d saves, last is current = %v", n, saved2 == tok2.RefreshToken)
	}
}

func TestTokenSourceCachesAndInvalidates(t *testing.T) {
	id := newIdentity(t)
	ts := newSource(id, signIn(t, id).Token.RefreshToken, &keyring{})
	before := id.Stats().TokenRequests

	a, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessToken != b.AccessToken || id.Stats().TokenRequests-before != 1 {
		t.Fatalf("valid token not reused: %d token requests", id.Stats().TokenRequests-before)
	}
	ts.Invalidate()
	c, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessToken == a.AccessToken || id.Stats().TokenRequests-before != 2 {
		t.Fatalf("Invalidate did not renew: %d token requests", id.Stats().TokenRequests-before)
	}
}

func TestTokenSourceConcurrentCallersShareOneRenewal(t *testing.T) {
	id := newIdentity(t)
	k := &keyring{}
	ts := newSource(id, signIn(t, id).Token.RefreshToken, k)
	before := id.Stats().TokenRequests
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Go(func() {
			if tok, err := ts.Token(); err == nil {
				tokens[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	for _, tok := range tokens {
		if tok == "" || tok != tokens[0] {
			t.Fatalf("callers got different or no tokens")
		}
	}
	if n := id.Stats().TokenRequests - before; n != 1 {
		t.Errorf("%d token requests for concurrent callers, want 1", n)
	}
	if _, n := k.last(); n != 1 {
		t.Errorf("%d saves, want 1", n)
	}
}

func TestTokenSourceRevokedNeedsReconnectWithoutRetrying(t *testing.T) {
	for _, tc := range []struct {
		code, words string
	}{
		{"AADSTS50173", "Access was revoked"},
		{"AADSTS700082", "Your Microsoft sign-in expired; connect again."},
		{"AADSTS65001", "consent"},
		{"AADSTS50076", "multi-factor"},
		{"AADSTS50079", "multi-factor"},
		{"AADSTS50133", "password changed"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			id := newIdentity(t)
			ts := newSource(id, signIn(t, id).Token.RefreshToken, &keyring{})
			id.Revoke(tc.code)
			before := id.Stats().TokenRequests

			var wg sync.WaitGroup
			errs := make([]error, 10)
			for i := range errs {
				wg.Go(func() { _, errs[i] = ts.Token() })
			}
			wg.Wait()
			_, again := ts.Token()
			errs = append(errs, again)

			for _, err := range errs {
				var re *remote.Error
				if !errors.As(err, &re) || re.Kind != remote.NeedsReconnect {
					t.Fatalf("Token = %v, want NeedsReconnect", err)
				}
				if !strings.Contains(re.Message, tc.words) {
					t.Errorf("message %q does not say %q", re.Message, tc.words)
				}
				for _, tok := range id.Issued() {
					if strings.Contains(err.Error(), tok) {
						t.Fatal("error text carries a token")
					}
				}
			}
			if n := id.Stats().TokenRequests - before; n != 1 {
				t.Errorf("%d token requests after revocation, want exactly 1", n)
			}
		})
	}
}

func TestTokenSourceUnavailableIsTransient(t *testing.T) {
	id := newIdentity(t)
	ts := newSource(id, signIn(t, id).Token.RefreshToken, &keyring{})
	id.SetTokenFailure(http.StatusServiceUnavailable, 100)
	before := id.Stats().TokenRequests

	_, err := ts.Token()
	if remote.KindOf(err) != remote.Transient || remote.IsNeedsReconnect(err) {
		t.Fatalf("Token with the endpoint down = %v (kind %v), want Transient", err, remote.KindOf(err))
	}
	if n := id.Stats().TokenRequests - before; n != fastRetry.MaxAttempts {
		t.Errorf("%d token requests, want %d (bounded retries)", n, fastRetry.MaxAttempts)
	}

	// Transient is not sticky: once the endpoint is back, the same source works.
	id.SetTokenFailure(0, 0)
	tok, err := ts.Token()
	if err != nil || !id.ValidAccessToken(tok.AccessToken) {
		t.Fatalf("Token after recovery = %v", err)
	}
}

func TestTokenSourceRetriesTransientFailures(t *testing.T) {
	id := newIdentity(t)
	ts := newSource(id, signIn(t, id).Token.RefreshToken, &keyring{})
	id.SetTokenFailure(http.StatusServiceUnavailable, fastRetry.MaxAttempts-1)
	tok, err := ts.Token()
	if err != nil || !id.ValidAccessToken(tok.AccessToken) {
		t.Fatalf("Token after %d failures = %v, want success on the last attempt", fastRetry.MaxAttempts-1, err)
	}
}

func TestTokenSourceUnreachableIsTransient(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	ts := graph.NewTokenSource(context.Background(), graph.OAuthConfig("http://"+addr+"/organizations", "client"), "rt", (&keyring{}).save)
	ts.Retry = fastRetry
	_, err = ts.Token()
	if remote.KindOf(err) != remote.Transient {
		t.Fatalf("Token with the endpoint unreachable = %v (kind %v), want Transient", err, remote.KindOf(err))
	}
}

func TestTokenSourceSaveFailureKeepsRotatedToken(t *testing.T) {
	id := newIdentity(t)
	k := &keyring{fail: errors.New("keyring locked")}
	ts := newSource(id, signIn(t, id).Token.RefreshToken, k)

	if _, err := ts.Token(); err == nil || !strings.Contains(err.Error(), "keyring locked") {
		t.Fatalf("Token with a failing save = %v, want the save error", err)
	}
	before := id.Stats().TokenRequests
	k.mu.Lock()
	k.fail = nil
	k.mu.Unlock()

	tok, err := ts.Token()
	if err != nil {
		t.Fatalf("Token once saving works: %v", err)
	}
	saved, n := k.last()
	if n != 1 || saved != tok.RefreshToken {
		t.Errorf("rotated refresh token not saved on the next call (%d saves)", n)
	}
	if id.Stats().TokenRequests != before {
		t.Errorf("the kept token was renewed again instead of saved")
	}
	if _, err := newSource(id, saved, &keyring{}).Token(); err != nil {
		t.Errorf("saved refresh token does not work: %v", err)
	}
}

func TestTokenSourceClientSendsBearer(t *testing.T) {
	id := newIdentity(t)
	ts := newSource(id, signIn(t, id).Token.RefreshToken, &keyring{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !id.ValidAccessToken(tok) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer api.Close()
	resp, err := ts.Client(context.Background()).Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status = %d, want the token accepted", resp.StatusCode)
	}
}

func TestTokenSourceWithoutRefreshTokenNeedsReconnect(t *testing.T) {
	id := newIdentity(t)
	_, err := newSource(id, "", &keyring{}).Token()
	if !remote.IsNeedsReconnect(err) || id.Stats().TokenRequests != 0 {
		t.Fatalf("Token without refresh token = %v after %d requests", err, id.Stats().TokenRequests)
	}
}

func jwt(payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestAccountFromIDToken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		token   string
		want    graph.Account
		wantErr bool
	}{
		{"all claims", jwt(`{"name":"Ada","preferred_username":"ada@contoso.example","email":"a@b.example","tid":"t1"}`), graph.Account{Name: "Ada", Email: "ada@contoso.example", TenantID: "t1"}, false},
		{"email when preferred_username is not an address", jwt(`{"name":"Ada","preferred_username":"ada","email":"ada@contoso.example","tid":"t1"}`), graph.Account{Name: "Ada", Email: "ada@contoso.example", TenantID: "t1"}, false},
		{"upn last", jwt(`{"name":"Ada","upn":"ada@contoso.example"}`), graph.Account{Name: "Ada", Email: "ada@contoso.example"}, false},
		{"padded payload", strings.Replace(jwt(`{"name":"Bo"}`), ".c2ln", "==.c2ln", 1), graph.Account{Name: "Bo"}, false},
		{"two segments", "a.b", graph.Account{}, true},
		{"bad base64", "a.%%%.c", graph.Account{}, true},
		{"not JSON", jwt(`nope`), graph.Account{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := graph.AccountFromIDToken(tc.token)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("AccountFromIDToken = %+v, %v; want %+v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestSignInIDTokenFromFake(t *testing.T) {
	id := newIdentity(t)
	res := signIn(t, id)
	raw, _ := res.Token.Extra("id_token").(string)
	acct, err := graph.AccountFromIDToken(raw)
	if err != nil || acct.Email != sandboxAccount.Email {
		t.Fatalf("ID token of the fake: %+v, %v", acct, err)
	}
	if res.Token.Expiry.Before(time.Now().Add(50*time.Minute)) || res.Token.Type() != "Bearer" {
		t.Errorf("token expiry %v type %q", res.Token.Expiry, res.Token.Type())
	}
	var _ oauth2.TokenSource = (*graph.TokenSource)(nil)
}

// A person who connected when Mail Sync still asked for Mail.Send keeps
// working: the refresh asks for exactly the six scopes (scope sent as MSAL
// sends it), which the wider grant covers.
func TestTokenSourceRefreshesAnOlderWiderGrant(t *testing.T) {
	id := newIdentity(t)
	id.AutoApprove(true)
	wide := graph.OAuthConfig(id.Authority(), id.ClientID())
	wide.Scopes = append(wide.Scopes, "Mail.Send")
	s := &graph.SignIn{Config: wide, Open: func(u string) error { go browse(u); return nil }}
	res, err := s.Run(context.Background())
	if err != nil {
		t.Fatalf("sign in with the older scopes: %v", err)
	}
	ts := graph.NewTokenSource(context.Background(), graph.OAuthConfig(id.Authority(), id.ClientID()), res.Token.RefreshToken, func(string) error { return nil })
	tok, err := ts.Token()
	if err != nil {
		t.Fatalf("refresh of the older grant: %v", err)
	}
	if !id.ValidAccessToken(tok.AccessToken) {
		t.Error("the refreshed access token is not one the identity platform issued")
	}
	if got := id.Stats().RefreshScope; !sameScopes(got, sixScopes) {
		t.Errorf("refresh sent scope %q, want exactly %q", got, sixScopes)
	}
	if got, _ := tok.Extra("scope").(string); strings.Contains(got, "Mail.Send") {
		t.Errorf("the refreshed token is for %q, which includes Mail.Send", got)
	}
}
