package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/match"
	"mailsync/sync/remote"
)

// Matching is local: the addresses of a page are looked up in the contact
// directory kept in the state file (see storage.DirectoryContact). Each
// pass first brings the directory up to date: the contacts changed since
// the last look, or once a day all of them, from ClientSuccess's contact
// search. Where the account cannot use that search, addresses are looked
// up one by one instead, and what was found is kept for a while
// (lookupContacts).

// Tuning of the contact directory.
const (
	// DirectoryFullEvery is how old the last full read of the directory
	// may get before a pass reads it in full again. The changes do not
	// show contacts deleted in ClientSuccess; the full read makes them go.
	// Just under a day, so that hourly passes read it once a day.
	DirectoryFullEvery = 23 * time.Hour
	// SearchRetry is how long after the contact search was found
	// unavailable to the account it is tried again.
	SearchRetry = 24 * time.Hour
	// LookupsInFlight is how many per-address look-ups run at once.
	// ClientSuccess answers each in tens of milliseconds; a few in
	// parallel keep a pass over thousands of new addresses short without
	// hammering it.
	LookupsInFlight = 8
	// ContactTTL is how long a contact found by a per-address look-up is
	// trusted, and a client's name.
	ContactTTL = 24 * time.Hour
	// MissRecheck is how long an address that a per-address look-up found
	// no contact for is trusted.
	MissRecheck = 6 * time.Hour
	// FinalCheck: an address found no contact for is looked up on every
	// pass while a message naming it has less than this left in the
	// window, whatever MissRecheck says, so that a contact added until the
	// message's last hourly pass still catches it (rule 1). Two pass
	// intervals, for a schedule that drifts.
	FinalCheck = 2 * time.Hour
)

