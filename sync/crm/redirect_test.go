package crm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mailsync/sync/crm"
	"mailsync/sync/remote/remotetest"
)

// A 307 on POST /auth to another host over plain http would make net/http
// send the password again; the client must refuse it and the second
// listener must see neither the password nor any Authorization header.
func TestAuthRedirectKeepsThePassword(t *testing.T) {
	second := remotetest.NewOtherHost()
	defer second.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, second.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	defer first.Close()

	// A caller's client that would follow every redirect.
	api := crm.NewClient(first.URL+"/v1", user, func() (string, error) { return password, nil }, &http.Client{})
	api.Policy = fastPolicy
	err := api.Login(context.Background())
	if err == nil {
		t.Fatal("Login followed a redirect to another host")
	}
	if !strings.Contains(err.Error(), "another host") {
		t.Errorf("error %q does not say the redirect went to another host", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("the error carries the password: %q", err)
	}
	if got := second.Requests(); len(got) != 0 {
		t.Errorf("the second listener was reached %d times: %q", len(got), got)
	}
}
