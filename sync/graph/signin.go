package graph

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"mailsync/sync/remote"
	"mailsync/sync/words"
)

// Scopes are the delegated permissions Mail Sync asks for, exactly: sign-in
// and profile (openid profile email User.Read), a refresh token
// (offline_access), and reading the mailbox (Mail.Read). Mail.Send is not
// asked for: Mail Sync never sends mail, and a stolen refresh token must not
// be able to. A person who consented to Mail.Send with an older version keeps
// working: asking for fewer scopes than were consented is allowed.
var Scopes = []string{"openid", "profile", "email", "User.Read", "offline_access", "Mail.Read"}

// DefaultSignInTimeout is how long SignIn.Run waits for the browser when
// SignIn.Timeout is zero.
const DefaultSignInTimeout = 5 * time.Minute

// OAuthConfig returns the configuration of Mail Sync as a public client of
// the Microsoft identity platform at authority (for example
// https://login.microsoftonline.com/organizations): endpoints
// {authority}/oauth2/v2.0/authorize and {authority}/oauth2/v2.0/token, no
// client secret (the client id travels in the form body), and Scopes.
// RedirectURL is left empty: SignIn.Run sets it on its own copy.
func OAuthConfig(authority, clientID string) *oauth2.Config {
	a := strings.TrimRight(authority, "/")
	return &oauth2.Config{
		ClientID: clientID,
		Endpoint: oauth2.Endpoint{
			AuthURL:   a + "/oauth2/v2.0/authorize",
			TokenURL:  a + "/oauth2/v2.0/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		Scopes: slices.Clone(Scopes),
	}
}

// Account is who signed in, as the ID token says.
type Account struct {
	Name     string
	Email    string
	TenantID string
}

// Result is what a successful sign-in gives: the token (access token,
// refresh token, expiry; the ID token is in Token.Extra("id_token")) and the
// account.
type Result struct {
	Token   *oauth2.Token
	Account Account
}

// ErrDeclined is returned by SignIn.Run when the person pressed Cancel or
// refused consent on Microsoft's page (Entra answers access_denied for
// both); a person who did either reads that the sign-in was cancelled.
var ErrDeclined = words.New(declined)

// ErrTimedOut is returned by SignIn.Run when nobody finished signing in in
// time. The error returned names the actual timeout; errors.Is(err,
// ErrTimedOut) holds for every timeout.
var ErrTimedOut error = &timedOutError{after: DefaultSignInTimeout}

type timedOutError struct{ after time.Duration }

func (e *timedOutError) Error() string {
	return fmt.Sprintf(timedOut, durationWords(e.after))
}

func (e *timedOutError) Is(target error) bool { return target == ErrTimedOut }

// durationWords says d the way a person would: "5 minutes", "30 seconds".
func durationWords(d time.Duration) string {
	unit := func(n int64, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return strconv.FormatInt(n, 10) + " " + word + "s"
	}
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	case d >= time.Second && d%time.Second == 0:
		return unit(int64(d/time.Second), "second")
	}
	return d.String()
}

// SignIn is one interactive sign-in through the system browser: OAuth 2
// authorization code with PKCE (S256) and a random state, answered on a
// loopback listener. A SignIn is used for one Run.
type SignIn struct {
	// Config is the public client, usually from OAuthConfig. Run does not
	// modify it.
	Config *oauth2.Config
	// Open shows the sign-in URL to the person, usually in the system
	// browser. It may be nil when OnURL shows the URL. If Open fails and
	// OnURL is set, Run keeps waiting: the person can copy the URL.
	Open func(url string) error
	// Timeout bounds the wait for the browser; DefaultSignInTimeout if zero.
	Timeout time.Duration
	// OnURL, if set, is called with the sign-in URL before Open.
	OnURL func(url string)

	// ports are tried before ports the system picks (tests).
	ports []int
}

