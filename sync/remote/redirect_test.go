package remote

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCheckRedirect(t *testing.T) {
	req := func(u string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	cases := []struct {
		from, to string
		ok       bool
		says     string
	}{
		{"https://graph.microsoft.com/v1.0/me", "https://graph.microsoft.com/v1.0/me/", true, ""},
		{"https://graph.microsoft.com/v1.0/me", "https://GRAPH.microsoft.com:443/x", true, ""},
		{"http://127.0.0.1:8080/a", "https://127.0.0.1:8080/a", true, ""},
		{"http://127.0.0.1:8080/a", "https://127.0.0.1/a", false, "another host"}, // port 443 is another listener
		{"http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b", true, ""},
		{"https://graph.microsoft.com/v1.0/me", "https://evil.example/v1.0/me", false, "another host"},
		{"https://graph.microsoft.com/v1.0/me", "https://graph.microsoft.com:8443/v1.0/me", false, "another host"},
		{"https://api.clientsuccess.com/v1/auth", "http://api.clientsuccess.com/v1/auth", false, "another host"},
		{"https://api.clientsuccess.com:8443/v1/auth", "http://api.clientsuccess.com:8443/v1/auth", false, "https to unencrypted http"},
	}
	for _, c := range cases {
		err := CheckRedirect(req(c.to), []*http.Request{req(c.from)})
		if c.ok != (err == nil) {
			t.Errorf("%s -> %s: err = %v, want ok=%v", c.from, c.to, err, c.ok)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s -> %s: %q does not say %q", c.from, c.to, err, c.says)
		}
	}
	var via []*http.Request
	for range maxRedirects {
		via = append(via, req("https://graph.microsoft.com/"))
	}
	if err := CheckRedirect(req("https://graph.microsoft.com/"), via); err == nil {
		t.Error("a redirect loop was followed without end")
	}
}

// A client given by the caller without a policy gets one, and a redirect on
// the same listener is still followed.
func TestGuardRedirects(t *testing.T) {
	var other atomic.Int32
	second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { other.Add(1) }))
	defer second.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, second.URL+"/x", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/landed", http.StatusFound)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer first.Close()
	hc := GuardRedirects(&http.Client{})
	resp, err := hc.Get(first.URL + "/here")
	if err != nil {
		t.Fatalf("same-host redirect: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("same-host redirect ended with %d", resp.StatusCode)
	}
	_, err = hc.Get(first.URL + "/away")
	var re *RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("redirect to another listener: err = %v, want a RedirectError", err)
	}
	if KindOf(err) != Permanent {
		t.Errorf("a refused redirect is %v, want permanent", KindOf(err))
	}
	if n := other.Load(); n != 0 {
		t.Errorf("the second listener got %d requests", n)
	}
}
