package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

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
	cached, err := p.e.Store.ContactLookups(addrs)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if l, ok := cached[a]; ok && l.Valid(p.id, p.start) {
			if len(l.Contacts) > 0 {
				out[a] = toMatch(l.Contacts)
			}
			continue
		}
		need = append(need, a)
	}
	if len(need) == 0 {
		return out, nil
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

	save := make(map[string]storage.ContactLookup, len(need))
	for i, a := range need {
		save[a] = storage.ContactLookup{Contacts: found[i], Expires: p.start.Add(ContactTTL), Pass: p.id}
		if len(found[i]) > 0 {
			out[a] = toMatch(found[i])
		}
	}
	if err := p.e.Store.SaveContactLookups(save); err != nil {
		return nil, err
	}
	return out, nil
}

func toMatch(cs []storage.CachedContact) []match.Contact {
	out := make([]match.Contact, len(cs))
	for i, c := range cs {
		out[i] = match.Contact{ID: c.ID, ClientID: c.ClientID, Email: c.Email}
	}
	return out
}

// clientNames resolves the names of the clients not known yet this pass,
// for the Activity list: fresh cached names in one transaction, the others
// from ClientSuccess, LookupsInFlight at a time, cached for a day in one
// transaction. A failed look-up is not worth failing the pass: the id
// stands in for the name.
func (p *pass) clientNames(ctx context.Context, ids []int64) {
	var need []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		if _, ok := p.names[id]; !ok && !seen[id] {
			seen[id] = true
			need = append(need, id)
		}
	}
	if len(need) == 0 {
		return
	}
	var fetch []int64
	cached, err := p.e.Store.ClientNames(need, p.start)
	if err != nil {
		p.log.Warn("read cached client names", "err", err)
	}
	for _, id := range need {
		if name, ok := cached[id]; ok {
			p.names[id] = name
		} else {
			fetch = append(fetch, id)
		}
	}
	names := make([]string, len(fetch))
	_ = parallel(ctx, LookupsInFlight, len(fetch), func(ctx context.Context, i int) error {
		c, err := p.crm.GetClient(ctx, fetch[i])
		if err != nil && remote.KindOf(err) != remote.Permanent {
			p.log.Debug("client name not found", "client", fetch[i], "err", err)
		}
		if err == nil {
			names[i] = c.Name
		}
		return nil
	})
	known := make(map[int64]string, len(fetch))
	for i, id := range fetch {
		if names[i] != "" {
			known[id] = names[i]
		}
	}
	if len(known) > 0 {
		if err := p.e.Store.SaveClientNames(known, p.start.Add(ContactTTL)); err != nil {
			p.log.Warn("cache client names", "err", err)
		}
	}
	for i, id := range fetch {
		if names[i] == "" {
			names[i] = "Client " + strconv.FormatInt(id, 10)
		}
		p.names[id] = names[i]
	}
}

// clientName returns a client's name for the Activity list (see
// clientNames).
func (p *pass) clientName(ctx context.Context, id int64) string {
	p.clientNames(ctx, []int64{id})
	return p.names[id]
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
