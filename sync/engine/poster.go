package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"mailsync/sync/crm"
)

// maxQueuedUploads bounds the jobs waiting for the poster: reading bodies
// waits while this many notes are queued, so a pass holds a bounded number
// of notes however fast Microsoft 365 answers.
const maxQueuedUploads = 200

// poster posts the uploads of a pass, UploadsInFlight at a time (and as
// many more waiting for their record to be committed), for as long as the
// pass reads mail, so that ClientSuccess is kept busy across
// batches and pages. A client's uploads go one after the other in the order
// submitted: each timeline gets its interactions in message order, and an
// upload already on its way cannot race a Retry-After that ClientSuccess
// just gave another upload to the same timeline (the API client holds only
// the requests it has not sent yet). Its methods are safe for concurrent
// use.
type poster struct {
	p      *pass
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	cond   *sync.Cond
	queues map[int64][]posting // by client, in order
	ready  []int64             // clients with queued uploads and no worker
	busy   map[int64]bool      // clients a worker is posting for
	queued int                 // uploads queued or in flight
	err    error               // the first failure that stops the pass
	closed bool
}

// posting is one upload and what to tell when it is done.
type posting struct {
	items []item
	j     *job
	done  *sync.WaitGroup
}

func newPoster(ctx context.Context, p *pass) *poster {
	ctx, cancel := context.WithCancel(ctx)
	q := &poster{p: p, ctx: ctx, cancel: cancel, queues: map[int64][]posting{}, busy: map[int64]bool{}}
	q.cond = sync.NewCond(&q.mu)
	// Twice as many workers as uploads in flight: each waits for its
	// upload's commit to the state file after ClientSuccess answered, and
	// meanwhile the others keep ClientSuccess busy. The API client bounds
	// the requests actually in flight (crm.MaxInFlight).
	for range 2 * UploadsInFlight {
		q.wg.Go(q.work)
	}
	return q
}

// submit queues jobs (recorded as pending) of a page whose items they
// name; done counts them until each is posted or given up. It waits while
// the queue is full, and returns the failure that stopped the poster, if
// any (the jobs are then not queued and stay pending).
func (q *poster) submit(items []item, jobs []*job, done *sync.WaitGroup) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.queued >= maxQueuedUploads && q.err == nil {
		q.cond.Wait()
	}
	if q.err != nil {
		return q.err
	}
	for _, j := range jobs {
		done.Add(1)
		c := j.clientID
		if len(q.queues[c]) == 0 && !q.busy[c] {
			q.ready = append(q.ready, c)
		}
		q.queues[c] = append(q.queues[c], posting{items: items, j: j, done: done})
	}
	q.queued += len(jobs)
	q.cond.Broadcast()
	return nil
}

// failure returns the failure that stopped the poster, or nil.
func (q *poster) failure() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// close stops the workers once the queue is empty (or at once after a
// failure) and waits for them.
func (q *poster) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	q.wg.Wait()
	q.cancel()
}

func (q *poster) work() {
	for {
		q.mu.Lock()
		for len(q.ready) == 0 && !q.closed && q.err == nil {
			q.cond.Wait()
		}
		if q.err != nil {
			// Everything still queued stays pending; the next pass
			// looks it up before posting it.
			for c, ps := range q.queues {
				if !q.busy[c] {
					for _, x := range ps {
						x.done.Done()
					}
					q.queued -= len(ps)
					delete(q.queues, c)
				}
			}
			q.ready = nil
			q.cond.Broadcast()
			q.mu.Unlock()
			return
		}
		if len(q.ready) == 0 {
			q.mu.Unlock()
			return
		}
		c := q.ready[0]
		q.ready = q.ready[1:]
		x := q.queues[c][0]
		q.queues[c] = q.queues[c][1:]
		q.busy[c] = true
		q.mu.Unlock()

		err := q.p.outcome(q.ctx, x.items, x.j, q.p.postChecked(q.ctx, x.j.pending))
		// The note is not needed any more; the page's jobs outlive it.
		x.j.pending.Note = ""

		q.mu.Lock()
		q.busy[c] = false
		if len(q.queues[c]) > 0 {
			q.ready = append(q.ready, c)
		} else {
			delete(q.queues, c)
		}
		q.queued--
		if err != nil && q.err == nil {
			q.err = fmt.Errorf("engine: upload: %w", err)
			q.cancel()
		}
		q.cond.Broadcast()
		q.mu.Unlock()
		x.done.Done()
	}
}

// outcome records what became of one posted job. It returns an error only
// when the pass must stop.
//
// A job whose outcome is unknown (crm.IsAmbiguous) stays pending and the
// pass goes on; run fails the pass at the end so that the next one resolves
// it by look-up. Any other transient failure, a refused sign-in or a
// cancelled context stops the pass at once; the jobs not yet posted stay
// pending too, which is safe: they are looked up before being posted again.
// A job ClientSuccess refuses for good (a 400, a deleted client) is dropped
// and its message counted as refused, so one bad message cannot hold the
// window back forever.
func (p *pass) outcome(ctx context.Context, items []item, j *job, err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	it := &items[j.item]
	switch {
	case err == nil:
		it.uploaded++
		p.counts.Uploads++
		if p.copiedTo != nil {
			p.copiedTo[j.clientID]++
		}
		return nil
	case crm.IsAmbiguous(err) && ctx.Err() == nil:
		p.ambiguous = append(p.ambiguous, err)
		p.log.Warn("upload unconfirmed; it will be looked up on the next pass", "client", j.clientID, "err", err)
		if len(p.ambiguous) >= maxAmbiguous {
			return err
		}
		return nil
	case refused(err) && ctx.Err() == nil:
		p.log.Warn("ClientSuccess refused an upload", "client", j.clientID, "err", err)
		it.failed = reasonRefused
		if errors.Is(err, errContactsGone) {
			it.failed = reasonContactsGone
		}
		if derr := p.e.Store.DropPending(j.pending); derr != nil {
			return fmt.Errorf("engine: drop refused upload: %w", derr)
		}
		return nil
	}
	return err
}
