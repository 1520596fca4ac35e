package agentapitest

import (
	"context"
	"slices"
	"strings"

	"mailsync/sync/agentapi"
	"mailsync/sync/match"
)

// Activity answers the decisions as the agent does: by outcome (Show),
// then those whose subject, counterpart, clients, reason or outcome words
// contain the text, at most Limit when Limit > 0.
func (f *Fake) Activity(ctx context.Context, q agentapi.ActivityQuery) ([]agentapi.Decision, error) {
	defer f.done("Activity")
	f.mu.Lock()
	f.st.Queries = append(f.st.Queries, Query{Text: q.Text, Limit: q.Limit})
	f.st.Shows = append(f.st.Shows, q.Show)
	f.mu.Unlock()
	if err := f.call(ctx, "Activity"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	text := strings.ToLower(q.Text)
	out := []agentapi.Decision{}
	for _, d := range f.st.Decisions {
		if q.Show == agentapi.ShowCopied && !d.Synced || q.Show == agentapi.ShowSkipped && d.Synced {
			continue
		}
		hay := strings.ToLower(d.Subject + "\x00" + d.Counterpart + "\x00" + strings.Join(d.Clients, "\x00") + "\x00" + d.Reason + "\x00" + d.Result())
		if strings.Contains(hay, text) {
			out = append(out, d)
		}
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// SuggestContact answers State.Suggestion for the address.
func (f *Fake) SuggestContact(ctx context.Context, address string) (agentapi.ContactSuggestion, error) {
	defer f.done("SuggestContact")
	if err := f.call(ctx, "SuggestContact"); err != nil {
		return agentapi.ContactSuggestion{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.st.Suggestion
	s.Address = address
	return s, nil
}

// AddContact records the contact and answers with the client it names,
// or, named none, the one suggested; none or several suggested is a
// *agentapi.ClientChoiceError, as from the agent.
func (f *Fake) AddContact(ctx context.Context, c agentapi.NewContact) (agentapi.AddedContact, error) {
	defer f.done("AddContact")
	if err := f.call(ctx, "AddContact"); err != nil {
		return agentapi.AddedContact{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Added = append(f.st.Added, c)
	id := c.ClientID
	if id == 0 && c.Client == "" {
		if len(f.st.Suggestion.Suggested) != 1 {
			return agentapi.AddedContact{}, &agentapi.ClientChoiceError{Words: "Choose the client it belongs to.",
				Candidates: slices.Clone(f.st.Suggestion.Suggested)}
		}
		id = f.st.Suggestion.Suggested[0].ID
	}
	out := agentapi.AddedContact{ContactID: 1, ClientID: id, Syncing: true}
	for _, cl := range f.st.Suggestion.Clients {
		if cl.ID == id || strings.EqualFold(cl.Name, c.Client) {
			out.ClientID, out.Client = cl.ID, cl.Name
		}
	}
	return out, nil
}

// BlockAddress records and answers the entry (match.BlockFor).
func (f *Fake) BlockAddress(ctx context.Context, address string, wholeDomain bool) (string, error) {
	defer f.done("BlockAddress")
	if err := f.call(ctx, "BlockAddress"); err != nil {
		return "", err
	}
	e, _ := match.BlockFor(address, wholeDomain)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Blocked = append(f.st.Blocked, e)
	return e, nil
}

// CopyAnyway records the key.
func (f *Fake) CopyAnyway(ctx context.Context, key string) error {
	defer f.done("CopyAnyway")
	if err := f.call(ctx, "CopyAnyway"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Copied = append(f.st.Copied, key)
	return nil
}
