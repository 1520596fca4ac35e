package engine

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Scheduler defaults.
const (
	DefaultInterval   = time.Hour
	DefaultStartDelay = 5 * time.Second
	// checkEvery bounds every wait. Timers run on the monotonic clock, which
	// on Linux stands still while the machine sleeps, so one long timer
	// could fire hours late; a short check compares the wall clock instead.
	checkEvery = time.Minute
	// jitterFraction spreads passes over ±10 % of the interval, so machines
	// started together do not all call ClientSuccess at the same minute.
	jitterFraction = 0.10
)

// Scheduler runs a pass every Interval (±10 %), at once on SyncNow, never
// while paused. It runs passes one at a time on a single goroutine (Run), in
// the manner of syncthing's folder loop. After the machine slept or the
// wall clock jumped forward past the due time, it runs exactly one
// catch-up pass, never a burst. Set the fields before Run; the methods are
// safe for concurrent use.
//
// The scheduler reads nothing of the status: whether syncing is paused is
// told to it (SetPaused, by the agent's loop, which owns that fact), and
// the due time goes out through Next. Its lock is never held while it
// calls Pass or Next.
type Scheduler struct {
	Interval   time.Duration // between pass starts; DefaultInterval when 0
	StartDelay time.Duration // before the first pass; DefaultStartDelay when 0
	Clock      Clock         // RealClock when nil
	// Pass runs one pass (the agent's asks its loop for one and waits for
	// the outcome). Its error is logged; the next pass is scheduled
	// regardless.
	Pass func(ctx context.Context) (Summary, error)
	// Next, when set, is told on Run's goroutine when the next pass is
	// due: the zero time while paused (no pass is due then).
	Next func(due time.Time)
	Log  *slog.Logger // slog.Default() when nil

	initOnce sync.Once
	kick     chan struct{} // SyncNow; 1-buffered so repeated kicks merge
	wake     chan struct{} // Resume; makes the loop publish the due time again

	mu      sync.Mutex
	paused  bool // no pass starts; requests are refused
	running *Run // the pass in flight
	pending *Run // the pass asked for and not started yet
	stopped bool // Run has returned: requests fail at once
}

// Run is one pass as those who asked for it see it: Done is closed when it
// has ended, after which Summary and Err hold its outcome.
type Run struct {
	done chan struct{}
	sum  Summary
	err  error
}

func newRun() *Run { return &Run{done: make(chan struct{})} }

// Done is closed when the pass has ended.
func (r *Run) Done() <-chan struct{} { return r.done }

// Result is the pass's summary and error; valid once Done is closed.
func (r *Run) Result() (Summary, error) {
	<-r.done
	return r.sum, r.err
}

func (r *Run) finish(sum Summary, err error) {
	r.sum, r.err = sum, err
	close(r.done)
}

// ErrStopped is the outcome of a pass asked for when the scheduler has
// stopped (the agent is shutting down).
var ErrStopped = errors.New("engine: the scheduler has stopped")

func (s *Scheduler) init() {
	s.initOnce.Do(func() {
		s.kick = make(chan struct{}, 1)
		s.wake = make(chan struct{}, 1)
	})
}

// SyncNow asks for a pass as soon as possible and returns at once. Kicks
// merge: however many arrive while a pass runs, at most one more pass
// follows. Ignored while paused.
func (s *Scheduler) SyncNow() {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.paused {
		return
	}
	if s.pending == nil {
		s.pending = newRun()
	}
	signal(s.kick)
}

// Request asks for a pass and returns it: the pass in flight when there is
// one (joined is true), else the next pass, shared by everyone who asks
// before it starts. While paused it returns nil.
func (s *Scheduler) Request() (r *Run, joined bool) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused {
		return nil, false
	}
	if s.running != nil {
		return s.running, true
	}
	if s.stopped {
		r := newRun()
		r.finish(Summary{}, ErrStopped)
		return r, false
	}
	if s.pending == nil {
		s.pending = newRun()
	}
	signal(s.kick)
	return s.pending, false
}

// Pause stops scheduled passes and SyncNow; Next is told no pass is due.
// A pass in flight finishes.
func (s *Scheduler) Pause() { s.SetPaused(true) }

// Resume undoes Pause: if a pass fell due while paused, one pass runs at
// once.
func (s *Scheduler) Resume() { s.SetPaused(false) }

