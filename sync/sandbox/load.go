package sandbox

import (
	"iter"
	"slices"

	"mailsync/sync/crm"
	"mailsync/sync/crmtest"
	"mailsync/sync/graphtest"
)

// Load puts the world into the fakes: the user, folders (parents first, as
// listed) and messages into g; the sign-in, clients and contacts into c.
// The Late contacts are left out; AddLate adds one. Either fake may be nil
// to load only the other. Load panics if a fake assigns other ids than the
// world's (a broken fixture: the labels name client ids).
func (w *World) Load(g *graphtest.Graph, c *crmtest.CRM) {
	if g != nil {
		g.SetMe(w.Me)
		for _, f := range w.Folders {
			g.AddFolder(f)
		}
		LoadItems(g, slices.Values(w.Messages))
	}
	if c != nil {
		c.AddUser(w.CRMUser, w.CRMPassword)
		for _, cl := range w.Clients {
			if got := c.AddClient(cl); got.ID != cl.ID {
				panic("sandbox: fake CRM renumbered client " + cl.Name)
			}
		}
		for _, ct := range w.Contacts {
			c.AddContact(ct)
		}
	}
}

// LoadItems adds messages to g one at a time, for generated mailboxes
// streamed from Options.Items. The folders must be loaded already.
func LoadItems(g *graphtest.Graph, items iter.Seq[Item]) {
	for it := range items {
		g.AddMessage(it.Msg, it.Body)
		if it.BodyStatus != 0 {
			g.PoisonMessage(it.Msg.ID, it.BodyStatus)
		}
	}
}

// AddLate adds a Late contact to the fake ClientSuccess, as a person would
// after the message arrived, and returns it.
func (w *World) AddLate(c *crmtest.CRM, l Late) crm.Contact {
	ct := c.AddContact(l.Contact)
	w.Contacts = append(w.Contacts, ct)
	return ct
}
