package remotetest

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func draws(f Faults, n int, only ...FaultKind) []FaultKind {
	var in Injector
	in.Set(f)
	out := make([]FaultKind, n)
	for i := range out {
		out[i] = in.Draw(only...)
	}
	return out
}

func TestDrawRepeatsForASeed(t *testing.T) {
	f := Faults{Rate: 0.5, Seed: 3}
	a, b := draws(f, 200), draws(f, 200)
	if !slices.Equal(a, b) {
		t.Fatal("two draws with one seed differ")
	}
	seen := map[FaultKind]int{}
	for _, k := range a {
		seen[k]++
	}
	for _, k := range append(AllKinds, 0) {
		if seen[k] == 0 {
			t.Errorf("nil Kinds never drew %v in 200 requests: %v", k, seen)
		}
	}
	if slices.Equal(a, draws(Faults{Rate: 0.5, Seed: 4}, 200)) {
		t.Error("another seed drew the same faults")
	}
}

func TestDrawLimits(t *testing.T) {
	var zero Injector
	if k := zero.Draw(); k != 0 {
		t.Errorf("zero Injector drew %v", k)
	}
	if got := draws(Faults{Rate: 1, Kinds: []FaultKind{Slow}, Max: 2}, 4); !slices.Equal(got, []FaultKind{Slow, Slow, 0, 0}) {
		t.Errorf("Max 2 drew %v", got)
	}
	for _, k := range draws(Faults{Rate: 1}, 50, Throttle429, Unavailable503) {
		if k != Throttle429 && k != Unavailable503 {
			t.Fatalf("limited to 429 and 503, drew %v", k)
		}
	}
	if got := draws(Faults{Rate: 1, Kinds: []FaultKind{ConnReset}}, 3, Throttle429); !slices.Equal(got, []FaultKind{0, 0, 0}) {
		t.Errorf("no configured kind allowed, drew %v", got)
	}
}

func TestAnnounceRetry(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var in Injector
	in.Set(Faults{RetryAfter: 1500 * time.Millisecond})
	h := http.Header{}
	in.AnnounceRetry(h, Throttle429, "a", now)
	if got := h.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (1.5 s rounded up)", got)
	}
	for _, c := range []struct {
		client string
		at     time.Duration
		early  bool
	}{
		{"a", 1900 * time.Millisecond, true},
		{"a", 2 * time.Second, false},
		{"b", 0, false},
	} {
		if got := in.Early(c.client, now.Add(c.at)); got != c.early {
			t.Errorf("Early(%s, +%v) = %v, want %v", c.client, c.at, got, c.early)
		}
	}
	in.ForgetRetries()
	if in.Early("a", now) {
		t.Error("Early after ForgetRetries")
	}

	in.Set(Faults{})
	h = http.Header{}
	in.AnnounceRetry(h, Unavailable503, "c", now)
	if _, ok := h["Retry-After"]; ok || in.Early("c", now) {
		t.Error("a 503 without Faults.RetryAfter announced a Retry-After")
	}
}
