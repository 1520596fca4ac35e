package sandbox

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/match"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// takenWhys are the demo labels whose messages must be uploaded.
var takenWhys = []string{
	WhyFrom, WhyTo, WhyCc, WhyTwoClients, WhyTwoContacts, WhyAlias, WhyMixedCase, WhyTwoFolders,
	WhySigned, WhyUserFolder, WhyDeletedItems, WhyEdge,
}

// skippedWhys are the demo labels whose messages must not be uploaded.
var skippedWhys = []string{
	WhyBccOnly, WhyContactBcc, WhyNotParticipant, WhyInternal, WhyNewsletter, WhyMeeting,
	WhyMeetingResponse, WhyJunk, WhyDraft, WhyConvHistory, WhySyncIssues, WhyOutbox, WhyClutter,
	WhyRSS, WhyPrivate, WhyBlocked, WhyOld, WhyLate,
	WhyNoClass, WhyNoSensitivity, WhySensitivityPrivate, WhyTeamsChat, WhyUnreadable,
}

func TestDemoHasEveryCase(t *testing.T) {
	w := Demo(now)
	got := w.CountWhy()
	want := map[string]int{WhyTwoFolders: 2, WhyOld: 10, WhyLate: 2, WhyTo: 2, WhyTwoContacts: 2}
	for _, why := range append(slices.Clone(takenWhys), skippedWhys...) {
		n := want[why]
		if n == 0 {
			n = 1
		}
		if got[why] != n {
			t.Errorf("%d messages labelled %q, want %d", got[why], why, n)
		}
		delete(got, why)
	}
	if len(got) != 0 {
		t.Errorf("labels outside the known cases: %v", got)
	}
	for _, it := range w.Messages {
		taken := slices.Contains(takenWhys, it.Why)
		if taken != (len(it.Expect) > 0) {
			t.Errorf("%s (%q): Expect %v does not fit the label", it.Msg.ID, it.Why, it.Expect)
		}
		if !slices.IsSorted(it.Expect) {
			t.Errorf("%s: Expect %v not sorted", it.Msg.ID, it.Expect)
		}
	}
	if it := find(w, WhyTwoClients); len(it.Expect) != 2 {
		t.Errorf("two-client message expects %v", it.Expect)
	}
}

func find(w *World, why string) Item {
	for _, it := range w.Messages {
		if it.Why == why {
			return it
		}
	}
	return Item{}
}

func TestDemoSameMessageInTwoFolders(t *testing.T) {
	w := Demo(now)
	var dups []Item
	for _, it := range w.Messages {
		if it.Why == WhyTwoFolders {
			dups = append(dups, it)
		}
	}
	if len(dups) != 2 || dups[0].Msg.InternetMessageID != dups[1].Msg.InternetMessageID ||
		dups[0].Msg.ID == dups[1].Msg.ID || dups[0].Msg.ParentFolderID == dups[1].Msg.ParentFolderID {
		t.Fatalf("not one message in two folders: %+v", dups)
	}
	ids := map[string]bool{}
	for _, it := range w.Messages {
		if ids[it.Msg.ID] {
			t.Errorf("Graph id %q used twice", it.Msg.ID)
		}
		ids[it.Msg.ID] = true
	}
}

func TestExpectedFollowsLabels(t *testing.T) {
	w := Demo(now)
	exp := w.Expected()
	total := 0
	for client, mids := range exp {
		if !slices.IsSorted(mids) || len(slices.Compact(slices.Clone(mids))) != len(mids) {
			t.Errorf("client %d: ids not sorted and distinct: %v", client, mids)
		}
		for _, mid := range mids {
			it, ok := w.Item(mid)
			if !ok || !slices.Contains(it.Expect, client) {
				t.Errorf("client %d expects %s, which is not labelled for it", client, mid)
			}
		}
		total += len(mids)
	}
	labelled := 0
	seen := map[string]bool{}
	for _, it := range w.Messages {
		if seen[it.Msg.InternetMessageID] {
			continue
		}
		seen[it.Msg.InternetMessageID] = true
		labelled += len(it.Expect)
		for _, c := range it.Expect {
			if !slices.Contains(exp[c], it.Msg.InternetMessageID) {
				t.Errorf("%s labelled for client %d but not expected there", it.Msg.InternetMessageID, c)
			}
		}
	}
	if total != labelled {
		t.Errorf("Expected holds %d uploads, labels %d", total, labelled)
	}
	after := w.ExpectedAfterLate()
	if got, want := len(after[ClientTailspin]), len(exp[ClientTailspin])+1; got != want {
		t.Errorf("after the late contacts Tailspin expects %d messages, want %d", got, want)
	}
}

