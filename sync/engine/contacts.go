package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/match"
	"mailsync/sync/remote"
)

// LookupsInFlight is how many contact look-ups run at once. ClientSuccess
// answers each in tens of milliseconds; a few in parallel keep a pass over
// thousands of new addresses short without hammering it.
const LookupsInFlight = 8

// ContactTTL is how long a contact found in ClientSuccess is trusted.
// Misses are never kept beyond the pass (rule 1: a contact added later must
// still catch a message of the last 24 hours).
const ContactTTL = 24 * time.Hour

// contacts resolves normalised addresses to ClientSuccess contacts: from the
// cache when valid, else with at most one look-up per address per pass,
// LookupsInFlight at a time. Results (hits and this pass's misses) are
// cached in one transaction. Only addresses with contacts are in the map.
func (p *pass) contacts(ctx context.Context, addrs []string) (map[string][]match.Contact, error) {
	out := make(map[string][]match.Contact)
	var need []string
	err := p.e.Store.DB().View(func(tx *bolt.Tx) error {
		for _, a := range addrs {
			l, ok, err := storage.ContactLookupTx(tx, a)
			if err != nil {
				return err
			}
			if ok && l.Valid(p.id, p.start) {
				if len(l.Contacts) > 0 {
					out[a] = toMatch(l.Contacts)
				}
				continue
			}
			need = append(need, a)
		}
		return nil
	})
	if err != nil || len(need) == 0 {
		return out, err
	}

	found := make([][]storage.CachedContact, len(need))
	if err := parallel(ctx, LookupsInFlight, len(need), func(ctx context.Context, i int) error {
		cs, err := p.crm.ContactsByEmail(ctx, need[i])
		if err != nil {
			return err
		}
		for _, c := range cs {
			// ClientSuccess compares case-insensitively; keep only exact
			// matches of the normalised form, in case it ever matches more.
			if n, ok := match.NormalizeAddress(c.Email); ok && n == need[i] {
				found[i] = append(found[i], storage.CachedContact{ID: c.ID, ClientID: c.ClientID, Email: n})
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("look up contacts: %w", err)
	}
	p.lookups += len(need)

	err = p.e.Store.DB().Update(func(tx *bolt.Tx) error {
		for i, a := range need {
			l := storage.ContactLookup{Contacts: found[i], Expires: p.start.Add(ContactTTL), Pass: p.id}
			if err := storage.PutContactLookupTx(tx, a, l); err != nil {
				return err
			}
			if len(found[i]) > 0 {
				out[a] = toMatch(found[i])
			}
		}
		return nil
	})
	return out, err
}

func toMatch(cs []storage.CachedContact) []match.Contact {
	out := make([]match.Contact, len(cs))
	for i, c := range cs {
		out[i] = match.Contact{ID: c.ID, ClientID: c.ClientID, Email: c.Email}
	}
	return out
}

// clientNames resolves the names of the clients not known yet this pass,
// LookupsInFlight at a time.
func (p *pass) clientNames(ctx context.Context, ids []int64) {
	var need []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		if _, ok := p.names[id]; !ok && !seen[id] {
			seen[id] = true
			need = append(need, id)
		}
	}
	names := make([]string, len(need))
	_ = parallel(ctx, LookupsInFlight, len(need), func(ctx context.Context, i int) error {
		names[i] = p.fetchClientName(ctx, need[i])
		return nil
	})
	for i, id := range need {
		if names[i] != "" {
			p.names[id] = names[i]
		}
	}
}

// clientName returns a client's name for the Activity list, cached for a
// day. A failed look-up is not worth failing the pass: the id stands in.
func (p *pass) clientName(ctx context.Context, id int64) string {
	if n, ok := p.names[id]; ok {
		return n
	}
	n := p.fetchClientName(ctx, id)
	p.names[id] = n
	return n
}

// fetchClientName reads a client's name from the cache or ClientSuccess.
// It is safe to call concurrently.
func (p *pass) fetchClientName(ctx context.Context, id int64) string {
	var name string
	var cached bool
	_ = p.e.Store.DB().View(func(tx *bolt.Tx) error {
		var err error
		name, cached, err = storage.CachedClientNameTx(tx, id, p.start)
		return err
	})
	if !cached {
		c, err := p.crm.GetClient(ctx, id)
		if err != nil || c.Name == "" {
			if err != nil && remote.KindOf(err) != remote.Permanent {
				p.log.Debug("client name not found", "client", id, "err", err)
			}
			return "Client " + strconv.FormatInt(id, 10)
		}
		name = c.Name
		if err := p.e.Store.DB().Update(func(tx *bolt.Tx) error {
			return storage.PutClientNameTx(tx, id, name, p.start.Add(ContactTTL))
		}); err != nil {
			p.log.Warn("cache client name", "err", err)
		}
	}
	return name
}

// parallel runs f(ctx, i) for i in [0, n) with at most limit at once. The
// first error cancels the others' context and is returned.
func parallel(ctx context.Context, limit, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int)
	for range min(limit, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// crmCRM asserts that the ClientSuccess client satisfies CRM.
var _ CRM = (*crm.API)(nil)
