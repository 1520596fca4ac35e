package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/crmtest"
	"mailsync/sync/match"
	"mailsync/sync/remote"
	"mailsync/sync/sandbox"
)

// perAddress counts the fake ClientSuccess's per-address contact look-ups.
func perAddress(e *env) int {
	st := e.c.Stats()
	return st.ByRoute["GET /contacts/search"] + st.ByRoute["GET /contacts"]
}

// lateDay runs hourly passes for a day and a half from testNow, adding the
// world's Late contacts when their time comes, and returns, for each Late
// contact added within 24 h, whether the pass right after adding it landed
// its message.
func lateDay(t *testing.T, e *env) (caughtNext []bool) {
	t.Helper()
	w := e.world
	added := make([]bool, len(w.Late))
	caughtNext = make([]bool, len(w.Late))
	for h := 0; h <= 36; h++ {
		at := testNow.Add(time.Duration(h) * time.Hour)
		var now []int
		for i, l := range w.Late {
			if !added[i] && !at.Before(l.Received.Add(l.After)) {
				e.clock.Set(l.Received.Add(l.After))
				w.AddLate(e.c, l)
				added[i] = true
				now = append(now, i)
			}
		}
		e.mustPass(at)
		for _, i := range now {
			for _, ids := range landed(e.c) {
				if slices.Contains(ids, w.Late[i].MessageID) {
					caughtNext[i] = true
				}
			}
		}
	}
	if !added[0] || !added[1] {
		t.Fatal("late contacts were not added")
	}
	return caughtNext
}

// TestDirectoryCatchesLateContact: with the contact search, a contact added
// 23 h after a message is caught by the next pass, and no pass looks an
// address up by itself.
func TestDirectoryCatchesLateContact(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	caught := lateDay(t, e)
	for i, l := range w.Late {
		if want := len(l.Expect) > 0; caught[i] != want {
			t.Errorf("contact added %v after its message: caught by the next pass = %v, want %v", l.After, caught[i], want)
		}
	}
	sameLanding(t, landed(e.c), w.ExpectedAfterLate())
	if n := perAddress(e); n != 0 {
		t.Errorf("%d per-address look-ups with the contact search available", n)
	}
	if n := e.c.Stats().ByRoute["GET /v2/contact/search"]; n == 0 {
		t.Error("the contact search was never asked")
	}
}

// TestDirectoryLookupsFallback: where the contact search answers 404, the
// per-address look-ups reach the same ClientSuccess state as the search,
// the 23 h contact included, without asking for every address every pass.
func TestDirectoryLookupsFallback(t *testing.T) {
	w := sandbox.Demo(testNow)
	viaSearch := newEnv(t, w)
	lateDay(t, viaSearch)

	w = sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.c.SetV2Unavailable(true)
	e.mustPass(testNow)
	first := perAddress(e)
	if first == 0 {
		t.Fatal("no per-address look-up without the contact search")
	}
	e.mustPass(testNow.Add(time.Hour))
	if n := perAddress(e) - first; n != 0 {
		t.Errorf("the pass an hour later made %d per-address look-ups, want 0 (misses are re-checked on a schedule)", n)
	}

	w = sandbox.Demo(testNow)
	e = newEnv(t, w)
	e.c.SetV2Unavailable(true)
	caught := lateDay(t, e)
	if !caught[0] {
		t.Errorf("without the contact search, the contact added %v after its message was not caught by the next pass", w.Late[0].After)
	}
	sameLanding(t, landed(e.c), landed(viaSearch.c))
	sameLanding(t, landed(e.c), w.ExpectedAfterLate())
	if n, passes := perAddress(e), 37; n >= passes*first/2 {
		t.Errorf("%d per-address look-ups over %d passes (%d on the first): misses re-checked too often", n, passes, first)
	}
	// Tried on the first pass and a day later; a try may be repeated once
	// after the 12-hour token expired.
	if n := e.c.Stats().ByRoute["GET /v2/contact/search"]; n > 4 {
		t.Errorf("the unavailable contact search was asked %d times in a day and a half", n)
	}
}

