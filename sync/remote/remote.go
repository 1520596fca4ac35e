// Package remote holds what the Microsoft Graph and ClientSuccess clients
// share: the HTTP client with timeouts, the one retry policy (shouldRetry,
// Retry-After, exponential backoff with jitter) and the error kinds that tell
// the engine whether to retry, give up on one item, or ask for a reconnect.
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Kind classifies a failed request for the caller.
type Kind int

const (
	// Transient failures go away by themselves: throttling, 5xx, resets,
	// timeouts, maintenance. The pass fails and a later one retries.
	Transient Kind = 1
	// Permanent failures will not change by retrying: 400, 403, 404.
	Permanent Kind = 2
	// NeedsReconnect means the credentials were refused: the person must
	// connect (or sign in to ClientSuccess) again.
	NeedsReconnect Kind = 3
)

func (k Kind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	case NeedsReconnect:
		return "needs reconnect"
	}
	return "unknown"
}

// Error is a failed request to a remote service. Message is safe to show to a
// person; it never carries a token or a password.
type Error struct {
	Service string // "graph" or "crm"
	Op      string // what was being done: "list messages"
	Kind    Kind
	Status  int    // HTTP status, 0 when no response
	Code    string // service error code, e.g. "ErrorItemNotFound", "invalid_grant"
	Message string // words for a person
	Err     error  // underlying error, if any
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Service)
	if e.Op != "" {
		b.WriteString(": ")
		b.WriteString(e.Op)
	}
	b.WriteString(": ")
	if e.Message != "" {
		b.WriteString(e.Message)
	} else if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err: the Kind of a wrapped *Error, Transient for
// network errors and timeouts, Permanent otherwise. A cancelled context is
// Transient.
func KindOf(err error) Kind {
	var re *Error
	if errors.As(err, &re) {
		return re.Kind
	}
	if err == nil {
		return 0
	}
	if isTransientNetErr(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Transient
	}
	return Permanent
}

// IsNeedsReconnect reports whether err asks the person to connect again.
func IsNeedsReconnect(err error) bool { return KindOf(err) == NeedsReconnect }

// RequestTimeout bounds every single request, including reading its body.
const RequestTimeout = 60 * time.Second

// NewHTTPClient returns an http.Client with the timeouts every request of
// Mail Sync needs. base may be nil (http.DefaultTransport is cloned).
func NewHTTPClient(base http.RoundTripper) *http.Client {
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSHandshakeTimeout = 15 * time.Second
		t.ResponseHeaderTimeout = 45 * time.Second
		t.MaxIdleConnsPerHost = 8
		base = t
	}
	return &http.Client{Transport: base, Timeout: RequestTimeout, CheckRedirect: CheckRedirect}
}

// maxRedirects is how many redirects one request may follow, as net/http's
// default.
const maxRedirects = 10

// CheckRedirect is the one redirect policy of every client that carries a
// secret (the Graph bearer token, the token endpoint's refresh token and
// code, the ClientSuccess password and token): a redirect is followed only to
// the same scheme and host (port included) as the request that was
// redirected, or from http to https on that host. A redirect to another host
// or from https to http is refused with an error that says so, so that no
// credential is ever sent where the service did not ask for it: transports
// that add Authorization themselves (oauth2.Transport) would add it to the
// redirected request too, and a 307 or 308 would send the body (a password)
// again.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return &RedirectError{Reason: fmt.Sprintf("stopped after %d redirects", maxRedirects)}
	}
	if len(via) == 0 {
		return nil
	}
	prev := via[len(via)-1].URL
	to := req.URL
	if !strings.EqualFold(canonicalHost(to), canonicalHost(prev)) {
		return &RedirectError{Reason: "the answer redirected to another host (" + to.Hostname() + "), which Mail Sync does not send credentials to"}
	}
	if prev.Scheme == "https" && to.Scheme != "https" {
		return &RedirectError{Reason: "the answer redirected from https to unencrypted " + to.Scheme + ", which Mail Sync does not send credentials over"}
	}
	return nil
}

