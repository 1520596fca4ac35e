package agentapi

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// The fake's side of Activity and its fixes: what was asked is kept for
// the test to look at.
type activityCalls struct {
	query   ActivityQuery
	added   NewContact
	blocked string
	copied  string
}

func (f *fakeAPI) activity() *activityCalls {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fixes == nil {
		f.fixes = &activityCalls{}
	}
	return f.fixes
}

func (f *fakeAPI) Activity(_ context.Context, q ActivityQuery) ([]Decision, error) {
	if err := f.record("activity"); err != nil {
		return nil, err
	}
	f.activity().query = q
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.decisions, nil
}

func (f *fakeAPI) SuggestContact(_ context.Context, address string) (ContactSuggestion, error) {
	if err := f.record("suggest contact"); err != nil {
		return ContactSuggestion{}, err
	}
	return ContactSuggestion{Address: address, FirstName: "Olivia", LastName: "Brown",
		Suggested: []ClientChoice{{ID: 4, Name: "Tailspin Toys", Contacts: 2}},
		Clients:   []ClientChoice{{ID: 4, Name: "Tailspin Toys"}, {ID: 5, Name: "Adatum"}}}, nil
}

func (f *fakeAPI) AddContact(_ context.Context, c NewContact) (AddedContact, error) {
	if err := f.record("add contact"); err != nil {
		return AddedContact{}, err
	}
	f.activity().added = c
	if c.ClientID == 0 && c.Client == "" {
		return AddedContact{}, &ClientChoiceError{Words: "choose the client", Candidates: []ClientChoice{{ID: 4, Name: "Tailspin Toys"}, {ID: 6, Name: "Tailwind"}}}
	}
	if c.Client == "none" {
		return AddedContact{}, &ClientChoiceError{Words: "no client suggested"}
	}
	return AddedContact{ContactID: 77, ClientID: 4, Client: "Tailspin Toys", Syncing: true}, nil
}

func (f *fakeAPI) BlockAddress(_ context.Context, address string, wholeDomain bool) (string, error) {
	if err := f.record("block"); err != nil {
		return "", err
	}
	f.activity().blocked = address
	if wholeDomain {
		return "@domain.example", nil
	}
	return address, nil
}

func (f *fakeAPI) CopyAnyway(_ context.Context, key string) error {
	if err := f.record("copy anyway"); err != nil {
		return err
	}
	f.activity().copied = key
	return nil
}

func TestActivityRoundTrips(t *testing.T) {
	a := startAgent(t)
	c, f := a.client, a.api
	ctx := context.Background()
	f.decisions = []Decision{{Subject: "one", Key: "<1@x>"}}
	got, err := c.Activity(ctx, ActivityQuery{Text: "olivia", Show: ShowSkipped, Limit: 7})
	if err != nil || len(got) != 1 || got[0].Key != "<1@x>" {
		t.Fatalf("Activity = %v, %v", got, err)
	}
	if q := f.activity().query; q != (ActivityQuery{Text: "olivia", Show: ShowSkipped, Limit: 7}) {
		t.Errorf("the agent was asked %+v", q)
	}
	s, err := c.SuggestContact(ctx, "olivia@tailspin.example")
	if err != nil || s.Address != "olivia@tailspin.example" || len(s.Suggested) != 1 || len(s.Clients) != 2 {
		t.Errorf("SuggestContact = %+v, %v", s, err)
	}
	added, err := c.AddContact(ctx, NewContact{Address: "olivia@tailspin.example", Client: "Tailspin", FirstName: "Olivia"})
	if err != nil || added.ContactID != 77 || !added.Syncing || f.activity().added.Client != "Tailspin" {
		t.Errorf("AddContact = %+v, %v", added, err)
	}
	_, err = c.AddContact(ctx, NewContact{Address: "olivia@tailspin.example"})
	var ce *ClientChoiceError
	if !errors.As(err, &ce) || ce.Words != "choose the client" || !reflect.DeepEqual(ce.Candidates, []ClientChoice{{ID: 4, Name: "Tailspin Toys"}, {ID: 6, Name: "Tailwind"}}) {
		t.Errorf("AddContact without a client = %#v", err)
	}
	_, err = c.AddContact(ctx, NewContact{Address: "olivia@tailspin.example", Client: "none"})
	if !errors.As(err, &ce) || ce.Candidates == nil || len(ce.Candidates) != 0 {
		t.Errorf("AddContact with none suggested = %#v, want a choice error with no candidates", err)
	}
	if e, err := c.BlockAddress(ctx, "x@domain.example", true); err != nil || e != "@domain.example" {
		t.Errorf("BlockAddress = %q, %v", e, err)
	}
	// Keys are Message-IDs: any character, a slash too.
	key := "<a/b?c#d%20@x.example>"
	if err := c.CopyAnyway(ctx, key); err != nil || f.activity().copied != key {
		t.Errorf("CopyAnyway sent %q, %v; want %q", f.activity().copied, err, key)
	}
	f.mu.Lock()
	f.failWith = "Activity no longer lists this email."
	f.mu.Unlock()
	if err := c.CopyAnyway(ctx, key); err == nil || err.Error() != "Activity no longer lists this email." {
		t.Errorf("CopyAnyway's error = %v, want the agent's words", err)
	}
}
