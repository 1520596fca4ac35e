package engine

import (
	"maps"
	"slices"
	"sync"

	"mailsync/sync/printable"
)

// Board holds the current Status and hands copies to subscribers. Publishing
// never blocks: a subscriber that has not read the previous update gets only
// the newest one (its 1-slot channel is overwritten), so a slow window can
// never stall a pass. Safe for concurrent use.
type Board struct {
	mu   sync.Mutex
	cur  Status
	subs map[chan Status]struct{}
}

// NewBoard returns a board showing the facts of s (its State is derived).
func NewBoard(s Status) *Board {
	c := s.clone()
	c.printableText()
	c.State = Derive(c)
	return &Board{cur: c, subs: map[chan Status]struct{}{}}
}

// Get returns a copy of the current status.
func (b *Board) Get() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur.clone()
}

// Update changes facts of the status under the board's lock, makes their
// text printable, derives the state from them (Derive) and publishes the
// result. f runs under the
// board's lock: it must only change the status, never take another lock or
// call out (which could deadlock against a caller holding that lock and
// waiting for the board).
func (b *Board) Update(f func(*Status)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(&b.cur)
	b.cur.printableText()
	b.cur.State = Derive(b.cur)
	for ch := range b.subs {
		publish(ch, b.cur.clone())
	}
}

// Subscribe returns a channel that receives the current status at once and
// then every change (coalesced for slow readers), and a function that ends
// the subscription and closes the channel.
func (b *Board) Subscribe() (<-chan Status, func()) {
	ch := make(chan Status, 1)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	ch <- b.cur.clone()
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			close(ch)
			b.mu.Unlock()
		})
	}
}

// publish replaces whatever the reader has not taken yet with s.
func publish(ch chan Status, s Status) {
	for {
		select {
		case ch <- s:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

func (s Status) clone() Status {
	c := s
	if s.Account != nil {
		a := *s.Account
		c.Account = &a
	}
	if s.Progress != nil {
		p := *s.Progress
		c.Progress = &p
	}
	if s.Previous != nil {
		a := *s.Previous
		c.Previous = &a
	}
	if s.LastCopy != nil {
		r := *s.LastCopy
		r.Counts.Skipped = maps.Clone(r.Counts.Skipped)
		c.LastCopy = &r
	}
	c.LastCounts.Skipped = maps.Clone(s.LastCounts.Skipped)
	if s.Backfill != nil {
		b := *s.Backfill
		b.Clients = slices.Clone(b.Clients)
		c.Backfill = &b
	}
	return c
}

// printableText removes control characters from the text of s that comes
// from the services or their errors (printable.Text): every view of the
// status (tray, window, `mailsync status`, notifications) shows it as it
// is. An account or a skip count map that must change is replaced, never
// changed in place, as a writer may still hold it.
func (s *Status) printableText() {
	s.Reconnect = printable.Text(s.Reconnect)
	s.LastError = printable.Text(s.LastError)
	s.SignInError = printable.Text(s.SignInError)
	s.CRMUser = printable.Text(s.CRMUser)
	if b := s.Backfill; b != nil {
		// Client names come from ClientSuccess.
		c := *b
		c.Clients = slices.Clone(b.Clients)
		for i := range c.Clients {
			c.Clients[i].Name = printable.Text(c.Clients[i].Name)
		}
		c.Error = printable.Text(c.Error)
		s.Backfill = &c
	}
	s.Account = printableAccount(s.Account)
	if r, changed := printableReasons(s.LastCounts.Skipped); changed {
		s.LastCounts.Skipped = r
	}
	if c := s.LastCopy; c != nil {
		if r, changed := printableReasons(c.Counts.Skipped); changed {
			cp := *c
			cp.Counts.Skipped = r
			s.LastCopy = &cp
		}
	}
	s.Previous = printableAccount(s.Previous)
}

// printableReasons is skipped with its reasons printable, in a new map
// when one was not (changed).
func printableReasons(skipped map[string]int) (out map[string]int, changed bool) {
	for reason := range skipped {
		if printable.Text(reason) != reason {
			out = make(map[string]int, len(skipped))
			for r, n := range skipped {
				out[printable.Text(r)] += n
			}
			return out, true
		}
	}
	return skipped, false
}

// printableAccount returns a with printable text: a itself when it is,
// else a changed copy (a writer may still hold a).
func printableAccount(a *Account) *Account {
	if a == nil {
		return nil
	}
	name, email := printable.Text(a.Name), printable.Text(a.Email)
	if name == a.Name && email == a.Email {
		return a
	}
	c := *a
	c.Name, c.Email = name, email
	return &c
}