// TestDemoLabelsAgreeWithRules checks the hand-written labels against
// sync/match: two independent statements of the rules must agree.
func TestDemoLabelsAgreeWithRules(t *testing.T) {
	w := Demo(now)
	me := match.NewMe(w.Me.Addresses())
	excluded := match.Folders{ByID: map[string]match.FolderKind{}}
	for _, f := range w.Folders {
		if slices.Contains(graph.ExcludedWellKnownFolders, f.WellKnownName) {
			excluded.ByID[f.ID] = match.FolderKind(f.WellKnownName)
		}
	}
	book := map[string][]match.Contact{}
	addContact := func(c match.Contact) { book[c.Email] = append(book[c.Email], c) }
	for _, c := range w.Contacts {
		addContact(match.Contact{ID: c.ID, ClientID: c.ClientID, Email: strings.ToLower(c.Email)})
	}
	decide := func(m graph.Message, windowStart time.Time) match.Decision {
		rm := engine.MatchMessage(&m)
		return match.Decide(match.Input{Msg: &rm, Me: me, Excluded: excluded, WindowStart: windowStart,
			Settings: Settings(), Contacts: func(a string) []match.Contact { return book[a] }})
	}
	for _, it := range w.Messages {
		d := decide(it.Msg, now.Add(-24*time.Hour))
		if it.BodyStatus != 0 {
			// The rules take it; its text never comes, so it never lands.
			if !d.Taken() || len(it.Expect) != 0 {
				t.Errorf("%s (%q): rules give %v (%s), label %v; want a message the rules take that never lands", it.Msg.ID, it.Why, d.ClientIDs(), d.Reason, it.Expect)
			}
			continue
		}
		if got := d.ClientIDs(); !slices.Equal(got, it.Expect) && !(len(got) == 0 && len(it.Expect) == 0) {
			t.Errorf("%s (%q): rules give %v (%s), label says %v", it.Msg.ID, it.Why, got, d.Reason, it.Expect)
		}
	}
	for _, l := range w.Late {
		addContact(match.Contact{ID: l.Contact.ID, ClientID: l.Contact.ClientID, Email: l.Contact.Email})
		it, _ := w.Item(l.MessageID)
		passAt := l.Received.Add(l.After)
		got := decide(it.Msg, passAt.Add(-24*time.Hour)).ClientIDs()
		if !slices.Equal(got, l.Expect) && !(len(got) == 0 && len(l.Expect) == 0) {
			t.Errorf("late contact %s added after %v: rules give %v, label says %v", l.Contact.Email, l.After, got, l.Expect)
		}
	}
}

func TestDemoFoldersAndTimes(t *testing.T) {
	w := Demo(now)
	known := map[string]bool{}
	byWK := map[string]string{}
	for _, f := range w.Folders {
		if f.ParentID != "" && !known[f.ParentID] {
			t.Errorf("folder %q listed before its parent %q", f.DisplayName, f.ParentID)
		}
		known[f.ID] = true
		if f.WellKnownName != "" {
			byWK[f.WellKnownName] = f.DisplayName
		}
	}
	for wk, name := range map[string]string{"inbox": "Posteingang", "junkemail": "Junk-E-Mail", "drafts": "Entwürfe", "sentitems": "Gesendete Elemente"} {
		if byWK[wk] != name {
			t.Errorf("well-known %q is %q, want the German %q", wk, byWK[wk], name)
		}
	}
	for _, k := range graph.ExcludedWellKnownFolders {
		if _, ok := byWK[k]; !ok {
			t.Errorf("no folder with well-known name %q", k)
		}
	}
	older := map[string]bool{}
	for _, l := range w.Late {
		for _, id := range l.Older {
			older[id] = true
		}
	}
	for _, it := range w.Messages {
		m := it.Msg
		if !known[m.ParentFolderID] {
			t.Errorf("%s in unknown folder %q", m.ID, m.ParentFolderID)
		}
		age := now.Sub(m.ReceivedDateTime)
		if age < 0 || (age > 30*time.Hour && it.Why != WhyOld) || age > 365*24*time.Hour ||
			older[m.InternetMessageID] && age > 7*24*time.Hour {
			t.Errorf("%s received %v before now", m.ID, age)
		}
		if (age > 24*time.Hour) != (it.Why == WhyOld) {
			t.Errorf("%s (%q) received %v before now", m.ID, it.Why, age)
		}
		for _, p := range m.SingleValueExtendedProperties {
			if p.ID != "String 0x1a" && p.ID != "Integer 0x36" {
				t.Errorf("%s: extended property id %q, want Graph's normalised form", m.ID, p.ID)
			}
		}
	}
}

