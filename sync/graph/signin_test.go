package graph_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
)

var sandboxAccount = graphtest.IdentityAccount{
	Name:     "Ada Lovelace",
	Email:    "ada@contoso.example",
	TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
}

func newIdentity(t *testing.T) *graphtest.Identity {
	t.Helper()
	id := graphtest.NewIdentity(sandboxAccount)
	t.Cleanup(id.Close)
	return id
}

type runResult struct {
	res *graph.Result
	err error
}

// startSignIn runs s in the background and returns the sign-in URL it
// produced and the channel of its outcome.
func startSignIn(t *testing.T, ctx context.Context, s *graph.SignIn) (string, <-chan runResult) {
	t.Helper()
	urls := make(chan string, 1)
	s.OnURL = func(u string) { urls <- u }
	out := make(chan runResult, 1)
	go func() {
		res, err := s.Run(ctx)
		out <- runResult{res, err}
	}()
	select {
	case u := <-urls:
		return u, out
	case r := <-out:
		t.Fatalf("Run ended before giving a URL: %v", r.err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run gave no URL")
	}
	return "", nil
}

func wait(t *testing.T, out <-chan runResult) runResult {
	t.Helper()
	select {
	case r := <-out:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
	return runResult{}
}

// callbackOf returns the redirect URI's port and the state of a sign-in URL.
func callbackOf(t *testing.T, authURL string) (port, state string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	ru, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil {
		t.Fatal(err)
	}
	return ru.Port(), u.Query().Get("state")
}

// browse GETs u and follows redirects and the identity platform's
// self-posting form, as a browser does, returning the final status and page.
func browse(u string) (int, string, error) { return graphtest.Browse(u) }

// sixScopes is what Mail Sync asks for, no more.
const sixScopes = "openid profile email User.Read offline_access Mail.Read"

// sameScopes reports whether the space-separated lists hold the same scopes.
func sameScopes(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// browser stands in for the person's browser: open visits the sign-in URL
// with visit in the background, as a browser does not block the app, and
// hands the page it ended on (or the error) to pages.
func browser(visit func(u string) (string, error)) (open func(u string) error, pages <-chan string) {
	ch := make(chan string, 1)
	return func(u string) error {
		go func() {
			page, err := visit(u)
			if err != nil {
				page = err.Error()
			}
			ch <- page
		}()
		return nil
	}, ch
}

// postWithHost POSTs form to u with the given Host header ("" for u's).
func postWithHost(u string, form url.Values, host string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return statusWithHost(req, host)
}

func getWithHost(u, host string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	return statusWithHost(req, host)
}

// statusWithHost sends req with the given Host header ("" for its URL's)
// and returns the answer's status.
func statusWithHost(req *http.Request, host string) (int, error) {
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func assertRefused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections", addr)
	}
	// Refused, or reset when the kernel had half-accepted the connection as
	// the listener closed: either way nothing serves the port any more.
	if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
}

// assertClosed checks that nothing listens on the sign-in port any more, on
// either loopback address.
func assertClosed(t *testing.T, port string) {
	t.Helper()
	assertRefused(t, net.JoinHostPort("127.0.0.1", port))
	if l, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		l.Close()
		assertRefused(t, net.JoinHostPort("::1", port))
	}
}

func TestOAuthConfig(t *testing.T) {
	cfg := graph.OAuthConfig("https://login.microsoftonline.com/organizations/", "client-1")
	if cfg.Endpoint.AuthURL != "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize" ||
		cfg.Endpoint.TokenURL != "https://login.microsoftonline.com/organizations/oauth2/v2.0/token" {
		t.Errorf("endpoints = %+v", cfg.Endpoint)
	}
	if cfg.Endpoint.AuthStyle != oauth2.AuthStyleInParams || cfg.ClientSecret != "" || cfg.ClientID != "client-1" {
		t.Errorf("not a public client: %+v", cfg)
	}
	want := []string{"openid", "profile", "email", "User.Read", "offline_access", "Mail.Read"}
	if !slices.Equal(cfg.Scopes, want) {
		t.Errorf("scopes = %v, want %v", cfg.Scopes, want)
	}
}

func TestSignInSuccess(t *testing.T) {
	id := newIdentity(t)
	id.AutoApprove(true)
	open, pages := browser(func(u string) (string, error) {
		_, page, err := browse(u)
		return page, err
	})
	s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID()), Open: open}
	authURL, out := startSignIn(t, context.Background(), s)
	r := wait(t, out)
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}

	q, _ := url.Parse(authURL)
	params := q.Query()
	port, state := callbackOf(t, authURL)
	if params.Get("redirect_uri") != "http://localhost:"+port+"/" {
		t.Errorf("redirect_uri = %q", params.Get("redirect_uri"))
	}
	if params.Get("code_challenge_method") != "S256" || len(params.Get("code_challenge")) != 43 {
		t.Errorf("PKCE parameters = %q %q", params.Get("code_challenge_method"), params.Get("code_challenge"))
	}
	if len(state) < 20 {
		t.Errorf("state %q is too short to be unguessable", state)
	}
	if !sameScopes(params.Get("scope"), sixScopes) {
		t.Errorf("scope = %q, want exactly %q", params.Get("scope"), sixScopes)
	}
	if params.Get("response_mode") != "form_post" {
		t.Errorf("response_mode = %q, want form_post", params.Get("response_mode"))
	}
	if got := id.Stats().RedemptionScope; !sameScopes(got, sixScopes) {
		t.Errorf("code redeemed with scope %q, want %q", got, sixScopes)
	}

	if page := <-pages; !strings.Contains(page, "Connected — you can close this tab") {
		t.Errorf("browser page = %q", page)
	}
	if !id.ValidAccessToken(r.res.Token.AccessToken) || r.res.Token.RefreshToken == "" {
		t.Errorf("token not as issued: access valid=%v refresh empty=%v", id.ValidAccessToken(r.res.Token.AccessToken), r.res.Token.RefreshToken == "")
	}
	want := graph.Account{Name: sandboxAccount.Name, Email: sandboxAccount.Email, TenantID: sandboxAccount.TenantID}
	if r.res.Account != want {
		t.Errorf("account = %+v, want %+v", r.res.Account, want)
	}

	// The listener is gone: a second callback, even with the right state,
	// cannot connect.
	assertClosed(t, port)
	if _, err := postWithHost("http://127.0.0.1:"+port+"/", url.Values{"code": {"again"}, "state": {state}}, ""); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("second callback: err = %v, want connection refused", err)
	}
}

