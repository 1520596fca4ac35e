// Package sandbox builds the seeded worlds Mail Sync runs against when it
// is not talking to Microsoft 365 and ClientSuccess: a mailbox, a user and a
// ClientSuccess account, each message labelled with where it must land.
//
// Demo is the hand-written mailbox of the end-to-end tests and of
// `mailsync demo`: one message per rule and edge, with realistic names and a
// German (localized) folder tree. Generate builds large synthetic mailboxes
// for the benchmark. Load puts a world into the fakes of sync/graphtest and
// sync/crmtest.
//
// The labels (Item.Expect, Item.Why) are written by hand from the product's
// rules, not computed by sync/match: they are the independent truth the
// engine's results are checked against. They hold for Settings() and a first
// pass after connecting at the world's Now.
package sandbox

import (
	"iter"
	"slices"
	"time"

	"mailsync/sync/crm"
	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/match"
)

// Tenant is the sandbox's Microsoft 365 tenant name.
const Tenant = "contoso-sandbox"

// BlockedEntry is the blocklist entry the labels assume: the tests and the
// demo must set it (Settings does).
const BlockedEntry = "@blocked.example"

// The sandbox ClientSuccess sign-in.
const (
	CRMUser     = "alex.morgan@contoso.example"
	CRMPassword = "sandbox-demo-password"
)

// Settings returns the settings the labels assume: the defaults of a new
// installation plus BlockedEntry on the blocklist.
func Settings() match.Settings {
	s := match.DefaultSettings()
	s.Blocklist = []string{BlockedEntry}
	return s
}

// Item is one message of a world and where it must land.
type Item struct {
	Msg  graph.Message
	Body string
	// Expect holds the client ids the message must land on, sorted; empty
	// means it must not be uploaded.
	Expect []int64
	// Why is the label: the case this message stands for, e.g.
	// "contact in Cc" or "user only in Bcc".
	Why string
	// Older holds, for a message older than the window (WhyOld), the
	// client ids it lands on once a backfill reaches back to it, sorted.
	Older []int64
	// BodyStatus, when not 0, is the status every read of the message's
	// body gets (graphtest.Graph.PoisonMessage).
	BodyStatus int
}

// Late is a contact a world leaves out of ClientSuccess, with the message
// that involves it: the 24 h edge tests add the contact After the message
// was received and run a pass. Rule 1 says the message is then caught when
// After is under 24 hours and not when it is over.
type Late struct {
	Contact   crm.Contact
	MessageID string // internetMessageId of the message
	Received  time.Time
	After     time.Duration
	// Expect is the client the message lands on once the contact is added
	// in time; empty when After is over 24 hours.
	Expect []int64
	// Older are the internetMessageIds of the contact's mail from days
	// before MessageID (labelled WhyOld): with the history option
	// (match.Settings.HistoryDays) they land on the contact's client too
	// once the contact is added.
	Older []string
}

// World is a seeded mailbox and ClientSuccess account.
type World struct {
	Now      time.Time
	Me       graph.Me
	Folders  []graphtest.Folder
	Messages []Item
	Clients  []crm.Client
	Contacts []crm.Contact
	Late     []Late
	// CRMUser and CRMPassword sign in to the fake ClientSuccess.
	CRMUser, CRMPassword string
}

// Expected returns, per client id, the sorted distinct internetMessageIds
// that must land on it, from the labels alone. A message in two folders
// counts once.
func (w *World) Expected() map[int64][]string {
	return expectedOf(slices.Values(w.Messages), nil)
}

// ExpectedAfterLate is Expected plus the Late messages whose contact is
// added in time (After under 24 hours).
func (w *World) ExpectedAfterLate() map[int64][]string {
	return expectedOf(slices.Values(w.Messages), w.Late)
}

// ExpectedAfterBackfill is Expected plus the older messages (Item.Older)
// received at or after from: what has landed after a backfill back to
// from.
func (w *World) ExpectedAfterBackfill(from time.Time) map[int64][]string {
	out := w.Expected()
	for _, it := range w.Messages {
		if it.Msg.ReceivedDateTime.Before(from) {
			continue
		}
		for _, c := range it.Older {
			out[c] = append(out[c], it.Msg.InternetMessageID)
		}
	}
	return sortIDs(out)
}

// ExpectedFrom is Expected for a stream of items (see Options.Items).
func ExpectedFrom(items iter.Seq[Item]) map[int64][]string {
	return expectedOf(items, nil)
}

func expectedOf(items iter.Seq[Item], late []Late) map[int64][]string {
	out := map[int64][]string{}
	for it := range items {
		for _, c := range it.Expect {
			out[c] = append(out[c], it.Msg.InternetMessageID)
		}
	}
	for _, l := range late {
		for _, c := range l.Expect {
			out[c] = append(out[c], l.MessageID)
		}
	}
	return sortIDs(out)
}

func sortIDs(out map[int64][]string) map[int64][]string {
	for c, ids := range out {
		slices.Sort(ids)
		out[c] = slices.Compact(ids)
	}
	return out
}

// CountWhy returns how many items carry each label.
func (w *World) CountWhy() map[string]int {
	n := map[string]int{}
	for _, it := range w.Messages {
		n[it.Why]++
	}
	return n
}

// Item returns the first item with the internetMessageId, and whether there
// is one.
func (w *World) Item(internetMessageID string) (Item, bool) {
	for _, it := range w.Messages {
		if it.Msg.InternetMessageID == internetMessageID {
			return it, true
		}
	}
	return Item{}, false
}