// failCreates makes every create fail before ClientSuccess sees it, as a
// refused connection does: the pass stops with its uploads pending.
type failCreates struct{ CRM }

func (failCreates) CreateInteraction(context.Context, int64, crm.Interaction) (crm.Interaction, error) {
	return crm.Interaction{}, &remote.Error{Service: "crm", Op: "create interaction", Kind: remote.Transient, Message: "could not reach ClientSuccess"}
}

// TestDirectoryContactRemovedWhilePending: contacts deleted in
// ClientSuccess after their uploads were queued are dropped from them; an
// upload left with none is dropped; nothing fails for ever.
func TestDirectoryContactRemovedWhilePending(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.clock.Set(testNow)
	if _, err := e.engine().Pass(context.Background(), e.mb, failCreates{e.api}, nil); err == nil {
		t.Fatal("the pass with failing creates succeeded")
	}
	jobs, err := e.store.PendingJobs()
	if err != nil || len(jobs) == 0 {
		t.Fatalf("pending jobs = %d, %v", len(jobs), err)
	}
	// Remove one contact of a two-contact upload, and every contact of a
	// one-contact upload to another client.
	byID := map[int64]crm.Contact{}
	for _, c := range w.Contacts {
		byID[c.ID] = c
	}
	removed := map[int64]bool{}
	for _, j := range jobs {
		if len(j.ContactIDs) == 2 && len(removed) == 0 {
			removed[j.ContactIDs[1]] = true
		}
	}
	for _, j := range jobs {
		if len(j.ContactIDs) == 1 && len(removed) == 1 && byID[j.ContactIDs[0]].ClientID != byID[slices.Collect(maps.Keys(removed))[0]].ClientID {
			removed[j.ContactIDs[0]] = true
		}
	}
	if len(removed) != 2 {
		t.Fatalf("the demo's pending uploads lack the cases: %+v", jobs)
	}
	for id := range removed {
		e.c.RemoveContact(id)
	}

	e.mustPass(testNow.Add(time.Hour))
	if jobs, err := e.store.PendingJobs(); err != nil || len(jobs) != 0 {
		t.Errorf("after the pass, pending = %+v, %v", jobs, err)
	}
	// What must have landed: every expected (message, client) that still
	// has a contact, with exactly the contacts left.
	contactsOf := func(m sandbox.Item, client int64) []int64 {
		var ids []int64
		addrs := []string{}
		rs := append(slices.Clone(m.Msg.ToRecipients), m.Msg.CcRecipients...)
		if m.Msg.From != nil {
			rs = append(rs, *m.Msg.From)
		}
		for _, r := range rs {
			addrs = append(addrs, strings.ToLower(r.EmailAddress.Address))
		}
		for _, c := range w.Contacts {
			if c.ClientID == client && !removed[c.ID] && slices.Contains(addrs, strings.ToLower(c.Email)) && !slices.Contains(ids, c.ID) {
				ids = append(ids, c.ID)
			}
		}
		slices.Sort(ids)
		return ids
	}
	got := map[string][]int64{}
	for _, in := range e.c.AllInteractions() {
		for id := range removed {
			if slices.Contains(in.ContactIDs, id) {
				t.Errorf("interaction %d names removed contact %d", in.ID, id)
			}
		}
		ids := slices.Clone(in.ContactIDs)
		slices.Sort(ids)
		got[messageIDOfNote(in.Note)+" "+strconv.FormatInt(in.ClientID, 10)] = ids
	}
	want := map[string][]int64{}
	for _, it := range w.Messages {
		for _, c := range it.Expect {
			if ids := contactsOf(it, c); len(ids) > 0 {
				want[storage.LedgerKey(it.Msg.InternetMessageID)+" "+strconv.FormatInt(c, 10)] = ids
			}
		}
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("landed (message client → contacts):\n got  %v\n want %v", got, want)
	}
	s := e.mustPass(testNow.Add(2 * time.Hour))
	if s.Counts.Uploads != 0 {
		t.Errorf("the pass after uploaded %d", s.Counts.Uploads)
	}
}

