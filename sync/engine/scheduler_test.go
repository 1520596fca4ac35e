package engine_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"mailsync/sync/engine"
	"mailsync/sync/engine/clocktest"
)

// safety bounds real waits in these tests; nothing waits for it unless the
// scheduler is broken.
const safety = 60 * time.Second

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// schedHarness runs a Scheduler on a FakeClock with a pass that records its
// start time, and keeps the due time the scheduler tells.
type schedHarness struct {
	t       *testing.T
	clock   *clocktest.FakeClock
	s       *engine.Scheduler
	started chan time.Time // one value per pass start
	release chan struct{}  // when blocking, each pass waits for one value
	block   bool
	passErr error

	mu      sync.Mutex
	passes  []time.Time
	due     time.Time // the last due time told (Next)
	running bool

	cancel context.CancelFunc
	done   chan error
}

func newSchedHarness(t *testing.T, block bool) *schedHarness {
	t.Helper()
	h := &schedHarness{
		t:       t,
		clock:   clocktest.NewFakeClock(t0),
		started: make(chan time.Time, 100),
		release: make(chan struct{}),
		block:   block,
		done:    make(chan error, 1),
	}
	h.s = &engine.Scheduler{
		Interval:   time.Hour,
		StartDelay: 5 * time.Second,
		Clock:      h.clock,
		Pass:       h.pass,
		Next: func(due time.Time) {
			h.mu.Lock()
			h.due = due
			h.mu.Unlock()
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return h
}

func (h *schedHarness) pass(ctx context.Context) (engine.Summary, error) {
	now := h.clock.Now()
	h.mu.Lock()
	h.passes = append(h.passes, now)
	h.running = true
	h.mu.Unlock()
	h.started <- now
	if h.block {
		select {
		case <-h.release:
		case <-ctx.Done():
		}
	}
	h.mu.Lock()
	h.running = false
	h.mu.Unlock()
	return engine.Summary{Start: now}, h.passErr
}

// next is the due time the scheduler told last.
func (h *schedHarness) next() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.due
}

// setPaused pauses or resumes and waits until the scheduler has told the
// due time that goes with it (none while paused). Each due time told is
// followed by a timer, so waiting for the next timer cannot miss it.
func (h *schedHarness) setPaused(paused bool) {
	h.t.Helper()
	h.s.SetPaused(paused)
	for {
		n := h.clock.TimersMade()
		if h.next().IsZero() == paused {
			return
		}
		h.waitWaiting(n)
	}
}

// start runs the scheduler and waits until it waits for its first pass.
func (h *schedHarness) start() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	n := h.clock.TimersMade()
	go func() { h.done <- h.s.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		close(h.release) // unblocks a pass still waiting
		<-h.done
	})
	h.waitWaiting(n)
}

// startThroughFirstPass starts the scheduler and lets its first pass run,
// StartDelay after the start.
func (h *schedHarness) startThroughFirstPass() {
	h.t.Helper()
	h.start()
	h.advance(h.s.StartDelay)
	h.waitPass()
}

// waitWaiting waits until the scheduler has armed a timer after the n-th.
func (h *schedHarness) waitWaiting(n int) {
	h.t.Helper()
	if !h.clock.WaitTimersMade(n, safety) {
		h.t.Fatal("the scheduler did not come back to waiting")
	}
}

// advance moves the fake clock forward by total, one timer at a time,
// waiting after each fired timer until the scheduler waits again, so that
// every pass due in that span has run when advance returns.
func (h *schedHarness) advance(total time.Duration) {
	h.t.Helper()
	for total > 0 {
		d, ok := h.clock.UntilNextTimer()
		if !ok {
			h.t.Fatal("the scheduler is not waiting on a timer")
		}
		d = min(d, total)
		n := h.clock.TimersMade()
		if h.clock.Advance(d) > 0 {
			h.waitWaiting(n)
		}
		total -= d
	}
}

func (h *schedHarness) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.passes)
}

func (h *schedHarness) passTimes() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.passes...)
}

// waitPass waits for the next pass to start and returns its time.
func (h *schedHarness) waitPass() time.Time {
	h.t.Helper()
	select {
	case at := <-h.started:
		return at
	case <-time.After(safety):
		h.t.Fatal("no pass started")
		return time.Time{}
	}
}

// quiet checks that no pass starts in a short real-time window: the
// absence of an event can only be observed by waiting a little.
func (h *schedHarness) quiet() {
	h.t.Helper()
	select {
	case at := <-h.started:
		h.t.Fatalf("unexpected pass at %v", at)
	case <-time.After(50 * time.Millisecond):
	}
}

