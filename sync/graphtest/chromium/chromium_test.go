package chromium_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailsync/sync/graphtest"
	"mailsync/sync/graphtest/chromium"
)

func authURL(id *graphtest.Identity, redirect string) string {
	cfg := &oauth2.Config{
		ClientID:    id.ClientID(),
		RedirectURL: redirect,
		Scopes:      graphtest.RequiredScopes,
		Endpoint:    oauth2.Endpoint{AuthURL: id.Authority() + "/oauth2/v2.0/authorize"},
	}
	return cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
}

func TestClickInBrowser(t *testing.T) {
	if !chromium.Available() {
		t.Skip("no Chromium at " + chromium.Path)
	}
	id := graphtest.NewIdentity(graphtest.IdentityAccount{})
	defer id.Close()

	// The answer page stands in for Mail Sync's loopback listener.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("state") != "st-1":
			http.Error(w, "bad state", http.StatusBadRequest)
		case q.Get("code") != "":
			w.Write([]byte("<p>Connected with a code</p>"))
		default:
			w.Write([]byte("<p>Not connected: " + q.Get("error") + "</p>"))
		}
	}))
	defer app.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(app.URL, "http://"))
	redirect := "http://localhost:" + port + "/"

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	text, err := chromium.ClickInBrowser(ctx, authURL(id, redirect), "accept")
	if err != nil || !strings.Contains(text, "Connected with a code") {
		t.Fatalf("Accept: %q, %v", text, err)
	}
	text, err = chromium.ClickInBrowser(ctx, authURL(id, redirect), "cancel")
	if err != nil || !strings.Contains(text, "Not connected: access_denied") {
		t.Fatalf("Cancel: %q, %v", text, err)
	}

	// Nothing listens on the redirect URI any more: the click must fail.
	app.Close()
	if text, err := chromium.ClickInBrowser(ctx, authURL(id, redirect), "accept"); err == nil {
		t.Fatalf("answer page unreachable, yet ClickInBrowser succeeded with %q", text)
	}
}
