package agentapi_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
)

func TestActivityRoundTrips(t *testing.T) {
	a := startAgent(t)
	c, f := a.client, a.api
	ctx := context.Background()
	tailspin := agentapi.ClientChoice{ID: 4, Name: "Tailspin Toys", Contacts: 2}
	f.Do(func(s *agentapitest.State) {
		s.Decisions = []agentapi.Decision{{Subject: "one", Key: "<1@x>"}, {Subject: "two", Key: "<2@x>", Synced: true}}
		s.Suggestion = agentapi.ContactSuggestion{FirstName: "Olivia", LastName: "Park", Suggested: []agentapi.ClientChoice{tailspin},
			Clients: []agentapi.ClientChoice{{ID: 4, Name: "Tailspin Toys"}, {ID: 5, Name: "Adatum"}}}
	})
	got, err := c.Activity(ctx, agentapi.ActivityQuery{Text: "o", Show: agentapi.ShowSkipped, Limit: 7})
	if err != nil || len(got) != 1 || got[0].Key != "<1@x>" {
		t.Fatalf("Activity = %v, %v", got, err)
	}
	if s := f.Snapshot(); s.Shows[0] != agentapi.ShowSkipped || s.Queries[0].Text != "o" || s.Queries[0].Limit != 7 {
		t.Errorf("the agent was asked %+v %+v", s.Shows, s.Queries)
	}
	s, err := c.SuggestContact(ctx, "olivia@tailspin.example")
	if err != nil || s.Address != "olivia@tailspin.example" || !reflect.DeepEqual(s.Suggested, []agentapi.ClientChoice{tailspin}) || len(s.Clients) != 2 {
		t.Errorf("SuggestContact = %+v, %v", s, err)
	}
	added, err := c.AddContact(ctx, agentapi.NewContact{Address: "olivia@tailspin.example", ClientID: 5, FirstName: "Olivia"})
	if err != nil || added.ClientID != 5 || added.Client != "Adatum" || !added.Syncing {
		t.Errorf("AddContact = %+v, %v", added, err)
	}
	// Several suggested: the candidates come through the socket.
	two := []agentapi.ClientChoice{tailspin, {ID: 6, Name: "Tailwind", Contacts: 1}}
	f.Do(func(s *agentapitest.State) { s.Suggestion.Suggested = two })
	_, err = c.AddContact(ctx, agentapi.NewContact{Address: "olivia@tailspin.example"})
	var ce *agentapi.ClientChoiceError
	if !errors.As(err, &ce) || ce.Words == "" || !reflect.DeepEqual(ce.Candidates, two) {
		t.Errorf("AddContact without a client = %#v", err)
	}
	// None suggested: an empty list, not nothing.
	f.Do(func(s *agentapitest.State) { s.Suggestion.Suggested = nil })
	_, err = c.AddContact(ctx, agentapi.NewContact{Address: "olivia@tailspin.example"})
	if !errors.As(err, &ce) || ce.Candidates == nil || len(ce.Candidates) != 0 {
		t.Errorf("AddContact with none suggested = %#v, want a choice error with no candidates", err)
	}
	if e, err := c.BlockAddress(ctx, "X@Domain.example", true); err != nil || e != "@domain.example" {
		t.Errorf("BlockAddress = %q, %v", e, err)
	}
	// Keys are Message-IDs: any character, a slash too.
	key := "<a/b?c#d%20@x.example>"
	if err := c.CopyAnyway(ctx, key); err != nil || !slices.Equal(f.Snapshot().Copied, []string{key}) {
		t.Errorf("CopyAnyway sent %q, %v; want %q", f.Snapshot().Copied, err, key)
	}
	const words = "Activity no longer lists this email."
	f.Do(func(s *agentapitest.State) { s.Errs = map[string]error{"CopyAnyway": errors.New(words)} })
	if err := c.CopyAnyway(ctx, key); err == nil || err.Error() != words {
		t.Errorf("CopyAnyway's error = %v, want the agent's words", err)
	}
}