// drain empties the started channel (passes already counted in passes).
func (h *schedHarness) drain() {
	for {
		select {
		case <-h.started:
		default:
			return
		}
	}
}

func inJitter(d time.Duration) bool {
	return d >= 54*time.Minute && d <= 66*time.Minute
}

func TestSchedulerRunsHourlyWithJitter(t *testing.T) {
	h := newSchedHarness(t, false)
	h.start()
	if got := h.next(); !got.Equal(t0.Add(5 * time.Second)) {
		t.Fatalf("NextPass before the first pass = %v, want %v", got, t0.Add(5*time.Second))
	}
	h.advance(5*time.Hour + 5*time.Second)

	passes := h.passTimes()
	if len(passes) < 5 || len(passes) > 6 {
		t.Fatalf("%d passes in 5 h, want 5 or 6 (hourly ± 10 %%): %v", len(passes), passes)
	}
	if !passes[0].Equal(t0.Add(5 * time.Second)) {
		t.Errorf("first pass at %v, want StartDelay after start", passes[0])
	}
	for i := 1; i < len(passes); i++ {
		if gap := passes[i].Sub(passes[i-1]); !inJitter(gap) {
			t.Errorf("gap %d = %v, want 1 h ± 10 %%", i, gap)
		}
	}
	// Next announces the next pass, and that is when it runs.
	last := passes[len(passes)-1]
	next := h.next()
	if !inJitter(next.Sub(last)) || !next.After(h.clock.Now()) {
		t.Fatalf("NextPass %v: want 1 h ± 10 %% after the last pass %v and in the future", next, last)
	}
	h.drain()
	h.advance(next.Sub(h.clock.Now()))
	if got := h.count(); got != len(passes)+1 {
		t.Fatalf("%d passes after reaching NextPass, want %d", got, len(passes)+1)
	}
	if at := h.passTimes()[len(passes)]; !at.Equal(next) {
		t.Fatalf("pass ran at %v, Next said %v", at, next)
	}
}

func TestSchedulerPassErrorKeepsSchedule(t *testing.T) {
	h := newSchedHarness(t, false)
	h.passErr = errors.New("ClientSuccess is down")
	h.start()
	h.advance(2*time.Hour + 20*time.Minute)
	if got := h.count(); got < 3 {
		t.Fatalf("%d passes in 2 h 20 min with failing passes, want at least 3", got)
	}
	if h.next().IsZero() {
		t.Fatal("no next pass announced after a failure")
	}
}

func TestSchedulerSyncNowRunsAtOnce(t *testing.T) {
	h := newSchedHarness(t, false)
	h.startThroughFirstPass()
	h.advance(20 * time.Minute)

	n := h.clock.TimersMade()
	h.s.SyncNow()
	at := h.waitPass()
	h.waitWaiting(n)
	if !at.Equal(t0.Add(5*time.Second + 20*time.Minute)) {
		t.Fatalf("Sync now pass at %v, want at once (clock not advanced)", at)
	}
	// The hour is counted from the Sync now pass.
	if next := h.next(); !inJitter(next.Sub(at)) {
		t.Fatalf("NextPass %v, want 1 h ± 10 %% after %v", next, at)
	}
}

func TestSchedulerSyncNowMergesWhileRunning(t *testing.T) {
	h := newSchedHarness(t, true)
	h.start()
	h.s.SyncNow()
	h.waitPass()
	for range 3 {
		h.s.SyncNow()
	}
	h.release <- struct{}{}
	h.waitPass() // exactly one more
	n := h.clock.TimersMade()
	h.release <- struct{}{}
	h.waitWaiting(n)
	h.quiet()
	if got := h.count(); got != 2 {
		t.Fatalf("%d passes, want 2: three kicks during a pass merge into one", got)
	}
}

