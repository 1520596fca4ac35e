package graph_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"mailsync/sync/graph"
)

// hangLimit is how long a stopped renewal may take to return before the
// test calls it a hang: far below the token endpoint's own timeouts (45 s
// for an answer, three attempts), far above any loaded machine's delay.
const hangLimit = 30 * time.Second

// silentEndpoint is a token endpoint that accepts every request and never
// answers it (a captive portal, a VPN that drops traffic). Each request
// that arrives is announced on the returned channel.
func silentEndpoint(t *testing.T) (authority string, arrived <-chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	hits := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hits <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: the handlers return, then the server closes
	return srv.URL, hits
}

func waitArrived(t *testing.T, arrived <-chan struct{}) {
	t.Helper()
	select {
	case <-arrived:
	case <-time.After(hangLimit):
		t.Fatal("the renewal never reached the token endpoint")
	}
}

func waitErr(t *testing.T, what string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(hangLimit):
		t.Fatalf("%s did not return after its context ended: it waits for the token endpoint", what)
		return nil
	}
}

// A request whose context ends stops the renewal it started, and a caller
// waiting for that renewal stops waiting when its own context ends.
func TestTokenRenewalEndsWithTheRequest(t *testing.T) {
	authority, arrived := silentEndpoint(t)
	ts := graph.NewTokenSource(context.Background(), graph.OAuthConfig(authority, "client"), "rt", func(string) error { return nil })
	ts.Retry = fastRetry

	graphSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(graphSrv.Close)
	reqCtx, cancelReq := context.WithCancel(context.Background())
	defer cancelReq()
	requested := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(reqCtx, http.MethodGet, graphSrv.URL+"/me", nil)
		resp, err := ts.Client(context.Background()).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		requested <- err
	}()
	waitArrived(t, arrived)

	waitCtx, cancelWait := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() { _, err := ts.TokenContext(waitCtx); waited <- err }()
	cancelWait()
	if err := waitErr(t, "a caller waiting for the renewal", waited); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting caller: err = %v, want context.Canceled", err)
	}

	cancelReq()
	if err := waitErr(t, "the request", requested); !errors.Is(err, context.Canceled) {
		t.Errorf("request: err = %v, want context.Canceled", err)
	}
}

// Ending the source's own context (a disconnect, Quit) stops a renewal in
// flight started by a caller without a deadline.
func TestTokenRenewalEndsWithTheSource(t *testing.T) {
	authority, arrived := silentEndpoint(t)
	life, end := context.WithCancel(context.Background())
	defer end()
	ts := graph.NewTokenSource(life, graph.OAuthConfig(authority, "client"), "rt", func(string) error { return nil })
	ts.Retry = fastRetry
	done := make(chan error, 1)
	go func() { _, err := ts.Token(); done <- err }()
	waitArrived(t, arrived)
	end()
	if err := waitErr(t, "Token", done); !errors.Is(err, context.Canceled) {
		t.Errorf("Token after the source's context ended: err = %v, want context.Canceled", err)
	}
}