// Run signs in and returns the token and the account. It listens on a random
// port of 127.0.0.1 and of ::1 (when the machine has IPv6 loopback), the same
// port on both, with the redirect URI http://localhost:PORT/, which Entra
// accepts for a public client registered with http://localhost. A port
// taken on either address is given up for another (see listenLoopback).
//
// The sign-in URL asks for response_mode=form_post: the answer is a form the
// browser POSTs to the listener. A GET carrying a code (or an error) is
// refused with a 400 page, so a code that ever sat in a URL is never
// redeemed. A callback whose Host header is not this loopback address and
// port, or whose state is wrong or missing, gets a 400 page and Run keeps
// waiting: a stray request cannot end the sign-in. The first callback with the right
// state ends it: ErrDeclined for access_denied, an error in words for any
// other error, or the exchanged token. Run returns ErrTimedOut after
// Timeout, and the context's error when ctx is done. On every return the
// listeners are closed, so a later callback is refused by the system.
func (s *SignIn) Run(ctx context.Context) (*Result, error) {
	if s.Config == nil {
		return nil, errors.New("graph: sign in: no OAuth configuration")
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSignInTimeout
	}

	listeners, port, err := listenLoopback(s.ports)
	if err != nil {
		return nil, fmt.Errorf("graph: sign in: listen on loopback: %w", err)
	}

	cfg := *s.Config
	cfg.RedirectURL = "http://localhost:" + strconv.Itoa(port) + "/"
	verifier := oauth2.GenerateVerifier()
	state := rand.Text()
	authURL := cfg.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier),
		// The answer comes as a form POSTed to the listener, so the code
		// never sits in a URL, the browser's history or a Referer.
		oauth2.SetAuthURLParam("response_mode", "form_post"),
		// Lets a person with several Microsoft accounts pick the mailbox.
		oauth2.SetAuthURLParam("prompt", "select_account"))

	runCtx, cancel := context.WithCancel(ctx)
	// The code and the verifier go to the token endpoint only.
	hc, _ := runCtx.Value(oauth2.HTTPClient).(*http.Client)
	runCtx = context.WithValue(runCtx, oauth2.HTTPClient, remote.GuardRedirects(hc))
	cb := &callback{
		cfg:      &cfg,
		ctx:      runCtx,
		port:     strconv.Itoa(port),
		state:    state,
		verifier: verifier,
		done:     make(chan callbackResult, 1),
	}
	srv := &http.Server{
		Handler:           cb,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	for _, ln := range listeners {
		go func() { _ = srv.Serve(ln) }()
	}
	defer func() {
		// Abort an exchange still in flight, then close the listeners and
		// let a page being written finish.
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
		// Shutdown closes only the listeners Serve has taken; one whose
		// goroutine has not started yet would stay open until it does.
		for _, ln := range listeners {
			_ = ln.Close()
		}
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()

	if s.OnURL != nil {
		s.OnURL(authURL)
	}
	if s.Open != nil {
		if err := s.Open(authURL); err != nil && s.OnURL == nil {
			return nil, fmt.Errorf("graph: sign in: open the browser: %w", err)
		}
	}

	select {
	case r := <-cb.done:
		return r.res, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("graph: sign in: %w", ctx.Err())
	case <-timer.C:
		return nil, &timedOutError{after: timeout}
	}
}

// loopbackAttempts bounds the ports listenLoopback tries.
const loopbackAttempts = 16

// listenLoopback listens on one port of 127.0.0.1 and, when the machine has
// IPv6 loopback, the same port of ::1. The redirect names localhost (the
// only loopback host Entra matches on any port: docs/evidence.md, "Loopback
// redirect"), which the browser may resolve to either address: a program (another user's,
// say) holding the port on the other one would receive the form with the
// code. So a port taken on either address is given up and another tried.
// ports are tried first, then ports the system picks.
func listenLoopback(ports []int) ([]net.Listener, int, error) {
	ipv6 := hasIPv6Loopback()
	var lastErr error
	for i := range loopbackAttempts {
		want := 0
		if i < len(ports) {
			want = ports[i]
		}
		ln4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(want)))
		if err != nil {
			lastErr = err
			continue
		}
		port := ln4.Addr().(*net.TCPAddr).Port
		if !ipv6 {
			return []net.Listener{ln4}, port, nil
		}
		ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
		if err != nil {
			ln4.Close()
			lastErr = err
			continue
		}
		return []net.Listener{ln4, ln6}, port, nil
	}
	return nil, 0, fmt.Errorf("no port free on both 127.0.0.1 and ::1 in %d tries: %w", loopbackAttempts, lastErr)
}

