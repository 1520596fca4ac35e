package remote

import (
	"strconv"
	"testing"
	"time"
)

// FuzzRetryAfter: any Retry-After value gives no panic, never a negative or
// overflowed wait, never more than MaxRetryAfter, and a delay-seconds value
// never waits less than it says.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"2.128", "0", "120", "-1", "99999999999999999999", "9223372036.854775808",
		"Thu, 26 Nov 2026 12:00:30 GMT", "NaN", "1e9", ".5", "5.", "0x10", " 7 ", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := RetryAfter(v, now)
		if !ok {
			if d != 0 {
				t.Fatalf("RetryAfter(%q) = %v without an answer", v, d)
			}
			return
		}
		if d < 0 || d > MaxRetryAfter {
			t.Fatalf("RetryAfter(%q) = %v, outside 0..%v", v, d, MaxRetryAfter)
		}
		if secs, err := strconv.ParseFloat(v, 64); err == nil && isDelaySeconds(v) {
			if want := time.Duration(secs * float64(time.Second)); secs < MaxRetryAfter.Seconds() && d < want {
				t.Fatalf("RetryAfter(%q) = %v, shorter than asked", v, d)
			}
		}
	})
}
