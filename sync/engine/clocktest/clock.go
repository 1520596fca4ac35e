// Package clocktest holds FakeClock, the engine.Clock that tests move by
// hand, so that schedules are tested without sleeping.
package clocktest

import (
	"sort"
	"sync"
	"time"

	"mailsync/sync/engine"
)

// FakeClock is a Clock for tests. It keeps two times like a real machine:
// the wall clock (Now, moved by Advance and Set) and the elapsed time that
// timers run on (moved only by Advance), so a test can model a machine that
// slept (Set forward, then Advance a little) or a clock set backwards. Safe
// for concurrent use.
type FakeClock struct {
	mu      sync.Mutex
	wall    time.Time
	elapsed time.Duration
	timers  []*fakeTimer
	made    int
	changed chan struct{} // closed and replaced whenever a timer is made
}

// NewFakeClock returns a fake clock whose wall clock reads now.
func NewFakeClock(now time.Time) *FakeClock {
	return &FakeClock{wall: now.Round(0), changed: make(chan struct{})}
}

// Now returns the fake wall-clock time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

// NewTimer returns a timer that fires when Advance has moved the clock d
// further.
func (c *FakeClock) NewTimer(d time.Duration) engine.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, at: c.elapsed + d, ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.wall
	} else {
		c.timers = append(c.timers, t)
	}
	c.made++
	close(c.changed)
	c.changed = make(chan struct{})
	return t
}

// Advance moves both the wall clock and the timers' time forward by d and
// fires every timer that is due, earliest first. It returns how many fired.
func (c *FakeClock) Advance(d time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.elapsed += d
	c.wall = c.wall.Add(d)
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at < c.timers[j].at })
	fired := 0
	for len(c.timers) > 0 && c.timers[0].at <= c.elapsed {
		c.timers[0].ch <- c.wall
		c.timers = c.timers[1:]
		fired++
	}
	return fired
}

// Set moves the wall clock to t without moving the timers, as a clock
// adjustment or a machine waking from sleep does.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wall = t.Round(0)
}

// UntilNextTimer returns the time Advance must move to fire the earliest
// pending timer, and false when no timer is pending.
func (c *FakeClock) UntilNextTimer() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return 0, false
	}
	next := c.timers[0].at
	for _, t := range c.timers[1:] {
		next = min(next, t.at)
	}
	return next - c.elapsed, true
}

// TimersMade returns how many timers have been made so far; with
// WaitTimersMade it lets a test wait until the code under test is waiting
// again.
func (c *FakeClock) TimersMade() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.made
}

// WaitTimersMade waits until more than n timers have been made, or until
// limit has passed in real time (a safety net for a broken test); it reports
// whether the count was reached.
func (c *FakeClock) WaitTimersMade(n int, limit time.Duration) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		made, changed := c.made, c.changed
		c.mu.Unlock()
		if made > n {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}

type fakeTimer struct {
	clock *FakeClock
	at    time.Duration
	ch    chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.timers {
		if p == t {
			c.timers = append(c.timers[:i:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}