// hasIPv6Loopback reports whether ::1 can be listened on at all; a machine
// without it resolves localhost to 127.0.0.1 only.
func hasIPv6Loopback() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// maxCallbackForm bounds the form the browser posts: code, state,
// session_state, or an error with its description.
const maxCallbackForm = 64 << 10

type callbackResult struct {
	res *Result
	err error
}

// callback answers the browser's redirect on the loopback listener.
type callback struct {
	cfg      *oauth2.Config
	ctx      context.Context
	port     string
	state    string
	verifier string
	done     chan callbackResult // buffered: one send, by the first valid callback

	mu       sync.Mutex
	finished bool
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The listeners are bound to loopback only; this is a second line.
	if !isLoopbackAddr(r.RemoteAddr) {
		writePage(w, http.StatusForbidden, pageRejected, pageNotLoopback)
		return
	}
	// A foreign Host header means a page on another site made the browser
	// call us (DNS rebinding): refuse it.
	if !c.hostOK(r.Host) {
		writePage(w, http.StatusBadRequest, pageRejected, pageWrongHost)
		return
	}
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		if q.Has("code") || q.Has("error") || q.Has("state") {
			writePage(w, http.StatusBadRequest, pageRejected, pageAnswerInLink)
			return
		}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writePage(w, http.StatusMethodNotAllowed, pageRejected, pageOnlyTheForm)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCallbackForm)
	if err := r.ParseForm(); err != nil {
		writePage(w, http.StatusBadRequest, pageRejected, pageUnreadable)
		return
	}
	q := r.PostForm
	if st := q.Get("state"); st == "" || subtle.ConstantTimeCompare([]byte(st), []byte(c.state)) != 1 {
		writePage(w, http.StatusBadRequest, pageRejected, pageOtherSignIn)
		return
	}
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		writePage(w, http.StatusBadRequest, pageRejected, pageFinished)
		return
	}
	c.finished = true
	c.mu.Unlock()

	var res callbackResult
	switch e := q.Get("error"); {
	case e != "" && consentCode(q.Get("error_description")) != "":
		res.err = &ApprovalError{Code: consentCode(q.Get("error_description"))}
		writePage(w, http.StatusOK, pageFailed, pageNeedsApproval)
	case e == "access_denied" && bareCancel(q):
		res.err = &ApprovalError{}
		writePage(w, http.StatusOK, pageDeclined, pageMaybeApproval)
	case e == "access_denied" && !cancelled(q):
		// access_denied also carries refusals the person did not choose
		// (a conditional access policy, a disabled account): those are
		// Microsoft's words, not "cancelled".
		res.err = providerError(e, q.Get("error_description"))
		writePage(w, http.StatusOK, pageFailed, res.err.Error())
	case e == "access_denied":
		res.err = ErrDeclined
		writePage(w, http.StatusOK, pageDeclined, ErrDeclined.Error())
	case e != "":
		res.err = providerError(e, q.Get("error_description"))
		writePage(w, http.StatusOK, pageFailed, res.err.Error())
	case q.Get("code") == "":
		res.err = words.New(noCode)
		writePage(w, http.StatusBadRequest, pageFailed, res.err.Error())
	default:
		// scope on redemption, as MSAL sends it: the token is for exactly
		// these scopes, whatever else was consented to before.
		tok, err := c.cfg.Exchange(c.ctx, q.Get("code"), oauth2.VerifierOption(c.verifier),
			oauth2.SetAuthURLParam("scope", strings.Join(c.cfg.Scopes, " ")))
		if ae := approvalFromToken(err); ae != nil {
			res.err = ae
			writePage(w, http.StatusOK, pageFailed, pageNeedsApproval)
			break
		}
		if err != nil {
			res.err = classifyTokenError("sign in", err)
			writePage(w, http.StatusOK, pageFailed, "Mail Sync could not finish signing in: "+messageOf(res.err))
			break
		}
		res.res = &Result{Token: tok}
		// The account is display data; a token without a readable ID
		// token is still a working connection (the caller can ask /me).
		if id, ok := tok.Extra("id_token").(string); ok {
			if acct, err := AccountFromIDToken(id); err == nil {
				res.res.Account = acct
			}
		}
		writePage(w, http.StatusOK, pageConnected, pageCanClose)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	c.done <- res
}