// refreshDirectory brings the contact directory up to date before the
// pass matches anything. It sets p.lookups when the account cannot use the
// contact search, p.addedAt to when a contact was last added or changed (a
// message decided before then may now be taken), and p.relist when the
// directory was read in full.
//
// The changes are asked for by the day (modifiedAfter takes a date): from
// the day before the last look, so that no time zone can hide one, and the
// contacts that come back unchanged change nothing.
func (p *pass) refreshDirectory(ctx context.Context) error {
	st, err := p.e.Store.DirectoryState()
	if err != nil {
		return fmt.Errorf("engine: read the contact directory: %w", err)
	}
	if st.Source == storage.DirectoryLookups && !p.start.Before(st.SearchFailedAt) && p.start.Sub(st.SearchFailedAt) < SearchRetry {
		p.lookups = true
		return nil
	}
	full := st.Source != storage.DirectorySearch || p.start.Before(st.LookedAt) || p.start.Sub(st.FullAt) >= DirectoryFullEvery
	var since time.Time
	if !full {
		y, m, d := st.LookedAt.UTC().AddDate(0, 0, -1).Date()
		since = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	var cs []storage.DirectoryContact
	for try := 1; ; try++ {
		var moved bool
		cs, moved, err = p.readDirectory(ctx, since)
		if err != nil {
			switch {
			case ctx.Err() != nil:
			case searchUnavailable(err):
				p.log.Warn("the contact search is not available; looking contacts up one by one", "err", err)
				p.lookups = true
				return p.e.Store.UseAddressChecks(storage.DirectoryState{
					Source: storage.DirectoryLookups, SearchFailedAt: p.start, Why: Describe(err),
				})
			case remote.KindOf(err) == remote.Permanent || errors.Is(err, crm.ErrIncomplete):
				// Not a sign that the account lacks the search (an answer
				// that could not be read, a refused request, pages that
				// repeat or do not end): this pass
				// looks addresses up one by one, the next tries the search
				// again.
				p.log.Warn("the contact search failed; looking contacts up one by one for this pass", "err", err)
				p.lookups = true
				return nil
			}
			return fmt.Errorf("engine: read the contact directory: %w", err)
		}
		if !moved || !full || try == 2 {
			break
		}
		// A full read that missed a contact would keep it out of the
		// directory until the next one; a second read is worth it.
		p.log.Info("contacts changed while the directory was read; reading it again")
	}
	next := storage.DirectoryState{Source: storage.DirectorySearch, FullAt: st.FullAt, LookedAt: p.start, AddedAt: st.AddedAt}
	var added int
	if full {
		next.FullAt = p.start
		added, err = p.e.Store.ReplaceDirectory(cs, next)
	} else {
		added, err = p.e.Store.ApplyDirectoryChanges(cs, next)
	}
	if err != nil {
		return fmt.Errorf("engine: record the contact directory: %w", err)
	}
	p.addedAt = st.AddedAt
	if added > 0 {
		p.addedAt = p.start
	}
	p.relist = full
	p.log.Debug("contact directory", "full", full, "answered", len(cs), "added", added)
	return nil
}

// maxDirectoryPages bounds one read of the contact search: 5,000 pages of
// 200 is a million contacts.
const maxDirectoryPages = 5000

// readDirectory reads every page of the contact search, modified since the
// day of since when it is not zero, whatever the direction of the order
// (docs/evidence.md: unknown). The pages are in order of modification, so a
// contact changed while they are read moves to one end: oldest first, when
// it had been read already, the contacts behind it move up a place and the
// first of the next page is never seen; newest first, when it had not,
// the contacts before it move down a place and it is never seen. Either
// way a contact comes back twice; moved reports it (the later copy is
// kept), and a full read is done again. A changed contact missed that way
// is modified after this read started, so the next read of the changes
// (from the day before) finds it. A contact that cannot be used (no
// client) is left out, with its reason logged. A page that repeats the one
// before, or more than maxDirectoryPages, is an error.
func (p *pass) readDirectory(ctx context.Context, since time.Time) (cs []storage.DirectoryContact, moved bool, err error) {
	at := map[int64]int{}
	var prev []int64
	for page := 0; ; page++ {
		if page >= maxDirectoryPages {
			return nil, false, directoryIncomplete(fmt.Sprintf("more than %d pages", maxDirectoryPages))
		}
		ans, err := p.crm.SearchContacts(ctx, page, 0, since)
		if err != nil {
			return nil, false, err
		}
		p.directoryPages++
		ids := make([]int64, len(ans.Contacts))
		for i, c := range ans.Contacts {
			ids[i] = c.ID
		}
		if page > 0 && len(ids) > 0 && slices.Equal(ids, prev) {
			return nil, false, directoryIncomplete("the same page came twice")
		}
		prev = ids
		for _, why := range ans.Skipped {
			p.log.Warn("a contact from ClientSuccess was left out of the directory", "reason", why)
		}
		for _, c := range ans.Contacts {
			d := directoryContact(c)
			if i, ok := at[d.ID]; ok {
				cs[i], moved = d, true
				continue
			}
			at[d.ID] = len(cs)
			cs = append(cs, d)
		}
		if ans.Last || len(ans.Contacts) == 0 {
			return cs, moved, nil
		}
	}
}

// directoryContact is c as the directory keeps it: a contact with an
// address that cannot be normalised has none (it can match nothing).
func directoryContact(c crm.Contact) storage.DirectoryContact {
	n, _ := match.NormalizeAddress(c.Email)
	return storage.DirectoryContact{ID: c.ID, ClientID: c.ClientID, Email: n}
}

// directoryIncomplete is the error of a contact search that could not be
// read to its end.
func directoryIncomplete(why string) error {
	return &remote.Error{Service: "crm", Op: "search contacts (v2)", Kind: remote.Transient,
		Message: "ClientSuccess did not give the whole list of contacts (" + why + ")", Err: crm.ErrIncomplete}
}

// searchUnavailable reports whether err says that the account cannot use
// the contact search: ClientSuccess answered not found or not allowed. An
// answer that cannot be read, or another refusal, says nothing of the
// account.
func searchUnavailable(err error) bool {
	var re *remote.Error
	return errors.As(err, &re) && re.Kind == remote.Permanent &&
		(re.Status == http.StatusNotFound || re.Status == http.StatusForbidden)
}

// contacts resolves normalised addresses to ClientSuccess contacts, for
// the messages of one page. newest holds, per address, the received time
// of the newest message naming it. Only addresses with contacts are in the
// map.
func (p *pass) contacts(ctx context.Context, addrs []string, newest map[string]time.Time) (map[string][]match.Contact, error) {
	if !p.lookups {
		found, err := p.e.Store.LookupContacts(addrs)
		if err != nil {
			return nil, fmt.Errorf("read the contact directory: %w", err)
		}
		return toMatch(found), nil
	}
	return p.lookupContacts(ctx, addrs, newest)
}

// lookupContacts is contacts for an account without the contact search:
// each address is looked up by itself, LookupsInFlight at a time, and the
// answer kept. A contact found is trusted for ContactTTL; an address found
// no contact for is asked again after MissRecheck, and on every pass while
// a message naming it is in its last FinalCheck in the window (see
// missFresh), so that a contact added within 24 h of a message still
// catches it without every pass asking for every stranger.
func (p *pass) lookupContacts(ctx context.Context, addrs []string, newest map[string]time.Time) (map[string][]match.Contact, error) {
	checks, err := p.e.Store.AddressChecks(addrs)
	if err != nil {
		return nil, fmt.Errorf("read the contact look-ups: %w", err)
	}
	out := map[string][]storage.DirectoryContact{}
	var need []string
	for _, a := range addrs {
		c, ok := checks[a]
		switch {
		case ok && len(c.Contacts) > 0 && p.fresh(c.CheckedAt, ContactTTL):
			out[a] = c.Contacts
		case ok && len(c.Contacts) == 0 && p.missFresh(c.CheckedAt, newest[a]):
		default:
			need = append(need, a)
		}
	}
	if len(need) == 0 {
		return toMatch(out), nil
	}
	found := make([][]storage.DirectoryContact, len(need))
	if err := parallel(ctx, LookupsInFlight, len(need), func(ctx context.Context, i int) error {
		cs, err := p.crm.FindContacts(ctx, need[i])
		if err != nil {
			return err
		}
		for _, c := range cs {
			// FindContacts keeps the case-insensitive matches; the
			// normalised form is what the directory compares.
			if d := directoryContact(c); d.Email == need[i] {
				found[i] = append(found[i], d)
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("look up contacts: %w", err)
	}
	p.addressLookups += len(need)
	fresh := make(map[string]storage.AddressCheck, len(need))
	for i, a := range need {
		fresh[a] = storage.AddressCheck{Contacts: found[i], CheckedAt: p.start}
		if len(found[i]) > 0 {
			out[a] = found[i]
		}
	}
	if err := p.e.Store.PutAddressChecks(fresh); err != nil {
		return nil, fmt.Errorf("record the contact look-ups: %w", err)
	}
	return toMatch(out), nil
}

// fresh reports whether something asked at `at` may stand for asking again
// at the pass's start (a clock that went back trusts nothing).
func (p *pass) fresh(at time.Time, ttl time.Duration) bool {
	return !p.start.Before(at) && p.start.Sub(at) < ttl
}

// missFresh reports whether an address found no contact for at `at` may
// stand for asking again, for a message received at `received`: not when
// it is older than MissRecheck, nor while the message is in its last
// FinalCheck in the window.
func (p *pass) missFresh(at, received time.Time) bool {
	if !p.fresh(at, MissRecheck) {
		return false
	}
	if p.backfill {
		// Past the window a contact that exists now counts, whenever it
		// was added: no last chance to give.
		return true
	}
	return p.start.Before(received.Add(WindowOverlap - FinalCheck))
}

func toMatch(found map[string][]storage.DirectoryContact) map[string][]match.Contact {
	out := make(map[string][]match.Contact, len(found))
	for a, cs := range found {
		m := make([]match.Contact, len(cs))
		for i, c := range cs {
			m[i] = match.Contact{ID: c.ID, ClientID: c.ClientID, Email: c.Email}
		}
		out[a] = m
	}
	return out
}

// stillContacts asks ClientSuccess which of a job's contacts still exist
// for its client, after it refused the job: a contact deleted after the
// job was queued makes ClientSuccess refuse the whole interaction. It
// looks each contact's address up by itself (rare: only refused uploads),
// forgets the contacts that are gone, and returns the ids of those kept.
// Contacts the directory has no address for count as gone.
func (p *pass) stillContacts(ctx context.Context, clientID int64, ids []int64) ([]int64, error) {
	known, err := p.e.Store.DirectoryContactsByID(ids)
	if err != nil {
		return nil, fmt.Errorf("engine: read the contact directory: %w", err)
	}
	var kept, gone []int64
	for _, id := range ids {
		c, ok := known[id]
		if !ok {
			gone = append(gone, id)
			continue
		}
		cs, err := p.crm.FindContacts(ctx, c.Email)
		if err != nil {
			return nil, fmt.Errorf("engine: look up a contact again: %w", err)
		}
		if slices.ContainsFunc(cs, func(x crm.Contact) bool { return x.ID == id && x.ClientID == clientID }) {
			kept = append(kept, id)
		} else {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		if err := p.e.Store.RemoveDirectoryContacts(gone); err != nil {
			return nil, fmt.Errorf("engine: record removed contacts: %w", err)
		}
	}
	return kept, nil
}

// clientListAbove is how many names a page may miss before they are read
// from the list of every client rather than one by one.
const clientListAbove = 8

// clientNames resolves the names of the clients not known yet this pass,
// for the Activity list: fresh cached names in one transaction, the others
// from the list of every client (once per pass, when many are missing) or
// from ClientSuccess one by one, LookupsInFlight at a time, cached for a day
// in one transaction. A failed look-up is not worth failing the pass: the id
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
	if len(fetch) > clientListAbove && p.clientList == nil {
		// Many names: the list of every client costs one request instead
		// of one each, and serves the rest of the pass.
		all, err := p.crm.Clients(ctx)
		if err != nil {
			p.log.Debug("list clients", "err", err)
		} else {
			p.clientList = make(map[int64]string, len(all))
			for _, c := range all {
				p.clientList[c.ID] = c.Name
			}
		}
	}
	if p.clientList != nil {
		// A client missing from the list is gone.
		for i, id := range fetch {
			names[i] = p.clientList[id]
		}
	} else {
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
	}
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