// canonicalHost is u's host with its port, the scheme's default port when
// none is written.
func canonicalHost(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// RedirectError is a redirect CheckRedirect refused. It is Permanent: the
// same request would be redirected again.
type RedirectError struct{ Reason string }

func (e *RedirectError) Error() string { return "redirect refused: " + e.Reason }

// GuardRedirects returns hc, or a copy of it, whose redirects follow
// CheckRedirect: clients that accept an *http.Client from their caller apply
// it so that no caller can opt out by accident. nil gives NewHTTPClient(nil).
func GuardRedirects(hc *http.Client) *http.Client {
	if hc == nil {
		return NewHTTPClient(nil)
	}
	c := *hc
	c.CheckRedirect = CheckRedirect
	return &c
}

// Policy is how often and how long to retry.
type Policy struct {
	MaxAttempts int           // total attempts, including the first
	BaseDelay   time.Duration // first backoff
	MaxDelay    time.Duration // cap of any one wait, Retry-After included
}

// DefaultPolicy suits both Graph and ClientSuccess.
var DefaultPolicy = Policy{MaxAttempts: 6, BaseDelay: 500 * time.Millisecond, MaxDelay: 2 * time.Minute}

// ShouldRetry decides whether a request should be tried again and how long to
// wait first. It checks the context first, then honours Retry-After on 429,
// 503 and 504, and backs off exponentially with jitter on other transient
// failures (5xx, resets, timeouts, truncated bodies). attempt counts from 1.
// resp may be nil when err is not.
func ShouldRetry(ctx context.Context, p Policy, attempt int, resp *http.Response, err error) (bool, time.Duration) {
	if ctx.Err() != nil {
		return false, 0
	}
	if attempt >= p.MaxAttempts {
		return false, 0
	}
	backoff := Backoff(p, attempt)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return false, 0
		}
		return isTransientNetErr(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF), backoff
	}
	if resp == nil {
		return false, 0
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := RetryAfterWait(p, resp); ok {
			return true, d
		}
		return true, backoff
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusRequestTimeout,
		// Graph answers a whole $batch (or a step whose dependency failed)
		// 424 Failed Dependency; nothing was done, and trying again helps.
		http.StatusFailedDependency:
		return true, backoff
	}
	return false, 0
}

// RetryAfterWait returns the wait a throttling answer (429, 503, 504) asks
// for with Retry-After, capped at p.MaxDelay; false when resp asks for none.
func RetryAfterWait(p Policy, resp *http.Response) (time.Duration, bool) {
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return 0, false
	}
	d, ok := RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if !ok {
		return 0, false
	}
	return min(d, p.MaxDelay), true
}

// Pause holds every request of one client while a Retry-After runs: Graph
// and ClientSuccess throttle per mailbox or account, so the requests running
// alongside the one that met it would be refused too. The zero value holds
// nothing; it is safe for concurrent use.
type Pause struct {
	mu    sync.Mutex
	until time.Time
}

// Extend makes the pause last at least d from now.
func (p *Pause) Extend(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := time.Now().Add(d); until.After(p.until) {
		p.until = until
	}
}

// Wait waits until the pause has passed or ctx is done.
func (p *Pause) Wait(ctx context.Context) error {
	p.mu.Lock()
	until := p.until
	p.mu.Unlock()
	return Sleep(ctx, time.Until(until))
}

// Backoff is the wait before attempt+1: BaseDelay·2^(attempt-1), capped at
// MaxDelay, with ±25 % jitter so that many clients do not retry in step.
func Backoff(p Policy, attempt int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	if d > p.MaxDelay {
		d = p.MaxDelay
	}
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + jitter
}

// MaxRetryAfter caps what RetryAfter returns: a value beyond it is taken
// as MaxRetryAfter (a date too), never as an overflowed (zero or negative)
// duration.
const MaxRetryAfter = 24 * time.Hour

// RetryAfter parses a Retry-After header: delay-seconds, which Microsoft
// Graph sends fractional ("2.128", its throttling docs' example), or an HTTP
// date. A delay beyond MaxRetryAfter, however absurd, is MaxRetryAfter; a
// negative, NaN or unreadable one is no answer.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if !isDelaySeconds(v) || math.IsNaN(secs) || secs < 0 {
			return 0, false
		}
		if secs >= MaxRetryAfter.Seconds() {
			return MaxRetryAfter, true
		}
		// Rounded up to the microsecond, so that a wait is never shorter
		// than asked.
		return time.Duration(math.Ceil(secs*1e6)) * time.Microsecond, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), MaxRetryAfter), true
	}
	return 0, false
}

// isDelaySeconds reports whether v is written as delay-seconds (digits,
// with a fraction), not as one of ParseFloat's other forms (hex, "inf",
// exponents, underscores).
func isDelaySeconds(v string) bool {
	dot := false
	digits := 0
	for i := range len(v) {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// Sleep waits for d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func isTransientNetErr(err error) bool {
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// NeverConnected reports whether err says no connection to the server was
// made: it refused the connection, its name did not resolve, or the dial
// failed. No server answered, and no byte of a request reached one.
func NeverConnected(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}
