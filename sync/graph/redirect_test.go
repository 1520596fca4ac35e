package graph_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"mailsync/sync/graph"
	"mailsync/sync/remote"
)

// listener records what reaches it: the second host a redirect points to.
type listener struct {
	*httptest.Server
	mu  sync.Mutex
	got []string // each request's Authorization header and body
}

func newListener(t *testing.T) *listener {
	l := &listener{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.got = append(l.got, r.Header.Get("Authorization")+"|"+string(b))
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"stolen","token_type":"Bearer","expires_in":3600,"value":[]}`)
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *listener) requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
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
	if got := second.requests(); len(got) != 0 {
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
	for _, r := range second.requests() {
		if strings.Contains(r, "secret-refresh-token") {
			t.Errorf("the refresh token reached the second listener: %q", r)
		}
	}
	if got := second.requests(); len(got) != 0 {
		t.Errorf("the second listener was reached %d times", len(got))
	}
}
