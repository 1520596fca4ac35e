package settings

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
	"mailsync/sync/engine"
	"mailsync/sync/match"
)

// fixableDecisions are rows whose details offer each fix.
func fixableDecisions() []agentapi.Decision {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 26, h, m, 0, 0, time.UTC) }
	pass := func(rule string) match.Verdict { return match.Verdict{Rule: rule, Passed: true} }
	return []agentapi.Decision{
		{Time: at(10, 42), Received: at(10, 40), Subject: "Tailspin: introduction", Counterpart: "Olivia Park <olivia.park@tailspin.example>",
			Reason: string(match.NoContact), Key: "<intro@tailspin.example>",
			Participants: []match.Participant{
				{Role: "From", Name: "Olivia Park", Address: "olivia.park@tailspin.example"},
				{Role: "To", Address: "dana@contoso.com", You: true, Internal: true},
				{Role: "Cc", Address: "sam@contoso.com", Internal: true},
			},
			Verdicts: []match.Verdict{pass(match.RuleWindow), pass(match.RuleFolder), {Rule: match.RuleContact, Reason: match.NoContact}}},
		{Time: at(10, 42), Received: at(10, 31), Subject: "Renewal quote for 2027", Counterpart: "Ann Lee <ann@acme.com>", Synced: true,
			Clients: []string{"ACME Corp"}, Key: "<renewal@acme.com>",
			Copies: []engine.Copy{{ClientID: 7, Client: "ACME Corp", InteractionID: 4471}}},
		{Time: at(10, 42), Received: at(10, 20), Subject: "Personal: dinner", Counterpart: "Emma Schulz <emma@adatum.example>",
			Reason: string(match.Private), Key: "<dinner@adatum.example>"},
		{Time: at(10, 42), Received: at(10, 10), Subject: "You have won", Counterpart: "x@prize.example",
			Reason: string(match.JunkFolder), Folder: string(match.JunkFolder), Key: "<won@prize.example>"},
	}
}

func TestActivityFiltersNewestFirst(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.api.Do(func(s *agentapitest.State) { s.Decisions = fixableDecisions() })
	h.w.Select(SectionActivity)
	h.w.activity.refresh()
	h.pump("list filled", func() bool { return len(h.w.activity.items) == 4 })
	if f := h.w.activity.filter; !f.Visible() || !slices.Equal(f.Options, []string{"All", "Copied", "Skipped"}) || f.Selected != "All" {
		t.Errorf("filter %q, selected %q", f.Options, f.Selected)
	}
	// The agent's order is kept: newest first, copied among skipped.
	if got := h.w.activity.items; got[0].Key != "<intro@tailspin.example>" || !got[1].Synced {
		t.Errorf("rows %v", got)
	}
	h.w.activity.filter.SetSelected(filterSkipped)
	h.pump("skipped listed", func() bool { return h.w.activity.shown == filterSkipped && len(h.w.activity.items) == 3 })
	if s := h.api.Snapshot().Shows; s[len(s)-1] != agentapi.ShowSkipped {
		t.Errorf("the agent was asked for %q", s[len(s)-1])
	}
	h.w.activity.filter.SetSelected(filterCopied)
	h.pump("copied listed", func() bool { return h.w.activity.shown == filterCopied && len(h.w.activity.items) == 1 })
	h.w.activity.list.Refresh()
	h.wantText("Renewal quote for 2027", "Copied to ACME Corp")
	h.wantNoText("Tailspin: introduction")
	test.Type(h.w.activity.search, "nothing")
	h.pump("nothing found", func() bool { return h.w.activity.query == "nothing" })
	h.wantText("No copied emails match “nothing”.")
}

