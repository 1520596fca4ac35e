package crm_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"mailsync/sync/crm"
)

// A 307 on POST /auth to another host over plain http would make net/http
// send the password again; the client must refuse it and the second
// listener must see neither the password nor any Authorization header.
func TestAuthRedirectKeepsThePassword(t *testing.T) {
	var mu sync.Mutex
	var got []string
	second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Header.Get("Authorization")+"|"+string(b))
		mu.Unlock()
		_, _ = io.WriteString(w, `{"access_token":"t","token_type":"Bearer","expires_in":43200}`)
	}))
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
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 0 {
		t.Errorf("the second listener was reached %d times: %q", len(got), got)
	}
}
