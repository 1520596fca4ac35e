package graph_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"mailsync/sync/graph"
	"mailsync/sync/remote"
	"mailsync/sync/remote/remotetest"
)

func newListener(t *testing.T) *remotetest.OtherHost {
	h := remotetest.NewOtherHost()
	t.Cleanup(h.Close)
	return h
}

// A 302 from Graph to another host must not carry the bearer token there,
// even with a caller's http.Client that follows every redirect and a
// transport that adds the token to each request it sends.
func TestGraphRedirectToAnotherHostKeepsTheToken(t *testing.T) {
	second := newListener(t)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, second.URL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer first.Close()
	c := graph.NewClient(first.URL+"/v1.0", &http.Client{Transport: bearer{token: func() string { return "secret-access-token" }}})
	c.Policy = testPolicy
	_, err := c.Me(context.Background())
	if err == nil {
		t.Fatal("Me followed a redirect to another host")
	}
	if !strings.Contains(err.Error(), "another host") {
		t.Errorf("error %q does not say the redirect went to another host", err)
	}
	if remote.KindOf(err) != remote.Permanent {
		t.Errorf("kind = %v, want permanent", remote.KindOf(err))
	}
	if got := second.Requests(); len(got) != 0 {
		t.Errorf("the second listener was reached %d times: %q", len(got), got)
	}
}

// The token endpoint answering 307 to another host must not make the token
// source send the refresh token there.
func TestTokenEndpointRedirectKeepsTheRefreshToken(t *testing.T) {
	second := newListener(t)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, second.URL+"/token", http.StatusTemporaryRedirect)
	}))
	defer first.Close()
	cfg := graph.OAuthConfig(first.URL+"/common", "client-id")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{})
	ts := graph.NewTokenSource(ctx, cfg, "secret-refresh-token", func(string) error { return nil })
	ts.Retry = fastRetry
	if _, err := ts.Token(); err == nil {
		t.Fatal("Token followed a redirect to another host")
	}
	for _, r := range second.Requests() {
		if strings.Contains(r, "secret-refresh-token") {
			t.Errorf("the refresh token reached the second listener: %q", r)
		}
	}
	if got := second.Requests(); len(got) != 0 {
		t.Errorf("the second listener was reached %d times", len(got))
	}
}
