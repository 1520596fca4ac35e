package main

import (
	"mailsync/sync/agentapi"
	"mailsync/sync/match"
)

// suggestion is what Add as contact starts from in the pictures: Tailspin
// Toys, as the sandbox's directory suggests for tailspin.example.
func suggestion() agentapi.ContactSuggestion {
	return agentapi.ContactSuggestion{FirstName: "Olivia", LastName: "Park",
		Suggested: []agentapi.ClientChoice{{ID: 1004, Name: "Tailspin Toys", Contacts: 1}},
		Clients: []agentapi.ClientChoice{{ID: 1003, Name: "Adatum Corp"}, {ID: 1002, Name: "Fabrikam Inc"},
			{ID: 1001, Name: "Northwind Traders"}, {ID: 1004, Name: "Tailspin Toys"}}}
}

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