// hostOK reports whether the Host header names this listener through a
// loopback name: localhost, 127.0.0.1 or [::1], with our port.
func (c *callback) hostOK(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port != c.port {
		return false
	}
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

func isLoopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// providerError turns an error the identity platform sent back through the
// redirect into words. Entra's descriptions start with the AADSTS code and
// may carry trace lines after the first; only the first line is kept.
// cancelled reports whether an access_denied answer is the person's own
// Cancel or refusal of consent: Entra marks the former error_subcode=cancel
// and describes the latter as AADSTS65004; an answer with no AADSTS code
// at all is taken as the person's too, as in plain OAuth 2.0 (RFC 6749
// 4.1.2.1: "The resource owner or authorization server denied the
// request").
func cancelled(q url.Values) bool {
	desc := strings.TrimSpace(q.Get("error_description"))
	return q.Get("error_subcode") == "cancel" || strings.HasPrefix(desc, "AADSTS65004") ||
		!strings.HasPrefix(desc, "AADSTS")
}

// bareCancel reports whether an access_denied answer is the bare one,
// error_subcode=cancel and no description: a person's Cancel, or a refusal
// by the organisation's consent policy ("Need admin approval").
func bareCancel(q url.Values) bool {
	return q.Get("error_subcode") == "cancel" && strings.TrimSpace(q.Get("error_description")) == ""
}

func providerError(code, description string) error {
	desc, _, _ := strings.Cut(strings.TrimSpace(description), "\n")
	desc = strings.TrimSpace(desc)
	if len(desc) > 300 {
		desc = desc[:300] + "…"
	}
	if desc == "" {
		desc = code
	}
	return words.New(providerRefused + desc)
}

func messageOf(err error) string {
	var re *remote.Error
	if errors.As(err, &re) && re.Message != "" {
		return re.Message
	}
	return err.Error()
}

type pageKind string

// The outcome of a page is in data-outcome on #mailsync-result, so that a
// browser-driving test can tell the pages apart without reading the words.
const (
	pageConnected pageKind = "connected"
	pageDeclined  pageKind = "declined"
	pageFailed    pageKind = "failed"
	pageRejected  pageKind = "rejected"
)

var pageTitles = map[pageKind]string{
	pageConnected: "Connected — you can close this tab",
	pageDeclined:  "Mail Sync is not connected",
	pageFailed:    "Mail Sync is not connected",
	pageRejected:  "Request refused",
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mail Sync — {{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f3f4f6;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;color:#1f2937}
main{background:#fff;border-radius:8px;box-shadow:0 2px 12px rgba(0,0,0,.12);padding:32px 40px;max-width:460px}
h1{font-size:1.35rem;margin:0 0 12px}
main[data-outcome=connected] h1{color:#107c10}
main[data-outcome=declined] h1,main[data-outcome=failed] h1,main[data-outcome=rejected] h1{color:#a4262c}
p{line-height:1.5;margin:0}
</style></head>
<body><main id="mailsync-result" data-outcome="{{.Outcome}}">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</main></body></html>
`))

func writePage(w http.ResponseWriter, status int, kind pageKind, message string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Nothing of the sign-in is sent on from these pages.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, struct {
		Title, Message string
		Outcome        pageKind
	}{pageTitles[kind], message, kind})
}