// Paused reports whether syncing is paused.
func (s *Scheduler) Paused() bool {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// SetPaused sets whether syncing is paused (before Run: as stored from the
// last run). Run tells Next the due time again.
func (s *Scheduler) SetPaused(paused bool) {
	s.init()
	s.mu.Lock()
	s.paused = paused
	s.mu.Unlock()
	signal(s.wake)
}

// showNext tells Next the due time, or the zero time while paused.
func (s *Scheduler) showNext(due time.Time) {
	if s.Next == nil {
		return
	}
	if s.Paused() {
		due = time.Time{}
	}
	s.Next(due)
}

// Run runs passes until ctx ends, then returns nil. The first pass runs
// StartDelay after Run starts. Run must be called at most once. A pass
// asked for and not started when ctx ends ends with ctx's error.
func (s *Scheduler) Run(ctx context.Context) error {
	s.init()
	defer func() {
		s.mu.Lock()
		s.stopped = true
		r := s.pending
		s.pending = nil
		s.mu.Unlock()
		if r != nil {
			r.finish(Summary{}, ctx.Err())
		}
	}()
	due := s.now().Add(s.startDelay())
	s.showNext(due)
	for {
		now := s.now()
		if due.Sub(now) > s.maxGap() {
			// The clock was set backwards: without a re-base the next pass
			// would wait for the lost time to come round again.
			due = now.Add(s.nextGap())
			s.showNext(due)
		}
		if !now.Before(due) && !s.Paused() {
			// However long ago the pass fell due (a sleep of days, a jump
			// forward), one pass covers the gap; the next is counted from it.
			due = s.runPass(ctx, "scheduled")
			continue
		}
		wait := checkEvery
		if !s.Paused() {
			wait = min(due.Sub(now), checkEvery)
		}
		t := s.clock().NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		case <-s.kick:
			t.Stop()
			if !s.Paused() {
				due = s.runPass(ctx, "sync now")
			} else {
				s.cancelPending(errors.New("engine: syncing is paused"))
			}
		case <-s.wake:
			t.Stop()
			s.showNext(due)
		}
	}
}

// cancelPending ends the pass asked for, if any, with err.
func (s *Scheduler) cancelPending(err error) {
	s.mu.Lock()
	r := s.pending
	s.pending = nil
	s.mu.Unlock()
	if r != nil {
		r.finish(Summary{}, err)
	}
}

// runPass runs one pass and returns when the next one is due. The due
// time is drawn once here, and shown until the next schedule.
func (s *Scheduler) runPass(ctx context.Context, why string) time.Time {
	start := s.now()
	s.mu.Lock()
	r := s.pending
	s.pending = nil
	if r == nil {
		r = newRun()
	}
	s.running = r
	// This pass serves every request so far: a kick they left (when the
	// pass is the scheduled one) must not start another. Requests signal
	// under s.mu, so the kick and pending stay in step.
	select {
	case <-s.kick:
	default:
	}
	s.mu.Unlock()

	s.log().Info("pass starting", "reason", why)
	sum, err := s.Pass(ctx)
	end := s.now()
	switch {
	case err != nil && ctx.Err() == nil:
		s.log().Error("pass failed", "err", err, "took_ms", end.Sub(start).Milliseconds())
	case err == nil:
		s.log().Info("pass done", "took_ms", end.Sub(start).Milliseconds())
	}

	s.mu.Lock()
	s.running = nil
	s.mu.Unlock()
	r.finish(sum, err)

	next := start.Add(s.nextGap())
	if next.Before(end) {
		// A pass longer than the interval: leave a full gap after it rather
		// than starting the next one straight away.
		next = end.Add(s.nextGap())
	}
	s.showNext(next)
	return next
}

// nextGap returns the interval with its jitter.
func (s *Scheduler) nextGap() time.Duration {
	i := s.interval()
	spread := time.Duration(float64(i) * jitterFraction)
	if spread <= 0 {
		return i
	}
	return i - spread + rand.N(2*spread+1)
}

// maxGap is the furthest a due time can legitimately be from now.
func (s *Scheduler) maxGap() time.Duration {
	return max(s.interval()+time.Duration(float64(s.interval())*jitterFraction), s.startDelay())
}

func (s *Scheduler) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return DefaultInterval
}

func (s *Scheduler) startDelay() time.Duration {
	if s.StartDelay > 0 {
		return s.StartDelay
	}
	return DefaultStartDelay
}

func (s *Scheduler) clock() Clock {
	if s.Clock != nil {
		return s.Clock
	}
	return RealClock{}
}

// now returns the wall-clock time without its monotonic reading, so that
// comparisons follow the wall clock across sleeps and adjustments.
func (s *Scheduler) now() time.Time { return s.clock().Now().Round(0) }

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// signal makes a non-blocking send on a 1-buffered channel: a signal already
// waiting absorbs this one.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