// Folder ids of the sandbox mailbox. The ids are stable so that tests can
// name folders; what matters to the rules is the well-known name.
const (
	FolderInbox          = "AQMkSbx-inbox"
	FolderInboxClients   = "AQMkSbx-inbox-clients"
	FolderArchive        = "AQMkSbx-archive"
	FolderArchiveYear    = "AQMkSbx-archive-2026"
	FolderSent           = "AQMkSbx-sentitems"
	FolderDrafts         = "AQMkSbx-drafts"
	FolderJunk           = "AQMkSbx-junkemail"
	FolderDeleted        = "AQMkSbx-deleteditems"
	FolderOutbox         = "AQMkSbx-outbox"
	FolderConvHistory    = "AQMkSbx-conversationhistory"
	FolderClutter        = "AQMkSbx-clutter"
	FolderSyncIssues     = "AQMkSbx-syncissues"
	FolderConflicts      = "AQMkSbx-conflicts"
	FolderLocalFailures  = "AQMkSbx-localfailures"
	FolderServerFailures = "AQMkSbx-serverfailures"
	FolderRSS            = "AQMkSbx-rss"
)

// folderTree returns the mailbox's folders, with German display names when
// german is set (as a German Outlook shows them) and English otherwise.
func folderTree(german bool) []graphtest.Folder {
	name := func(de, en string) string {
		if german {
			return de
		}
		return en
	}
	return []graphtest.Folder{
		{ID: FolderInbox, DisplayName: name("Posteingang", "Inbox"), WellKnownName: "inbox"},
		{ID: FolderInboxClients, ParentID: FolderInbox, DisplayName: name("Kunden", "Clients")},
		{ID: FolderArchive, DisplayName: name("Archiv", "Archive"), WellKnownName: "archive"},
		{ID: FolderArchiveYear, ParentID: FolderArchive, DisplayName: "2026"},
		{ID: FolderSent, DisplayName: name("Gesendete Elemente", "Sent Items"), WellKnownName: "sentitems"},
		{ID: FolderDrafts, DisplayName: name("Entwürfe", "Drafts"), WellKnownName: "drafts"},
		{ID: FolderJunk, DisplayName: name("Junk-E-Mail", "Junk Email"), WellKnownName: "junkemail"},
		{ID: FolderDeleted, DisplayName: name("Gelöschte Elemente", "Deleted Items"), WellKnownName: "deleteditems"},
		{ID: FolderOutbox, DisplayName: name("Postausgang", "Outbox"), WellKnownName: "outbox"},
		{ID: FolderConvHistory, DisplayName: name("Unterhaltungsverlauf", "Conversation History"), WellKnownName: "conversationhistory"},
		{ID: FolderClutter, DisplayName: "Clutter", WellKnownName: "clutter"},
		{ID: FolderSyncIssues, DisplayName: name("Synchronisierungsprobleme", "Sync Issues"), WellKnownName: "syncissues"},
		{ID: FolderConflicts, ParentID: FolderSyncIssues, DisplayName: name("Konflikte", "Conflicts"), WellKnownName: "conflicts"},
		{ID: FolderLocalFailures, ParentID: FolderSyncIssues, DisplayName: name("Lokale Fehler", "Local Failures"), WellKnownName: "localfailures"},
		{ID: FolderServerFailures, ParentID: FolderSyncIssues, DisplayName: name("Serverfehler", "Server Failures"), WellKnownName: "serverfailures"},
		// RSS feeds have no well-known name; their items are told apart by
		// message class (IPM.Post.RSS).
		{ID: FolderRSS, DisplayName: name("RSS-Feeds", "RSS Feeds")},
	}
}

// sandboxMe is the sandbox user: the UPN differs from the primary address in
// case, and an alias is only in proxyAddresses.
func sandboxMe() graph.Me {
	return graph.Me{
		ID:                "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
		DisplayName:       "Alex Morgan",
		Mail:              "alex.morgan@contoso.example",
		UserPrincipalName: "Alex.Morgan@Contoso.example",
		ProxyAddresses: []string{
			"SMTP:alex.morgan@contoso.example",
			"smtp:alex@contoso.example",
			"X500:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=alex.morgan",
		},
	}
}

// who is a person in the sandbox: a display name and an address.
type who struct{ name, addr string }

func (p who) rcpt() graph.Recipient {
	return graph.Recipient{EmailAddress: graph.EmailAddress{Name: p.name, Address: p.addr}}
}

func (p who) ptr() *graph.Recipient { r := p.rcpt(); return &r }

func rcpts(ps ...who) []graph.Recipient {
	out := make([]graph.Recipient, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.rcpt())
	}
	return out
}

// classProp is the message class as Graph returns it in
// singleValueExtendedProperties (with the normalised id), next to Outlook's
// sensitivity "normal".
func classProp(class string) []graph.ExtendedProperty {
	return props(class, "0")
}

// props is a message class and a sensitivity (PR_SENSITIVITY, "0" normal
// to "3" confidential) as Graph returns them; an empty one is left out.
func props(class, sensitivity string) []graph.ExtendedProperty {
	var out []graph.ExtendedProperty
	if class != "" {
		out = append(out, graph.ExtendedProperty{ID: "String 0x1a", Value: class})
	}
	if sensitivity != "" {
		out = append(out, graph.ExtendedProperty{ID: "Integer 0x36", Value: sensitivity})
	}
	return out
}