// TestDirectoryAddedByAFailedPass: a contact that a failed pass took into
// the directory still makes the next pass decide the whole window again,
// though the changes it asks for then show nothing new.
func TestDirectoryAddedByAFailedPass(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	l := w.Late[0]
	e.mustPass(testNow)
	e.clock.Set(testNow.Add(30 * time.Minute))
	w.AddLate(e.c, l)
	e.clock.Set(testNow.Add(time.Hour))
	if _, err := e.engine().Pass(context.Background(), e.mb, failCreates{e.api}, nil); err == nil {
		t.Fatal("the pass with failing creates succeeded")
	}
	// Let the uploads that pass left pending go.
	e.mustPass(testNow.Add(2 * time.Hour))
	if !slices.Contains(landed(e.c)[l.Expect[0]], l.MessageID) {
		t.Errorf("the message of the contact added before the failed pass did not land: %v", landed(e.c))
	}
	sameLanding(t, landed(e.c), w.ExpectedAfterLate())
}

// TestDirectorySettingsChangeRelists: every pass, quiet or not, lists
// the whole window; after a settings change the window is decided again
// with the new settings.
func TestDirectorySettingsChangeRelists(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.mustPass(testNow)
	quiet := e.mustPass(testNow.Add(time.Hour))
	if want := inWindow(w, testNow.Add(time.Hour)); quiet.Counts.Listed != want {
		t.Errorf("a quiet pass listed %d messages, want the whole window: %d", quiet.Counts.Listed, want)
	}
	rules := sandbox.Settings()
	rules.SkipPrivate = !rules.SkipPrivate
	if err := e.store.SaveSettings(rules, storage.AppSettings{}); err != nil {
		t.Fatal(err)
	}
	again := e.mustPass(testNow.Add(2 * time.Hour))
	if want := inWindow(w, testNow.Add(2*time.Hour)); again.Counts.Listed != want {
		t.Errorf("after a settings change the pass listed %d messages, want the whole window: %d", again.Counts.Listed, want)
	}
	// The Private category no longer keeps its message out.
	if again.Counts.Skipped[string(match.Private)] != 0 || quiet.Counts.Skipped[string(match.Private)] == 0 {
		t.Errorf("skipped as Private: %d before the change, %d after; want some, then none", quiet.Counts.Skipped[string(match.Private)], again.Counts.Skipped[string(match.Private)])
	}
}

// touchDuringRead changes a contact in ClientSuccess right after the first
// page of the contact search was read, once: the first contact of that
// page, or the contact pick when set.
type touchDuringRead struct {
	CRM
	c     *crmtest.CRM
	pick  int64
	done  bool
	reads int
}

func (t *touchDuringRead) SearchContacts(ctx context.Context, page, size int, modifiedAfter time.Time) (crm.ContactPage, error) {
	ans, err := t.CRM.SearchContacts(ctx, page, size, modifiedAfter)
	t.reads++
	if err == nil && page == 0 && !t.done && len(ans.Contacts) > 0 {
		t.done = true
		id := ans.Contacts[0].ID
		if t.pick != 0 {
			id = t.pick
		}
		t.c.TouchContact(id)
	}
	return ans, err
}

