package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/match"
)

// Activity answers the pictures' decisions, filtered as the agent does.
func (m *memAgent) Activity(_ context.Context, q agentapi.ActivityQuery) ([]agentapi.Decision, error) {
	defer m.answer("Decisions")
	var out []agentapi.Decision
	for _, d := range decisions() {
		if q.Show == agentapi.ShowCopied && !d.Synced || q.Show == agentapi.ShowSkipped && d.Synced {
			continue
		}
		if q.Text != "" && !strings.Contains(strings.ToLower(d.Subject+" "+agent.Outcome(d)), strings.ToLower(q.Text)) {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// SuggestContact suggests Tailspin Toys, as the sandbox's directory does
// for tailspin.example.
func (m *memAgent) SuggestContact(_ context.Context, address string) (agentapi.ContactSuggestion, error) {
	defer m.answer("SuggestContact")
	return agentapi.ContactSuggestion{Address: address, FirstName: "Olivia", LastName: "Park",
		Suggested: []agentapi.ClientChoice{{ID: 1004, Name: "Tailspin Toys", Contacts: 1}},
		Clients: []agentapi.ClientChoice{{ID: 1003, Name: "Adatum Corp"}, {ID: 1002, Name: "Fabrikam Inc"},
			{ID: 1001, Name: "Northwind Traders"}, {ID: 1004, Name: "Tailspin Toys"}}}, nil
}

func (m *memAgent) AddContact(_ context.Context, c agentapi.NewContact) (agentapi.AddedContact, error) {
	return agentapi.AddedContact{ContactID: 2040, ClientID: c.ClientID, Client: "Tailspin Toys", Syncing: true}, nil
}

func (m *memAgent) BlockAddress(_ context.Context, address string, wholeDomain bool) (string, error) {
	e, _ := match.BlockFor(address, wholeDomain)
	return e, nil
}

func (m *memAgent) CopyAnyway(context.Context, string) error { return nil }

// oliviaKey is the picture's email from a Tailspin person who is not a
// contact yet.
const oliviaKey = "<demo-043.20261126131500@tailspin.example>"

// olivia is that email's row, with its details.
func olivia() agentapi.Decision {
	ok := func(rule string) match.Verdict { return match.Verdict{Rule: rule, Passed: true} }
	return agentapi.Decision{Time: at(14, 42), Received: at(13, 15), Subject: "Tailspin: introduction",
		Counterpart: "Olivia Park <olivia.park@tailspin.example>", Reason: string(match.NoContact), Key: oliviaKey,
		Participants: []match.Participant{
			{Role: "From", Name: "Olivia Park", Address: "olivia.park@tailspin.example"},
			{Role: "To", Name: "Alex Morgan", Address: "alex.morgan@contoso.example", You: true, Internal: true},
		},
		Verdicts: []match.Verdict{ok(match.RuleWindow), ok(match.RuleDraft), ok(match.RuleFolder), ok(match.RuleKind),
			ok(match.RulePrivate), ok(match.RuleParticipant), ok(match.RuleBlocklist), ok(match.RuleInternal),
			{Rule: match.RuleContact, Reason: match.NoContact}},
	}
}

// waitFor waits until the window asked for what (a method's name), or
// limit passed.
func (m *memAgent) waitFor(what string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		m.mu.Lock()
		done := m.answered[what]
		m.mu.Unlock()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the window did not ask for " + what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
