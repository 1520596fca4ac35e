package agent

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"mailsync/storage"
	"mailsync/sync/agentapi"
	"mailsync/sync/crm"
	"mailsync/sync/match"
)

// Add as contact: for an email skipped because nobody in it is a
// ClientSuccess contact, the person adds one of its outside addresses to a
// client; the contact goes into the local directory at once and a pass
// copies that address's emails still inside the window.

// SuggestContact implements agentapi.API: the names the address's emails
// give it, the clients its domain suggests and every client.
func (a *Agent) SuggestContact(ctx context.Context, address string) (agentapi.ContactSuggestion, error) {
	addr, ok := match.NormalizeAddress(address)
	if !ok {
		return agentapi.ContactSuggestion{}, errNotAnAddress(address)
	}
	api, err := a.contactsCRM(ctx)
	if err != nil {
		return agentapi.ContactSuggestion{}, err
	}
	all, err := api.Clients(ctx)
	if err != nil {
		return agentapi.ContactSuggestion{}, problem(Words(err), err)
	}
	suggested, err := a.suggestedClients(addr, all)
	if err != nil {
		return agentapi.ContactSuggestion{}, err
	}
	s := agentapi.ContactSuggestion{Address: addr, Suggested: suggested, Clients: make([]agentapi.ClientChoice, 0, len(all))}
	s.FirstName, s.LastName = splitName(a.displayName(addr))
	for _, c := range all {
		s.Clients = append(s.Clients, agentapi.ClientChoice{ID: c.ID, Name: c.Name})
	}
	slices.SortFunc(s.Clients, func(x, y agentapi.ClientChoice) int {
		return cmp.Or(cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)), cmp.Compare(x.ID, y.ID))
	})
	return s, nil
}

// suggestedClients are the clients with contacts in addr's domain, most
// contacts first, named from all (a client ClientSuccess no longer lists
// is left out).
func (a *Agent) suggestedClients(addr string, all []crm.Client) ([]agentapi.ClientChoice, error) {
	_, domain, _ := strings.Cut(addr, "@")
	cs, err := a.store.DirectoryContactsInDomain(domain)
	if err != nil {
		return nil, problem(wordsStateUnreadable, err)
	}
	count := map[int64]int{}
	for _, c := range cs {
		if c.ClientID != 0 {
			count[c.ClientID]++
		}
	}
	out := []agentapi.ClientChoice{}
	for _, c := range all {
		if n := count[c.ID]; n > 0 {
			out = append(out, agentapi.ClientChoice{ID: c.ID, Name: c.Name, Contacts: n})
		}
	}
	slices.SortFunc(out, func(x, y agentapi.ClientChoice) int {
		return cmp.Or(cmp.Compare(y.Contacts, x.Contacts), cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)))
	})
	return out, nil
}

// displayName is the display name the newest recorded email gives addr,
// or "".
func (a *Agent) displayName(addr string) string {
	ds, err := a.eng.Decisions("", 0)
	if err != nil {
		return ""
	}
	for _, d := range ds {
		for _, p := range d.Participants {
			if p.Address == addr && p.Name != "" && !strings.EqualFold(p.Name, addr) {
				return p.Name
			}
		}
	}
	return ""
}

// splitName splits a display name into first and last name: "Olivia
// Brown", "Brown, Olivia"; one word is a first name. Quotes and a part in
// parentheses ("Olivia Brown (Tailspin)") are left out.
func splitName(name string) (first, last string) {
	name = strings.Trim(strings.TrimSpace(name), `"'`)
	if i := strings.IndexByte(name, '('); i > 0 {
		name = strings.TrimSpace(name[:i])
	}
	if strings.Contains(name, "@") {
		return "", ""
	}
	if l, f, ok := strings.Cut(name, ","); ok {
		return strings.TrimSpace(f), strings.TrimSpace(l)
	}
	fields := strings.Fields(name)
	switch len(fields) {
	case 0:
		return "", ""
	case 1:
		return fields[0], ""
	}
	return strings.Join(fields[:len(fields)-1], " "), fields[len(fields)-1]
}

// AddContact implements agentapi.API. Without names, those the address's
// emails give it are used. The address is looked up in
// ClientSuccess first: a contact the client already has is not created
// again (the service is not known to refuse a duplicate). When
// ClientSuccess does not confirm the create, the address is looked up
// again rather than posted twice.
func (a *Agent) AddContact(ctx context.Context, in agentapi.NewContact) (agentapi.AddedContact, error) {
	// An op of the loop: one at a time with the other commands that reach
	// the services, and never across a change of account.
	var out agentapi.AddedContact
	err := a.runOp(ctx, op{run: func(ctx context.Context) (err error) {
		out, err = a.addContact(ctx, in)
		return err
	}})
	if err != nil {
		return agentapi.AddedContact{}, err
	}
	out.Syncing = a.passAfterNow(ctx)
	return out, nil
}