// TestDirectoryContactChangedDuringFullRead: a contact changed while the
// directory is read in full moves to one end of the order, whichever way
// ClientSuccess sorts (docs/evidence.md: the direction is unknown): oldest
// first, a contact already read moves to the end and the others up a
// place; newest first, a contact not read yet moves to the front and the
// others down a place. Either way one contact comes back twice, the read
// is done again, and no contact is missed.
func TestDirectoryContactChangedDuringFullRead(t *testing.T) {
	for _, oldestFirst := range []bool{true, false} {
		t.Run(fmt.Sprint("oldest first ", oldestFirst), func(t *testing.T) {
			w := sandbox.Account(sandbox.Options{Now: testNow, Seed: 1, Contacts: 600})
			e := newEnv(t, w)
			e.c.SetDirectoryOldestFirst(oldestFirst)
			api := &touchDuringRead{CRM: e.api, c: e.c}
			if !oldestFirst {
				// The contact listed last: on the last page.
				for page := 0; ; page++ {
					ans, err := e.api.SearchContacts(context.Background(), page, 0, time.Time{})
					if err != nil {
						t.Fatal(err)
					}
					if len(ans.Contacts) > 0 {
						api.pick = ans.Contacts[len(ans.Contacts)-1].ID
					}
					if ans.Last {
						break
					}
				}
			}
			e.clock.Set(testNow)
			if _, err := e.engine().Pass(context.Background(), e.mb, api, nil); err != nil {
				t.Fatal(err)
			}
			if n, err := e.store.DirectorySize(); err != nil || n != len(w.Contacts) {
				t.Errorf("directory holds %d contacts (%v), ClientSuccess %d", n, err, len(w.Contacts))
			}
			if pages := (len(w.Contacts) + 199) / 200; api.reads != 2*pages {
				t.Errorf("%d pages read, want the %d pages twice", api.reads, pages)
			}
		})
	}
}

// oddSearch answers the contact search with a failure chosen by the test.
type oddSearch struct {
	CRM
	mu    sync.Mutex
	calls int
	fn    func(page int) (crm.ContactPage, error) // nil: the real answer
}

func (o *oddSearch) SearchContacts(ctx context.Context, page, size int, modifiedAfter time.Time) (crm.ContactPage, error) {
	o.mu.Lock()
	o.calls++
	fn := o.fn
	o.mu.Unlock()
	if fn != nil {
		return fn(page)
	}
	return o.CRM.SearchContacts(ctx, page, size, modifiedAfter)
}

// TestDirectoryOddSearchIsNotADayOfLookups: only "not found" or "not
// allowed" says the account cannot use the contact search. An answer that
// cannot be read, another refusal, or pages that repeat (a page parameter
// ignored) make this pass look addresses up one by one, and the next pass
// tries the search again.
func TestDirectoryOddSearchIsNotADayOfLookups(t *testing.T) {
	for name, fn := range map[string]func(page int) (crm.ContactPage, error){
		"unreadable": func(int) (crm.ContactPage, error) {
			return crm.ContactPage{}, &remote.Error{Service: "crm", Op: "search contacts (v2)", Kind: remote.Permanent, Status: 200,
				Message: "ClientSuccess answered in a shape Mail Sync cannot read"}
		},
		"400": func(int) (crm.ContactPage, error) {
			return crm.ContactPage{}, &remote.Error{Service: "crm", Op: "search contacts (v2)", Kind: remote.Permanent, Status: 400,
				Message: "ClientSuccess refused the request (HTTP 400)"}
		},
		"page ignored": func(int) (crm.ContactPage, error) {
			return crm.ContactPage{Contacts: []crm.Contact{{ID: 1, ClientID: 2, Email: "x@y.example"}}}, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := sandbox.Demo(testNow)
			e := newEnv(t, w)
			api := &oddSearch{CRM: e.api, fn: fn}
			e.clock.Set(testNow)
			if _, err := e.engine().Pass(context.Background(), e.mb, api, nil); err != nil {
				t.Fatalf("pass: %v", err)
			}
			if perAddress(e) == 0 {
				t.Error("no per-address look-up while the search failed")
			}
			sameLanding(t, landed(e.c), w.Expected())
			if st, err := e.store.DirectoryState(); err != nil || st.Source == storage.DirectoryLookups {
				t.Errorf("directory state %+v, %v: the search was given up for a day", st, err)
			}
			api.mu.Lock()
			api.fn, api.calls = nil, 0
			api.mu.Unlock()
			e.clock.Set(testNow.Add(time.Hour))
			if _, err := e.engine().Pass(context.Background(), e.mb, api, nil); err != nil {
				t.Fatalf("second pass: %v", err)
			}
			if api.calls == 0 {
				t.Error("the next pass did not try the contact search again")
			}
		})
	}
}
