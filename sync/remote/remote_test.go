package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

var testPolicy = Policy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second}

func resp(status int, retryAfter string) *http.Response {
	h := http.Header{}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return &http.Response{StatusCode: status, Header: h}
}

func TestShouldRetry(t *testing.T) {
	soon := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	netErr := &net.OpError{Op: "read", Err: syscall.ECONNRESET}
	cases := []struct {
		name     string
		attempt  int
		resp     *http.Response
		err      error
		retry    bool
		min, max time.Duration
	}{
		{"429 with seconds", 1, resp(429, "7"), nil, true, 7 * time.Second, 7 * time.Second},
		{"503 with an HTTP date", 1, resp(503, soon), nil, true, 1 * time.Second, 3 * time.Second},
		{"504 without Retry-After backs off", 1, resp(504, ""), nil, true, 75 * time.Millisecond, 125 * time.Millisecond},
		{"Retry-After is capped", 1, resp(429, "3600"), nil, true, 10 * time.Second, 10 * time.Second},
		{"500 backs off exponentially", 3, resp(500, ""), nil, true, 300 * time.Millisecond, 500 * time.Millisecond},
		{"connection reset", 1, nil, fmt.Errorf("get: %w", netErr), true, 75 * time.Millisecond, 125 * time.Millisecond},
		{"truncated body", 2, nil, io.ErrUnexpectedEOF, true, 150 * time.Millisecond, 250 * time.Millisecond},
		{"400 is final", 1, resp(400, ""), nil, false, 0, 0},
		{"401 is final", 1, resp(401, ""), nil, false, 0, 0},
		{"404 is final", 1, resp(404, ""), nil, false, 0, 0},
		{"200 is not retried", 1, resp(200, ""), nil, false, 0, 0},
		{"attempts run out", 4, resp(503, "1"), nil, false, 0, 0},
		{"other errors are final", 1, nil, errors.New("bad URL"), false, 0, 0},
		{"cancelled request", 1, nil, context.Canceled, false, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			retry, wait := ShouldRetry(context.Background(), testPolicy, c.attempt, c.resp, c.err)
			if retry != c.retry {
				t.Fatalf("retry = %v, want %v", retry, c.retry)
			}
			if retry && (wait < c.min || wait > c.max) {
				t.Errorf("wait = %v, want between %v and %v", wait, c.min, c.max)
			}
		})
	}
}

func TestShouldRetryChecksContextFirst(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if retry, _ := ShouldRetry(ctx, testPolicy, 1, resp(503, "1"), nil); retry {
		t.Error("retried with a cancelled context")
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Thu, 26 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Thu, 26 Nov 2026 11:59:00 GMT", 0, true}, // in the past: go now
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		// Graph's throttling docs show fractional seconds.
		{"2.128", 2128 * time.Millisecond, true},
		{"0.5", 500 * time.Millisecond, true},
		{".25", 250 * time.Millisecond, true},
		// Absurd values are capped, never overflowed to zero or less.
		{"99999999999999999999", MaxRetryAfter, true},
		{"9223372036.854775808", MaxRetryAfter, true},
		{"1e400", 0, false},
		{"NaN", 0, false},
		{"inf", 0, false},
		{"0x10", 0, false},
		{"1_000", 0, false},
		{"1.2.3", 0, false},
		// A date far ahead is capped too (found by FuzzRetryAfter).
		{"Thu, 01 Nov 2100 00:00:00 GMT", MaxRetryAfter, true},
	}
	for _, c := range cases {
		got, ok := RetryAfter(c.in, now)
		if ok != c.ok || got != c.want {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// An absurd Retry-After waits the policy's longest, not zero.
func TestRetryAfterWaitCapsAbsurdValues(t *testing.T) {
	for _, v := range []string{"99999999999999999999", "86400", "3.5e9"} {
		d, ok := RetryAfterWait(testPolicy, resp(429, v))
		if v == "3.5e9" {
			if ok {
				t.Errorf("%q was read as delay-seconds", v)
			}
			continue
		}
		if !ok || d != testPolicy.MaxDelay {
			t.Errorf("RetryAfterWait(%q) = %v, %v; want %v", v, d, ok, testPolicy.MaxDelay)
		}
	}
	if retry, d := ShouldRetry(context.Background(), testPolicy, 1, resp(424, ""), nil); !retry || d <= 0 {
		t.Errorf("a 424 is not retried: %v %v", retry, d)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	p := Policy{MaxAttempts: 20, BaseDelay: time.Second, MaxDelay: 8 * time.Second}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 10: 8 * time.Second} {
		for range 50 {
			d := Backoff(p, attempt)
			if d < want*3/4 || d > want*5/4 {
				t.Fatalf("Backoff(attempt %d) = %v, want %v ± 25 %%", attempt, d, want)
			}
		}
	}
}

func TestKindOf(t *testing.T) {
	reconnect := &Error{Service: "graph", Op: "list messages", Kind: NeedsReconnect, Message: "connect again"}
	cases := []struct {
		err  error
		want Kind
	}{
		{fmt.Errorf("engine: %w", reconnect), NeedsReconnect},
		{&Error{Kind: Permanent}, Permanent},
		{&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, Transient},
		{context.DeadlineExceeded, Transient},
		{errors.New("something else"), Permanent},
	}
	for _, c := range cases {
		if got := KindOf(c.err); got != c.want {
			t.Errorf("KindOf(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if !IsNeedsReconnect(reconnect) || IsNeedsReconnect(errors.New("x")) {
		t.Error("IsNeedsReconnect")
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Service: "crm", Op: "create interaction", Kind: Transient, Status: 503, Code: "Maintenance", Message: "ClientSuccess is down for maintenance"}
	if got := e.Error(); got != "crm: create interaction: ClientSuccess is down for maintenance (Maintenance)" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&Error{Service: "graph", Status: 418}).Error(); got != "graph: HTTP 418" {
		t.Errorf("Error() = %q", got)
	}
}

func TestSleepStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep = %v", err)
	}
}
