package settings

import (
	"context"
	"strings"

	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
)

// Activity filters the fake's decisions as the agent does: by outcome,
// then by text in the row, outcome words included.
func (f *fakeAgent) Activity(_ context.Context, q agentapi.ActivityQuery) ([]agentapi.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q.Text)
	f.shows = append(f.shows, q.Show)
	text := strings.ToLower(q.Text)
	out := []agentapi.Decision{}
	for _, d := range f.decisions {
		if q.Show == agentapi.ShowCopied && !d.Synced || q.Show == agentapi.ShowSkipped && d.Synced {
			continue
		}
		hay := strings.ToLower(d.Subject + "\x00" + d.Counterpart + "\x00" + strings.Join(d.Clients, "\x00") + "\x00" + d.Reason + "\x00" + agent.Outcome(d))
		if strings.Contains(hay, text) {
			out = append(out, d)
		}
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (f *fakeAgent) SuggestContact(_ context.Context, address string) (agentapi.ContactSuggestion, error) {
	f.record("SuggestContact")
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.suggestion
	s.Address = address
	return s, nil
}

func (f *fakeAgent) AddContact(_ context.Context, c agentapi.NewContact) (agentapi.AddedContact, error) {
	f.record("AddContact")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added = append(f.added, c)
	name := ""
	for _, cl := range f.suggestion.Clients {
		if cl.ID == c.ClientID {
			name = cl.Name
		}
	}
	return agentapi.AddedContact{ContactID: 99, ClientID: c.ClientID, Client: name, Syncing: true}, nil
}

func (f *fakeAgent) BlockAddress(_ context.Context, address string, wholeDomain bool) (string, error) {
	f.record("BlockAddress")
	f.mu.Lock()
	defer f.mu.Unlock()
	if wholeDomain {
		_, d, _ := strings.Cut(address, "@")
		address = "@" + d
	}
	f.blocked = append(f.blocked, address)
	return address, nil
}

func (f *fakeAgent) CopyAnyway(_ context.Context, key string) error {
	f.record("CopyAnyway")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.copied = append(f.copied, key)
	return nil
}