// addContact is AddContact's work, on the op's goroutine.
func (a *Agent) addContact(ctx context.Context, in agentapi.NewContact) (agentapi.AddedContact, error) {
	addr, ok := match.NormalizeAddress(in.Address)
	if !ok {
		return agentapi.AddedContact{}, errNotAnAddress(in.Address)
	}
	api, err := a.contactsCRM(ctx)
	if err != nil {
		return agentapi.AddedContact{}, err
	}
	all, err := api.Clients(ctx)
	if err != nil {
		return agentapi.AddedContact{}, problem(Words(err), err)
	}
	client, err := a.chooseClient(addr, in, all)
	if err != nil {
		return agentapi.AddedContact{}, err
	}
	out := agentapi.AddedContact{ClientID: client.ID, Client: client.Name}
	have, err := api.FindContacts(ctx, addr)
	if err != nil {
		return agentapi.AddedContact{}, problem(Words(err), err)
	}
	if c, ok := inClient(have, client.ID); ok {
		out.ContactID, out.Existed = c.ID, true
	} else {
		first, last := strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
		if first == "" && last == "" {
			// None given: the names its emails give it.
			first, last = splitName(a.displayName(addr))
		}
		c, err := api.CreateContact(ctx, client.ID, crm.Contact{Email: addr, FirstName: first, LastName: last})
		if err != nil && crm.IsAmbiguous(err) {
			// Posted, but not confirmed: look before anything else.
			if again, lerr := api.FindContacts(ctx, addr); lerr == nil {
				c, ok = inClient(again, client.ID)
				if ok {
					err = nil
				}
			}
			if err != nil {
				return agentapi.AddedContact{}, problem(wordsContactUnconfirmed(addr, client.Name), err)
			}
		}
		if err != nil {
			return agentapi.AddedContact{}, problem(wordsContactNotCreated(addr, client.Name, Words(err)), err)
		}
		out.ContactID = c.ID
	}
	// In the directory now, so that the pass below matches it whatever
	// the contact search says yet.
	if err := a.store.AddDirectoryContact(storage.DirectoryContact{ID: out.ContactID, ClientID: client.ID, Email: addr}, a.now()); err != nil {
		return agentapi.AddedContact{}, problem(wordsStateUnwritable, err)
	}
	return out, nil
}

// inClient returns the contact of cs that belongs to client.
func inClient(cs []crm.Contact, client int64) (crm.Contact, bool) {
	i := slices.IndexFunc(cs, func(c crm.Contact) bool { return c.ClientID == client })
	if i < 0 {
		return crm.Contact{}, false
	}
	return cs[i], true
}

// chooseClient is the client in names, else the one the domain suggests;
// none or several suggested is a *agentapi.ClientChoiceError.
func (a *Agent) chooseClient(addr string, in agentapi.NewContact, all []crm.Client) (crm.Client, error) {
	if in.ClientID != 0 {
		if i := slices.IndexFunc(all, func(c crm.Client) bool { return c.ID == in.ClientID }); i >= 0 {
			return all[i], nil
		}
		return crm.Client{}, problem(wordsNoSuchClient(strconv.FormatInt(in.ClientID, 10)), nil)
	}
	if name := strings.TrimSpace(in.Client); name != "" {
		return clientNamed(name, all)
	}
	suggested, err := a.suggestedClients(addr, all)
	if err != nil {
		return crm.Client{}, err
	}
	if len(suggested) == 1 {
		return crm.Client{ID: suggested[0].ID, Name: suggested[0].Name}, nil
	}
	return crm.Client{}, &agentapi.ClientChoiceError{Words: wordsChooseClient(addr, len(suggested)), Candidates: suggested}
}

// clientNamed finds a client by id, by its name (any case), or by the one
// name that contains name.
func clientNamed(name string, all []crm.Client) (crm.Client, error) {
	if id, err := strconv.ParseInt(name, 10, 64); err == nil {
		if i := slices.IndexFunc(all, func(c crm.Client) bool { return c.ID == id }); i >= 0 {
			return all[i], nil
		}
	}
	if i := slices.IndexFunc(all, func(c crm.Client) bool { return strings.EqualFold(c.Name, name) }); i >= 0 {
		return all[i], nil
	}
	var found []agentapi.ClientChoice
	var last crm.Client
	for _, c := range all {
		if strings.Contains(strings.ToLower(c.Name), strings.ToLower(name)) {
			found = append(found, agentapi.ClientChoice{ID: c.ID, Name: c.Name})
			last = c
		}
	}
	switch len(found) {
	case 1:
		return last, nil
	case 0:
		return crm.Client{}, problem(wordsNoSuchClient(name), nil)
	}
	return crm.Client{}, &agentapi.ClientChoiceError{Words: wordsSeveralClients(name), Candidates: found}
}

// contactsCRM is the ClientSuccess client of the account signed in.
func (a *Agent) contactsCRM(ctx context.Context) (*crm.API, error) {
	m, err := a.meta(ctx)
	if err != nil {
		return nil, err
	}
	if m.CRMUser == "" {
		return nil, ErrCRMSignedOut
	}
	return a.crmClient(ctx, m.CRMUser)
}

// errNotAnAddress is the answer to an address that is not one.
func errNotAnAddress(s string) error {
	return problem(wordsNotAnAddress(s), errors.New("agent: not an address"))
}
