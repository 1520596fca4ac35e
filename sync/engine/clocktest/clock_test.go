package clocktest

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func fired(c <-chan time.Time) (time.Time, bool) {
	select {
	case at := <-c:
		return at, true
	default:
		return time.Time{}, false
	}
}

func TestAdvanceFiresDueTimersEarliestFirst(t *testing.T) {
	c := NewFakeClock(t0)
	late := c.NewTimer(2 * time.Hour)
	early := c.NewTimer(time.Hour)
	if d, ok := c.UntilNextTimer(); !ok || d != time.Hour {
		t.Fatalf("UntilNextTimer = %v, %v; want 1h, true", d, ok)
	}
	if n := c.Advance(59 * time.Minute); n != 0 {
		t.Fatalf("Advance(59m) fired %d timers, want 0", n)
	}
	if n := c.Advance(time.Minute); n != 1 {
		t.Fatalf("Advance to 1h fired %d timers, want 1", n)
	}
	if at, ok := fired(early.C()); !ok || !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("early timer: %v, %v; want fired at %v", at, ok, t0.Add(time.Hour))
	}
	if _, ok := fired(late.C()); ok {
		t.Fatal("the 2h timer fired after 1h")
	}
	if n := c.Advance(3 * time.Hour); n != 1 {
		t.Fatalf("Advance past 2h fired %d timers, want 1", n)
	}
	if _, ok := c.UntilNextTimer(); ok {
		t.Fatal("a timer is still pending after all fired")
	}
}

func TestSetMovesWallClockOnly(t *testing.T) {
	c := NewFakeClock(t0)
	tm := c.NewTimer(time.Hour)
	c.Set(t0.Add(8 * time.Hour)) // the machine slept
	if got := c.Now(); !got.Equal(t0.Add(8 * time.Hour)) {
		t.Fatalf("Now after Set = %v", got)
	}
	if _, ok := fired(tm.C()); ok {
		t.Fatal("Set fired a timer; timers run on elapsed time")
	}
	if d, _ := c.UntilNextTimer(); d != time.Hour {
		t.Fatalf("UntilNextTimer after Set = %v, want 1h", d)
	}
	c.Set(t0.Add(-time.Hour)) // clock set backwards
	c.Advance(time.Hour)
	if at, ok := fired(tm.C()); !ok || !at.Equal(t0) {
		t.Fatalf("timer after Advance: %v, %v; want fired at the wall time %v", at, ok, t0)
	}
}

func TestStopAndZeroTimer(t *testing.T) {
	c := NewFakeClock(t0)
	tm := c.NewTimer(time.Minute)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer = false")
	}
	if tm.Stop() {
		t.Fatal("second Stop = true")
	}
	if n := c.Advance(time.Hour); n != 0 {
		t.Fatalf("a stopped timer fired (%d)", n)
	}
	now := c.NewTimer(0)
	if _, ok := fired(now.C()); !ok {
		t.Fatal("a zero-length timer did not fire at once")
	}
}

func TestWaitTimersMade(t *testing.T) {
	c := NewFakeClock(t0)
	n := c.TimersMade()
	go c.NewTimer(time.Minute)
	if !c.WaitTimersMade(n, time.Minute) {
		t.Fatal("WaitTimersMade did not see the timer made")
	}
	if got := c.TimersMade(); got != n+1 {
		t.Fatalf("TimersMade = %d, want %d", got, n+1)
	}
}