func TestSignInIgnoresStrayCallbacks(t *testing.T) {
	id := newIdentity(t)
	id.AutoApprove(true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	type stray struct {
		name string
		form url.Values // POSTed; nil for a GET of path
		path string
		host string
	}
	checked := make(chan error, 1)
	s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID())}
	s.Open = func(u string) error {
		port, state := callbackOf(t, u)
		base := "http://127.0.0.1:" + port
		strays := []stray{
			{"wrong state", url.Values{"code": {"forged"}, "state": {"not-the-state"}}, "", ""},
			{"missing state", url.Values{"code": {"forged"}}, "", ""},
			{"error without state", url.Values{"error": {"access_denied"}}, "", ""},
			{"foreign Host", url.Values{"code": {"forged"}, "state": {state}}, "", "attacker.example:" + port},
			{"Host with other port", url.Values{"code": {"forged"}, "state": {state}}, "", "localhost:1"},
			// The right state in a link: a code in a URL is never taken.
			{"code in a GET", nil, "/?code=forged&state=" + url.QueryEscape(state), ""},
			{"error in a GET", nil, "/?error=access_denied&state=" + url.QueryEscape(state), ""},
		}
		go func() {
			for _, st := range strays {
				var status int
				var err error
				if st.form != nil {
					status, err = postWithHost(base+"/", st.form, st.host)
				} else {
					status, err = getWithHost(base+st.path, st.host)
				}
				if err != nil || status != http.StatusBadRequest {
					checked <- errors.New(st.name + ": status " + strconv.Itoa(status) + ", err " + errString(err) + "; want 400")
					return
				}
			}
			// The flow is still waiting: the real answer completes it.
			if _, page, err := browse(u); err != nil || !strings.Contains(page, "Connected") {
				checked <- errors.New("real callback after strays: " + errString(err) + " " + page)
				return
			}
			checked <- nil
		}()
		return nil
	}
	authURL, out := startSignIn(t, ctx, s)
	r := wait(t, out)
	if err := <-checked; err != nil {
		t.Fatal(err)
	}
	if r.err != nil {
		t.Fatalf("Run after stray callbacks: %v", r.err)
	}
	if n := id.Stats().TokenRequests; n != 1 {
		t.Errorf("token requests = %d, want 1 (strays must not be exchanged)", n)
	}
	port, _ := callbackOf(t, authURL)
	assertClosed(t, port)
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestSignInRefusesNonLoopbackAddresses(t *testing.T) {
	id := newIdentity(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID())}
	authURL, out := startSignIn(t, ctx, s)
	port, _ := callbackOf(t, authURL)

	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 2*time.Second)
	if err != nil {
		t.Fatalf("loopback listener not reachable: %v", err)
	}
	c.Close()

	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
			continue
		}
		tried++
		addr := net.JoinHostPort(ipn.IP.String(), port)
		if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
			c.Close()
			t.Errorf("sign-in listener reachable on %s", addr)
		}
	}
	cancel()
	r := wait(t, out)
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", r.err)
	}
	if tried == 0 {
		t.Skip("the machine has no non-loopback address to try")
	}
}

