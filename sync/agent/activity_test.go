package agent_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
	"mailsync/sync/match"
	"mailsync/sync/sandbox"
)

// synced is a fixture connected, signed in to ClientSuccess, after its
// first pass, with its scheduler running (so that the passes the fixes
// start happen).
func synced(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.connect(t)
	f.ready(t)
	if _, err := f.ag.PassNow(ctxFor(t)); err != nil {
		t.Fatalf("first pass: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = f.ag.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return f
}

// rowOf is the Activity row of the demo message labelled why.
func rowOf(t *testing.T, f *fixture, show, why string) engine.Decision {
	t.Helper()
	var id string
	for _, it := range f.svc.World.Messages {
		if it.Why == why {
			id = storage.LedgerKey(it.Msg.InternetMessageID)
			break
		}
	}
	rows, err := f.ag.Activity(ctxFor(t), agentapi.ActivityQuery{Show: show})
	if err != nil {
		t.Fatalf("Activity: %v", err)
	}
	for _, d := range rows {
		if d.Key == id {
			return d
		}
	}
	t.Fatalf("Activity (%q) does not list the %q message", show, why)
	return engine.Decision{}
}

// Add as contact, end to end: the message skipped for want of a contact
// is copied by the pass started at once, and nothing is created twice.
func TestAddContactCopiesTheEmailAtOnce(t *testing.T) {
	f := synced(t)
	ctx := ctxFor(t)
	row := rowOf(t, f, agentapi.ShowSkipped, sandbox.WhyLate)
	const olivia = "olivia.park@tailspin.example"
	if row.Reason != string(match.NoContact) ||
		!slices.ContainsFunc(row.Participants, func(p match.Participant) bool { return p.Address == olivia && !p.Contact && !p.Internal }) {
		t.Fatalf("row before = %+v", row)
	}
	s, err := f.ag.SuggestContact(ctx, "Olivia.Park@Tailspin.example")
	if err != nil {
		t.Fatalf("SuggestContact: %v", err)
	}
	if s.Address != olivia || s.FirstName != "Olivia" || s.LastName != "Park" ||
		len(s.Suggested) != 1 || s.Suggested[0].ID != sandbox.ClientTailspin || len(s.Clients) != len(f.svc.World.Clients) {
		t.Fatalf("suggestion = %+v", s)
	}
	added, err := f.ag.AddContact(ctx, agentapi.NewContact{Address: olivia, FirstName: s.FirstName, LastName: s.LastName})
	if err != nil || added.ClientID != sandbox.ClientTailspin || added.Client != "Tailspin Toys" || added.Existed || !added.Syncing {
		t.Fatalf("AddContact = %+v, %v", added, err)
	}
	made := f.svc.CRM.ContactsOf(sandbox.ClientTailspin, olivia)
	if len(made) != 1 || made[0].FirstName != "Olivia" || made[0].LastName != "Park" {
		t.Fatalf("contacts in ClientSuccess = %+v", made)
	}
	// The pass AddContact started; a pass in flight when it was added
	// ends first, and Sync may join that one.
	for try := 0; !slices.Contains(f.svc.CRM.MessageIDs()[sandbox.ClientTailspin], row.Key); try++ {
		if try == 3 {
			t.Fatalf("Tailspin's timeline %q lacks %s after three passes", f.svc.CRM.MessageIDs()[sandbox.ClientTailspin], row.Key)
		}
		if _, err := f.ag.Sync(ctx); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}
	after := rowOf(t, f, agentapi.ShowCopied, sandbox.WhyLate)
	if len(after.Copies) != 1 || after.Copies[0].InteractionID == 0 || after.Copies[0].Client != "Tailspin Toys" {
		t.Errorf("row after = %+v", after)
	}
	// Again: ClientSuccess has it, nothing is created.
	again, err := f.ag.AddContact(ctx, agentapi.NewContact{Address: olivia, Client: "tailspin"})
	if err != nil || !again.Existed || again.ContactID != made[0].ID {
		t.Errorf("adding again = %+v, %v", again, err)
	}
	if n := len(f.svc.CRM.ContactsOf(sandbox.ClientTailspin, olivia)); n != 1 {
		t.Errorf("%d contacts after adding twice", n)
	}
	// A domain no contact shares: the person must choose.
	_, err = f.ag.AddContact(ctx, agentapi.NewContact{Address: "someone@nowhere.example"})
	var ce *agentapi.ClientChoiceError
	if !errors.As(err, &ce) || len(ce.Candidates) != 0 || !strings.Contains(ce.Words, "choose the client") {
		t.Errorf("no client suggested: %v", err)
	}
	if _, err := f.ag.AddContact(ctx, agentapi.NewContact{Address: "someone@nowhere.example", Client: "Nobody Inc"}); err == nil ||
		!strings.Contains(agent.Words(err), "no client “Nobody Inc”") {
		t.Errorf("an unknown client: %v", err)
	}
}

// Copy this one anyway lifts only the person's own rules, and a later
// pass keeps the email copied, once.
func TestCopyAnyway(t *testing.T) {
	f := synced(t)
	ctx := ctxFor(t)
	priv := rowOf(t, f, agentapi.ShowSkipped, sandbox.WhyPrivate)
	junk := rowOf(t, f, agentapi.ShowSkipped, sandbox.WhyJunk)
	if err := f.ag.CopyAnyway(ctx, junk.Key); err == nil || !strings.Contains(agent.Words(err), "not by a choice of yours") {
		t.Errorf("copy anyway of junk: %v", err)
	}
	if err := f.ag.CopyAnyway(ctx, priv.Key); err != nil {
		t.Fatalf("CopyAnyway: %v", err)
	}
	for range 3 {
		if _, err := f.ag.Sync(ctx); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}
	n := 0
	for _, id := range f.svc.CRM.MessageIDs()[sandbox.ClientAdatum] {
		if id == priv.Key {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the private email is on Adatum's timeline %d times, want once", n)
	}
	if err := f.ag.CopyAnyway(ctx, priv.Key); err == nil || !strings.Contains(agent.Words(err), "already copied") {
		t.Errorf("copy anyway of a copied email: %v", err)
	}
	if err := f.ag.CopyAnyway(ctx, "<nothing@x>"); err == nil {
		t.Error("copy anyway of an unknown email is no error")
	}
}

// Never copy mail with this address / domain goes through the rule
// Options uses, once.
func TestBlockAddressFromActivity(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	if e, err := f.ag.BlockAddress(ctx, "Olivia.Park@Tailspin.example", false); err != nil || e != "olivia.park@tailspin.example" {
		t.Fatalf("block address = %q, %v", e, err)
	}
	if e, err := f.ag.BlockAddress(ctx, "ben.carter@tailspin.example", true); err != nil || e != "@tailspin.example" {
		t.Fatalf("block domain = %q, %v", e, err)
	}
	if _, err := f.ag.BlockAddress(ctx, "kenji.watanabe@tailspin.example", true); err != nil {
		t.Fatal(err)
	}
	s, err := f.ag.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"olivia.park@tailspin.example", "@tailspin.example"}; !slices.Equal(s.Rules.Blocklist, want) {
		t.Errorf("blocklist = %q, want %q", s.Rules.Blocklist, want)
	}
	if _, err := f.ag.BlockAddress(ctx, "not an address", false); err == nil {
		t.Error("blocking a non-address is no error")
	}
}

// Activity lists newest first within each filter, copied rows among
// them, and finds rows by their outcome's word.
func TestActivityFilters(t *testing.T) {
	f := newFixture(t)
	f.connect(t)
	f.ready(t)
	ctx := ctxFor(t)
	if _, err := f.ag.PassNow(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := f.ag.Activity(ctx, agentapi.ActivityQuery{})
	if err != nil {
		t.Fatal(err)
	}
	copied, _ := f.ag.Activity(ctx, agentapi.ActivityQuery{Show: agentapi.ShowCopied})
	skipped, _ := f.ag.Activity(ctx, agentapi.ActivityQuery{Show: "Skipped"})
	if len(copied) == 0 || len(skipped) == 0 || len(copied)+len(skipped) != len(all) {
		t.Fatalf("all %d, copied %d, skipped %d", len(all), len(copied), len(skipped))
	}
	for name, rows := range map[string][]engine.Decision{"all": all, "copied": copied, "skipped": skipped} {
		if !slices.IsSortedFunc(rows, func(a, b engine.Decision) int { return b.Received.Compare(a.Received) }) {
			t.Errorf("%s is not newest first", name)
		}
	}
	for _, d := range copied {
		if !d.Synced {
			t.Errorf("a skipped row under copied: %+v", d)
		}
	}
	if byWord, _ := f.ag.Activity(ctx, agentapi.ActivityQuery{Text: "COPIED"}); len(byWord) != len(copied) {
		t.Errorf("searching “copied” finds %d rows, want the %d copied", len(byWord), len(copied))
	}
	if byWord, _ := f.ag.Activity(ctx, agentapi.ActivityQuery{Text: "skipped"}); len(byWord) != len(skipped) {
		t.Errorf("searching “skipped” finds %d rows, want the %d skipped", len(byWord), len(skipped))
	}
	if some, _ := f.ag.Activity(ctx, agentapi.ActivityQuery{Show: agentapi.ShowSkipped, Limit: 3}); len(some) != 3 || some[0].Key != skipped[0].Key {
		t.Errorf("limit 3: %d rows", len(some))
	}
	if _, err := f.ag.Activity(ctx, agentapi.ActivityQuery{Show: "maybe"}); err == nil {
		t.Error("an unknown filter is no error")
	}
}