// A row opens its details, with the fixes on offer above them; each fix
// asks the agent.
func TestActivityDetailsAndFixes(t *testing.T) {
	h := newHarness(t, connectedIdle())
	h.api.Do(func(s *agentapitest.State) {
		s.Decisions = fixableDecisions()
		s.Suggestion = agentapi.ContactSuggestion{FirstName: "Olivia", LastName: "Park",
			Suggested: []agentapi.ClientChoice{{ID: 4, Name: "Tailspin Toys", Contacts: 2}},
			Clients:   []agentapi.ClientChoice{{ID: 3, Name: "Adatum Corp"}, {ID: 4, Name: "Tailspin Toys"}, {ID: 5, Name: "Tailwind"}}}
	})
	h.w.Select(SectionActivity)
	h.w.activity.refresh()
	h.pump("list filled", func() bool { return len(h.w.activity.items) == 4 })

	// A click on the copied row: where it went.
	h.w.activity.list.Select(1)
	h.wantText("Copied to ACME Corp as interaction 4471", "[Back to the list]")
	h.wantNoText("[Add as contact…]", "[Copy this one anyway]")
	test.Tap(h.button(backText))
	h.wantText("Tailspin: introduction", "Personal: dinner")

	h.w.activity.list.Select(0)
	h.wantText("From: Olivia Park <olivia.park@tailspin.example> · not a ClientSuccess contact",
		"Cc: sam@contoso.com · your organization", "To: dana@contoso.com · you",
		"A ClientSuccess contact takes part: no, no ClientSuccess contact", "Received inside the window",
		"in a folder Mail Sync reads",
		"[Add as contact…]", "[Never copy this address]", "[Never copy @tailspin.example]")
	// Only the outside address is offered.
	h.wantNoText("[Never copy @contoso.com]", "[Copy this one anyway]")

	h.tap(blockAddressText, "BlockAddress")
	h.pump("blocked said", func() bool { return h.w.activity.details.note.Visible() })
	h.tap("Never copy @tailspin.example", "BlockAddress")
	h.pump("domain blocked", func() bool { return len(h.api.Snapshot().Blocked) == 2 })
	if b := h.api.Snapshot().Blocked; !slices.Equal(b, []string{"olivia.park@tailspin.example", "@tailspin.example"}) {
		t.Errorf("blocked %q", b)
	}
	h.settle()
	h.wantText("@tailspin.example is on your blocklist")

	// Add as contact: names and the suggested client filled in; another
	// client picked from the searched list.
	h.tap(addContactText, "SuggestContact")
	f := h.w.activity.details.form
	h.pump("suggestion shown", func() bool { return f.first.Text == "Olivia" })
	h.wantText("Add olivia.park@tailspin.example to ClientSuccess", "Suggested: Tailspin Toys, which has 2 contacts at tailspin.example")
	if f.chosen != 4 || f.add.Disabled() {
		t.Fatalf("chosen %d, add disabled %v; want the suggested client ready", f.chosen, f.add.Disabled())
	}
	test.Type(f.search, "wind")
	if len(f.shown) != 1 || f.shown[0].Name != "Tailwind" {
		t.Fatalf("search “wind” shows %v", f.shown)
	}
	f.list.Select(0)
	f.last.SetText("Park-Lee")
	h.tap(addText, "AddContact")
	h.pump("added said", func() bool { return h.w.activity.details.form == nil })
	if got := h.api.Snapshot().Added[0]; got != (agentapi.NewContact{Address: "olivia.park@tailspin.example", FirstName: "Olivia", LastName: "Park-Lee", ClientID: 5}) {
		t.Errorf("AddContact asked %+v", got)
	}
	h.settle()
	h.wantText("olivia.park@tailspin.example is now a contact of Tailwind. Copying their emails now.")
	test.Tap(h.button(backText))

	// Copy this one anyway: only for a rule the person chose.
	h.w.activity.list.Select(3)
	h.wantText("in junk folder")
	h.wantNoText("[Copy this one anyway]")
	test.Tap(h.button(backText))
	h.w.activity.list.Select(2)
	h.tap(copyAnywayText, "CopyAnyway")
	if c := h.api.Snapshot().Copied; len(c) != 1 || c[0] != "<dinner@adatum.example>" {
		t.Errorf("copied %q", c)
	}
	h.settle()
	h.wantText("Mail Sync copies this email now")
}