func TestSignInClosesListenerOnCancel(t *testing.T) {
	id := newIdentity(t)
	ctx, cancel := context.WithCancel(context.Background())
	s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID())}
	authURL, out := startSignIn(t, ctx, s)
	cancel()
	r := wait(t, out)
	if !errors.Is(r.err, context.Canceled) || r.res != nil {
		t.Fatalf("Run = %v, %v; want context.Canceled", r.res, r.err)
	}
	port, _ := callbackOf(t, authURL)
	assertClosed(t, port)
}

func TestSignInTimeout(t *testing.T) {
	id := newIdentity(t)
	s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID()), Timeout: 150 * time.Millisecond}
	authURL, out := startSignIn(t, context.Background(), s)
	r := wait(t, out)
	if !errors.Is(r.err, graph.ErrTimedOut) {
		t.Fatalf("Run = %v, want ErrTimedOut", r.err)
	}
	if want := "Sign-in timed out after 150ms; nothing was changed."; r.err.Error() != want {
		t.Errorf("message = %q, want %q", r.err.Error(), want)
	}
	port, _ := callbackOf(t, authURL)
	assertClosed(t, port)
	if got := graph.ErrTimedOut.Error(); got != "Sign-in timed out after 5 minutes; nothing was changed." {
		t.Errorf("ErrTimedOut = %q", got)
	}
}

var pageIDPattern = regexp.MustCompile(`name="request" value="([^"]+)"`)

// answerSignInPage loads the fake's sign-in page and submits it with the
// given button, following the redirect, as a browser would.
func answerSignInPage(authURL, action string) (string, error) {
	_, page, err := browse(authURL)
	if err != nil {
		return "", err
	}
	m := pageIDPattern.FindStringSubmatch(page)
	if m == nil {
		return "", errors.New("no sign-in form on the page: " + page)
	}
	_, page, err = graphtest.BrowsePost(authURL, url.Values{"request": {m[1]}, "action": {action}})
	return page, err
}

func TestSignInDeclined(t *testing.T) {
	id := newIdentity(t)
	open, pages := browser(func(u string) (string, error) { return answerSignInPage(u, "cancel") })
	s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID()), Open: open}
	authURL, out := startSignIn(t, context.Background(), s)
	r := wait(t, out)
	if !errors.Is(r.err, graph.ErrDeclined) || r.res != nil {
		t.Fatalf("Run = %v, %v; want ErrDeclined", r.res, r.err)
	}
	if r.err.Error() != "Sign-in was cancelled in the browser, so Mail Sync is not connected." {
		t.Errorf("message = %q", r.err.Error())
	}
	if page := <-pages; !strings.Contains(page, "Sign-in was cancelled in the browser") {
		t.Errorf("browser page = %q", page)
	}
	if n := len(id.Issued()); n != 0 {
		t.Errorf("%d tokens issued after a decline", n)
	}
	port, _ := callbackOf(t, authURL)
	assertClosed(t, port)
}

func TestSignInProviderError(t *testing.T) {
	id := newIdentity(t)
	s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID())}
	authURL, out := startSignIn(t, context.Background(), s)
	port, state := callbackOf(t, authURL)
	q := url.Values{
		"error":             {"server_error"},
		"error_description": {"AADSTS50000: There was an error issuing a token.\r\nTrace ID: 1234\r\nTimestamp: now"},
		"state":             {state},
	}
	if status, err := postWithHost("http://localhost:"+port+"/", q, ""); err != nil || status != http.StatusOK {
		t.Fatalf("callback: %d %v", status, err)
	}
	r := wait(t, out)
	if r.err == nil || errors.Is(r.err, graph.ErrDeclined) {
		t.Fatalf("Run = %v, want a sign-in error", r.err)
	}
	msg := r.err.Error()
	if !strings.Contains(msg, "AADSTS50000: There was an error issuing a token.") || strings.Contains(msg, "Trace ID") {
		t.Errorf("message = %q", msg)
	}
}