func TestSchedulerPauseAndResume(t *testing.T) {
	h := newSchedHarness(t, false)
	h.startThroughFirstPass()

	h.setPaused(true)
	if !h.s.Paused() {
		t.Fatal("Paused() = false after Pause")
	}
	if next := h.next(); !next.IsZero() {
		t.Fatalf("due time after Pause %v, want none", next)
	}
	if r, _ := h.s.Request(); r != nil {
		t.Fatal("Request while paused gave a pass")
	}
	h.advance(3 * time.Hour)
	h.s.SyncNow()
	h.advance(time.Minute)
	h.quiet()
	if got := h.count(); got != 1 {
		t.Fatalf("%d passes while paused, want only the one before", got)
	}

	// The pass fell due while paused: resuming runs one pass, then hourly.
	n := h.clock.TimersMade()
	h.s.Resume()
	at := h.waitPass()
	h.waitWaiting(n)
	if !at.Equal(h.clock.Now()) {
		t.Fatalf("pass after resume at %v, want at once (%v)", at, h.clock.Now())
	}
	if next := h.next(); !inJitter(next.Sub(at)) {
		t.Fatalf("due time after resume %v, want 1 h after %v", next, at)
	}
	h.advance(time.Hour + 10*time.Minute)
	if got := h.count(); got != 3 {
		t.Fatalf("%d passes, want 3: the hourly schedule restarts after resume", got)
	}
}

func TestSchedulerStartsPaused(t *testing.T) {
	h := newSchedHarness(t, false)
	h.s.SetPaused(true)
	h.start()
	h.advance(2 * time.Hour)
	if got := h.count(); got != 0 {
		t.Fatalf("%d passes when started paused, want 0", got)
	}
	if next := h.next(); !next.IsZero() {
		t.Fatalf("due time %v while paused, want none", next)
	}
	h.setPaused(false)
	h.waitPass()
	if h.s.Paused() {
		t.Fatal("still paused after Resume")
	}
}

func TestSchedulerPauseLetsPassFinish(t *testing.T) {
	h := newSchedHarness(t, true)
	h.start()
	h.s.SyncNow()
	h.waitPass()

	h.s.Pause()
	h.mu.Lock()
	running := h.running
	h.mu.Unlock()
	if !running {
		t.Fatal("Pause stopped the pass in flight")
	}
	n := h.clock.TimersMade()
	h.release <- struct{}{}
	h.waitWaiting(n)
	if next := h.next(); !next.IsZero() {
		t.Fatalf("after the pass: due time %v; want none while paused", next)
	}
	h.setPaused(false)
	if next := h.next(); next.IsZero() {
		t.Fatal("no due time after resume")
	}
}

func TestSchedulerOneCatchUpAfterSleep(t *testing.T) {
	h := newSchedHarness(t, false)
	h.startThroughFirstPass()
	h.advance(30 * time.Minute)

	// The laptop sleeps three days: the wall clock moves, timers do not.
	h.clock.Set(h.clock.Now().Add(72 * time.Hour))
	h.advance(time.Minute)
	if got := h.count(); got != 2 {
		t.Fatalf("%d passes after waking, want 2 (exactly one catch-up)", got)
	}
	woke := h.passTimes()[1]
	if next := h.next(); !inJitter(next.Sub(woke)) {
		t.Fatalf("NextPass %v, want 1 h ± 10 %% after the catch-up at %v", next, woke)
	}
	h.advance(50 * time.Minute)
	if got := h.count(); got != 2 {
		t.Fatalf("%d passes 50 min after the catch-up, want still 2 (no burst)", got)
	}
}

func TestSchedulerClockBackwards(t *testing.T) {
	h := newSchedHarness(t, false)
	h.startThroughFirstPass()
	h.advance(10 * time.Minute)

	h.clock.Set(h.clock.Now().Add(-72 * time.Hour))
	h.advance(time.Minute)
	if next := h.next(); next.Sub(h.clock.Now()) > 66*time.Minute {
		t.Fatalf("NextPass %v is %v away after the clock went back, want at most 1 h + jitter",
			next, next.Sub(h.clock.Now()))
	}
	before := h.count()
	h.advance(2*time.Hour + 15*time.Minute)
	passes := h.passTimes()[before:]
	if len(passes) < 2 || len(passes) > 3 {
		t.Fatalf("%d passes in 2 h 15 min after the clock went back, want 2 or 3: %v", len(passes), passes)
	}
	for i := 1; i < len(passes); i++ {
		if gap := passes[i].Sub(passes[i-1]); !inJitter(gap) {
			t.Fatalf("gap %v between passes, want 1 h ± 10 %%", gap)
		}
	}
}

func TestSchedulerRunReturnsOnCancel(t *testing.T) {
	h := newSchedHarness(t, false)
	h.start()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("Run returned %v, want nil", err)
		}
		h.done <- err // for the cleanup
	case <-time.After(safety):
		t.Fatal("Run did not return after cancel")
	}
}