func TestCatchUp(t *testing.T) {
	from, to := now.Add(48*time.Hour), now.Add(72*time.Hour)
	items := CatchUp(from, to, 5, 1)
	if len(items) != 5 || !items[0].Msg.ReceivedDateTime.Equal(from) || !items[4].Msg.ReceivedDateTime.Equal(to) {
		t.Fatalf("CatchUp spread wrong: %d items", len(items))
	}
	other := CatchUp(from, to, 5, 2)
	if items[0].Msg.InternetMessageID == other[0].Msg.InternetMessageID {
		t.Error("two batches share ids")
	}
	for _, it := range items {
		if len(it.Expect) != 1 {
			t.Errorf("%s expects %v", it.Msg.ID, it.Expect)
		}
	}
}

func TestGenerateSizesAndRate(t *testing.T) {
	for _, o := range []Options{
		{Now: now, Seed: 1, Messages: 10000, Contacts: 2000, MatchRate: 0.15},
		{Now: now, Seed: 2, Messages: 1000, MatchRate: 0.4},
	} {
		w := Generate(o)
		if len(w.Messages) != o.Messages {
			t.Errorf("%d messages, want %d", len(w.Messages), o.Messages)
		}
		wantContacts := o.Contacts
		if wantContacts == 0 {
			wantContacts = 2000
		}
		if len(w.Contacts) != wantContacts || len(w.Clients) != wantContacts/contactsPerClient {
			t.Errorf("%d contacts in %d clients", len(w.Contacts), len(w.Clients))
		}
		clients := map[int64]bool{}
		for _, c := range w.Clients {
			clients[c.ID] = true
		}
		taken := 0
		mids := map[string]bool{}
		for _, it := range w.Messages {
			if len(it.Expect) > 0 {
				taken++
			}
			for _, c := range it.Expect {
				if !clients[c] {
					t.Fatalf("%s expects unknown client %d", it.Msg.ID, c)
				}
			}
			if mids[it.Msg.InternetMessageID] {
				t.Fatalf("duplicate internetMessageId %s", it.Msg.InternetMessageID)
			}
			mids[it.Msg.InternetMessageID] = true
			if age := now.Sub(it.Msg.ReceivedDateTime); age <= 0 || age >= 24*time.Hour {
				t.Fatalf("%s received %v before now", it.Msg.ID, age)
			}
		}
		if rate := float64(taken) / float64(o.Messages); math.Abs(rate-o.MatchRate) > 0.005 {
			t.Errorf("match rate %.4f, want %.2f", rate, o.MatchRate)
		}
	}
}

// TestGenerateAgreesWithRules checks generated labels against sync/match.
func TestGenerateAgreesWithRules(t *testing.T) {
	w := Generate(Options{Now: now, Seed: 7, Messages: 2000, Contacts: 200})
	me := match.NewMe(w.Me.Addresses())
	excluded := match.Folders{ByID: map[string]match.FolderKind{FolderJunk: match.KindJunk}}
	book := map[string][]match.Contact{}
	for _, c := range w.Contacts {
		book[c.Email] = append(book[c.Email], match.Contact{ID: c.ID, ClientID: c.ClientID, Email: c.Email})
	}
	for _, it := range w.Messages {
		rm := engine.MatchMessage(&it.Msg)
		d := match.Decide(match.Input{Msg: &rm, Me: me, Excluded: excluded, WindowStart: now.Add(-24 * time.Hour),
			Settings: Settings(), Contacts: func(a string) []match.Contact { return book[a] }})
		if got := d.ClientIDs(); !slices.Equal(got, it.Expect) && !(len(got) == 0 && len(it.Expect) == 0) {
			t.Fatalf("%s (%q): rules give %v (%s), label says %v", it.Msg.ID, it.Why, got, d.Reason, it.Expect)
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	o := Options{Now: now, Seed: 42, Messages: 500}
	a, b := Generate(o), Generate(o)
	if !slices.EqualFunc(a.Messages, b.Messages, sameItem) {
		t.Fatal("same seed gave different worlds")
	}
	var streamed []Item
	for it := range o.Items() {
		streamed = append(streamed, it)
	}
	if !slices.EqualFunc(a.Messages, streamed, sameItem) {
		t.Fatal("Items differs from Generate")
	}
	if !maps.EqualFunc(a.Expected(), ExpectedFrom(o.Items()), slices.Equal) {
		t.Fatal("ExpectedFrom differs from Expected")
	}
	o.Seed = 43
	if slices.EqualFunc(a.Messages, Generate(o).Messages, sameItem) {
		t.Fatal("another seed gave the same world")
	}
	if w := Generate(Options{Now: now}); len(w.Messages) != len(Demo(now).Messages) {
		t.Fatal("Messages 0 does not give the demo mailbox")
	}
}

func sameItem(a, b Item) bool {
	return a.Msg.InternetMessageID == b.Msg.InternetMessageID && a.Why == b.Why &&
		slices.Equal(a.Expect, b.Expect) && a.Msg.ReceivedDateTime.Equal(b.Msg.ReceivedDateTime) &&
		a.Msg.From.EmailAddress == b.Msg.From.EmailAddress && a.Body == b.Body
}