// access_denied is "cancelled" only when it is the person's own doing;
// a refusal by policy keeps Microsoft's words.
func TestSignInAccessDeniedShapes(t *testing.T) {
	for _, c := range []struct {
		name      string
		q         url.Values
		cancelled bool
	}{
		{"cancel subcode", url.Values{"error_subcode": {"cancel"}, "error_description": {"AADSTS65004: User declined to consent to access the app."}}, true},
		// The bare answer may be a Cancel: it is ErrDeclined, and an
		// *ApprovalError too (TestSignInConsentShapes).
		{"bare cancel subcode", url.Values{"error_subcode": {"cancel"}}, true},
		{"consent declined", url.Values{"error_description": {"AADSTS65004: User declined to consent to access the app.\r\nTrace ID: 1"}}, true},
		{"bare", url.Values{}, true},
		{"plain words", url.Values{"error_description": {"The user denied the request"}}, true},
		{"conditional access", url.Values{"error_description": {"AADSTS53003: Access has been blocked by Conditional Access policies.\r\nTrace ID: 2"}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := newIdentity(t)
			s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID())}
			authURL, out := startSignIn(t, context.Background(), s)
			port, state := callbackOf(t, authURL)
			q := url.Values{"error": {"access_denied"}, "state": {state}}
			for k, v := range c.q {
				q[k] = v
			}
			if status, err := postWithHost("http://localhost:"+port+"/", q, ""); err != nil || status != http.StatusOK {
				t.Fatalf("callback: %d %v", status, err)
			}
			r := wait(t, out)
			if r.res != nil || r.err == nil {
				t.Fatalf("Run = %v, %v; want an error", r.res, r.err)
			}
			if got := errors.Is(r.err, graph.ErrDeclined); got != c.cancelled {
				t.Errorf("Run = %q; cancelled %v, want %v", r.err, got, c.cancelled)
			}
			if !c.cancelled && (!strings.Contains(r.err.Error(), "AADSTS53003: Access has been blocked") || strings.Contains(r.err.Error(), "Trace ID")) {
				t.Errorf("message = %q, want Microsoft's first line", r.err)
			}
		})
	}
}

func TestSignInOpenFailsWithoutOnURL(t *testing.T) {
	id := newIdentity(t)
	s := &graph.SignIn{
		Config: graph.OAuthConfig(id.Authority(), id.ClientID()),
		Open:   func(string) error { return errors.New("no browser") },
	}
	_, err := s.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no browser") {
		t.Fatalf("Run = %v, want the opener's error", err)
	}
}

// TestSignInGivesUpAPortTakenOnEitherLoopback: the redirect says
// localhost, which the browser may resolve to 127.0.0.1 or ::1, so a port
// someone else holds on either address is never the one used.
func TestSignInGivesUpAPortTakenOnEitherLoopback(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback on this machine")
	}
	probe.Close()
	for _, network := range []struct{ net, host string }{{"tcp6", "::1"}, {"tcp4", "127.0.0.1"}} {
		t.Run(network.host, func(t *testing.T) {
			held, err := net.Listen(network.net, net.JoinHostPort(network.host, "0"))
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			heldPort := strconv.Itoa(held.Addr().(*net.TCPAddr).Port)

			id := newIdentity(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID())}
			p, _ := strconv.Atoi(heldPort)
			graph.TryPortsFirstForTest(s, p)
			authURL, out := startSignIn(t, ctx, s)
			port, _ := callbackOf(t, authURL)
			if port == heldPort {
				t.Fatalf("the redirect uses port %s, held on %s by another program", port, network.host)
			}
			// Both loopback addresses answer on the port the redirect names.
			for _, host := range []string{"127.0.0.1", "::1"} {
				resp, err := http.Get("http://" + net.JoinHostPort(host, port) + "/")
				if err != nil {
					t.Fatalf("%s:%s does not answer: %v", host, port, err)
				}
				resp.Body.Close()
				// The sign-in answers a bare GET with 405 (it takes only
				// the form POST); the held listener never answers.
				if resp.StatusCode != http.StatusMethodNotAllowed {
					t.Fatalf("%s:%s answered %s, want the sign-in's 405", host, port, resp.Status)
				}
			}
			cancel()
			wait(t, out)
		})
	}
}
