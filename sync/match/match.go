// Package match decides, for one message, whether Mail Sync copies it to
// ClientSuccess and onto which clients: rules 1–3 of the product (window,
// participants, where the message lives) plus the person's settings
// (internal mail, blocklist, category Private).
//
// Everything here is a pure function of its inputs: no I/O, no clock. The
// engine gathers the inputs (who the user is, the excluded folder ids, the
// window start, contact look-ups) and records the Decision.
//
// Decide applies the checks in this order; the first that fails is the
// reason given:
//
//  1. older than the window: receivedDateTime before Input.WindowStart
//     (a message received exactly at WindowStart is taken);
//  2. draft: isDraft, or the message sits in the Drafts folder;
//  3. excluded folder: Junk, Conversation History, Clutter, Outbox, Sync
//     Issues and its children, or any other id the engine excluded;
//  4. not an email: a message class (PR_MESSAGE_CLASS) present and not
//     IPM.Note or IPM.Note.* (Microsoft Teams chat items, which
//     /me/messages lists too, carry IPM.SkypeTeams.Message);
//  5. marked private (Settings.SkipPrivate): Outlook's sensitivity private
//     or confidential (the reason says which), or an Outlook category named
//     Settings.PrivateCategory;
//  6. participation: the user must be in From, To or Cc; otherwise "you are
//     only in Bcc" when the user is in Bcc, else "you are not a participant";
//  7. blocked address: any From/To/Cc address on the blocklist;
//  8. internal only: Settings.IgnoreInternal and every From/To/Cc address is
//     the user's or in one of the user's domains;
//  9. contacts: the From/To/Cc addresses other than the user's that are
//     ClientSuccess contacts, grouped by client; none gives "no
//     ClientSuccess contact";
//  10. unknown: a message that would be taken but whose class the mail
//     service did not give (ClassUnknown), or, with Settings.SkipPrivate,
//     whose sensitivity it did not give (SensitivityUnknown), is not
//     taken: a missing fact never counts as "mail" or "not private".
//     Decision.Wanted then holds the clients it would go to, so that the
//     engine can ask for the missing facts and decide again.
//
// Participants are From, To and Cc only. The Graph `sender` field (who
// pressed Send on behalf of From, e.g. an assistant or a shared mailbox) is
// not a participant, and Bcc never makes anyone one.
//
// The rules read their own Message type, not the Graph wire type, so that
// they import no HTTP client; the engine fills it from what Graph returned.
package match

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Reason says, in words a person understands, why a message was not taken.
// The values are shown in the Activity list and counted by the CLI summary.
type Reason string

// The reasons a message is skipped. Non-mail items carry their kind in a
// parenthesis; see NotEmail.
const (
	TooOld         Reason = "older than the window"
	DraftsFolder   Reason = "draft"
	JunkFolder     Reason = "junk folder"
	ConvHistory    Reason = "conversation history"
	ClutterFolder  Reason = "clutter folder"
	OutboxFolder   Reason = "outbox"
	SyncIssues     Reason = "sync issues"
	ExcludedFolder Reason = "excluded folder"
	Private        Reason = "marked Private"
	// SensitivityPrivate and SensitivityConfidential are messages the
	// sender or the user marked so in Outlook's Sensitivity.
	SensitivityPrivate      Reason = "marked private in Outlook"
	SensitivityConfidential Reason = "marked confidential in Outlook"
	OnlyBcc                 Reason = "you are only in Bcc"
	NotParticipant          Reason = "you are not a participant"
	Blocked                 Reason = "blocked address"
	Internal                Reason = "internal only"
	NoContact               Reason = "no ClientSuccess contact"
	// ClassUnknown and SensitivityUnknown are messages the mail service
	// listed without their class or their sensitivity, even when asked
	// for each alone: they are never taken on a guess.
	ClassUnknown       Reason = "Microsoft 365 did not say what kind of item it is"
	SensitivityUnknown Reason = "Microsoft 365 did not say whether this is private"
)

// NotEmail returns the reason for an item whose message class is not mail,
// e.g. "not an email (meeting request)" for IPM.Schedule.Meeting.Request.
func NotEmail(class string) Reason {
	return Reason("not an email (" + itemKind(class) + ")")
}

// itemKind names the kind of a non-mail message class.
func itemKind(class string) string {
	c := strings.ToLower(strings.TrimSpace(class))
	switch {
	case c == "ipm.schedule.meeting.request":
		return "meeting request"
	case c == "ipm.schedule.meeting.canceled":
		return "meeting cancellation"
	case strings.HasPrefix(c, "ipm.schedule.meeting.resp."):
		return "meeting response"
	case strings.HasPrefix(c, "ipm.schedule.") || strings.HasPrefix(c, "ipm.appointment"):
		return "calendar item"
	case strings.HasPrefix(c, "ipm.task"):
		return "task"
	case c == "ipm.stickynote":
		return "note"
	case c == "ipm.contact" || c == "ipm.distlist":
		return "contact"
	case strings.HasPrefix(c, "ipm.activity"):
		return "journal"
	case strings.HasPrefix(c, "ipm.post.rss"):
		return "RSS item"
	case strings.HasPrefix(c, "ipm.skypeteams."):
		return "Teams chat"
	case strings.HasPrefix(c, "report."):
		return "delivery report"
	}
	return "other item"
}

// IsMailClass reports whether a message class is mail: IPM.Note or one of
// its subclasses (IPM.Note.SMIME, …), compared case-insensitively. An empty
// class is not mail: it is unknown (see ClassUnknown).
func IsMailClass(class string) bool {
	c := strings.TrimSpace(class)
	const note = "ipm.note"
	if len(c) < len(note) || !strings.EqualFold(c[:len(note)], note) {
		return false
	}
	return len(c) == len(note) || c[len(note)] == '.'
}

// FolderKind is the well-known name of an excluded folder
// ("junkemail", "drafts", …); the empty kind is an excluded folder whose
// kind the engine did not record.
type FolderKind string

// The well-known folders rule 3 excludes. Conflicts, LocalFailures and
// ServerFailures are the children of Sync Issues.
const (
	KindJunk                FolderKind = "junkemail"
	KindDrafts              FolderKind = "drafts"
	KindConversationHistory FolderKind = "conversationhistory"
	KindClutter             FolderKind = "clutter"
	KindOutbox              FolderKind = "outbox"
	KindSyncIssues          FolderKind = "syncissues"
	KindConflicts           FolderKind = "conflicts"
	KindLocalFailures       FolderKind = "localfailures"
	KindServerFailures      FolderKind = "serverfailures"
)

// reason is the skip reason for a message in a folder of this kind.
func (k FolderKind) reason() Reason {
	switch k {
	case KindJunk:
		return JunkFolder
	case KindDrafts:
		return DraftsFolder
	case KindConversationHistory:
		return ConvHistory
	case KindClutter:
		return ClutterFolder
	case KindOutbox:
		return OutboxFolder
	case KindSyncIssues, KindConflicts, KindLocalFailures, KindServerFailures:
		return SyncIssues
	}
	return ExcludedFolder
}

// Folders are the folders whose messages are never taken, by Graph folder
// id. The kind only chooses the words of the reason; an id with an empty
// kind is still excluded.
type Folders struct {
	ByID map[string]FolderKind
}

// Kind reports whether the folder id is excluded, and its kind.
func (f Folders) Kind(id string) (FolderKind, bool) {
	if id == "" {
		return "", false
	}
	k, ok := f.ByID[id]
	return k, ok
}

// Address is one participant of a message: a display name and an address
// as the mail service gave them (not yet normalised).
type Address struct {
	Name    string
	Address string
}

// Message is what the rules read of one message. Who pressed Send on
// behalf of From (Graph's `sender`) is deliberately absent: it never makes
// anyone a participant.
type Message struct {
	From        *Address // nil when the message has no From
	To, Cc, Bcc []Address
	Received    time.Time // receivedDateTime: the window goes by it
	FolderID    string    // the id of the folder the message sits in
	IsDraft     bool
	// Class is the message class (PR_MESSAGE_CLASS), "" when the mail
	// service did not return it: unknown, never taken as mail.
	Class      string
	Categories []string // Outlook categories, as named by the user
	// Sensitivity is Outlook's sensitivity: "normal", "personal",
	// "private" or "confidential" (any case); "" (or anything else) when
	// not known, which with Settings.SkipPrivate is never taken.
	Sensitivity string
	// Lifted are the rules the person lifted for this one message ("Copy
	// this one anyway"). Only the person's own choices can be lifted (see
	// Liftable); any other reason here is ignored.
	Lifted []Reason
}

// Liftable reports whether r is a rule the person chose, which they may
// lift for one message: internal only, a blocked address, marked private
// (category or Outlook's sensitivity). Where a message lives, what kind of
// item it is, Bcc and a fact Microsoft 365 did not give are never lifted.
func Liftable(r Reason) bool {
	switch r {
	case Internal, Blocked, Private, SensitivityPrivate, SensitivityConfidential:
		return true
	}
	return false
}

// lifted reports whether the person lifted r for m.
func (m *Message) lifted(r Reason) bool {
	return Liftable(r) && slices.Contains(m.Lifted, r)
}

// Me is the mailbox owner as matching sees it: every address that is the
// user (normalised) and the domains of those addresses.
type Me struct {
	Addresses map[string]bool
	Domains   map[string]bool
}

// NewMe builds Me from every address of the mailbox owner: primary
// address, user principal name and aliases (SMTP proxy addresses, without
// their "smtp:" prefix). The user's own domains are the domains of those
// addresses. Entries that are not an address are ignored.
func NewMe(addresses []string) Me {
	me := Me{Addresses: map[string]bool{}, Domains: map[string]bool{}}
	for _, a := range addresses {
		if n, ok := NormalizeAddress(a); ok {
			me.Addresses[n] = true
			me.Domains[domainOf(n)] = true
		}
	}
	return me
}

// Is reports whether a normalised address is the user.
func (me Me) Is(addr string) bool { return me.Addresses[addr] }

// Internal reports whether a normalised address is the user or in one of
// the user's domains.
func (me Me) Internal(addr string) bool {
	return me.Addresses[addr] || me.Domains[domainOf(addr)]
}

// Contact is a ClientSuccess contact as matching needs it.
type Contact struct {
	ID       int64
	ClientID int64
	Email    string
}

// Input is everything one decision depends on.
type Input struct {
	Msg      *Message
	Me       Me
	Excluded Folders
	// WindowStart is the oldest receivedDateTime still taken (rule 1).
	WindowStart time.Time
	Settings    Settings
	// Contacts returns the ClientSuccess contacts with a normalised
	// address; nil means no contact is known.
	Contacts func(addr string) []Contact
}

// Take is one interaction to create: a client and its contacts on the message.
type Take struct {
	ClientID   int64
	ContactIDs []int64
}

// Decision is the outcome for one message: either Take holds at least one
// client (sorted by ClientID, each with sorted, distinct contact ids) and
// Reason is empty, or Take is empty and Reason says why.
type Decision struct {
	Take   []Take
	Reason Reason
	// Counterpart is "Name <address>" (or the bare address) of the first
	// participant other than the user, in the order From, To, Cc; empty
	// when there is none. The Activity list shows it.
	Counterpart string
	// Wanted holds, when Reason is ClassUnknown or SensitivityUnknown,
	// the clients the message would go to were the missing fact mail and
	// not private; empty otherwise.
	Wanted []Take
}

// Taken reports whether the message goes to ClientSuccess.
func (d Decision) Taken() bool { return len(d.Take) > 0 }

// ClientIDs returns the ids of the clients the message goes to, sorted.
func (d Decision) ClientIDs() []int64 {
	ids := make([]int64, len(d.Take))
	for i, t := range d.Take {
		ids[i] = t.ClientID
	}
	return ids
}

// participant is one From/To/Cc entry with its normalised address.
type participant struct {
	name, addr string
}

// participants returns the valid From, To and Cc addresses in that order,
// normalised, without duplicates.
func participants(m *Message) []participant {
	var out []participant
	seen := map[string]bool{}
	add := func(r Address) {
		a, ok := NormalizeAddress(r.Address)
		if !ok || seen[a] {
			return
		}
		seen[a] = true
		out = append(out, participant{name: strings.TrimSpace(r.Name), addr: a})
	}
	if m.From != nil {
		add(*m.From)
	}
	for _, r := range m.To {
		add(r)
	}
	for _, r := range m.Cc {
		add(r)
	}
	return out
}

// blocklist is Settings.Blocklist split into addresses and domains.
type blocklist struct {
	addrs, domains map[string]bool
}

// newBlocklist reads the entries with ReadBlockLine. A stored or
// organisation entry that is not one but has a fix ("*@b.example", a bare
// "b.example") blocks what the fix does: blocking more is the safe side.
func newBlocklist(entries []string) blocklist {
	b := blocklist{addrs: map[string]bool{}, domains: map[string]bool{}}
	for _, e := range entries {
		entry, fix, ok := ReadBlockLine(e)
		if !ok {
			entry = fix
		}
		if d, ok := strings.CutPrefix(entry, "@"); ok {
			b.domains[d] = true
		} else if entry != "" {
			b.addrs[entry] = true
		}
	}
	return b
}

func (b blocklist) blocks(addr string) bool {
	return b.addrs[addr] || b.domains[domainOf(addr)]
}

// privateReason is why a message is private, or "": Outlook's sensitivity
// private or confidential, else the Private category. All need
// Settings.SkipPrivate.
func privateReason(m *Message, s Settings) Reason {
	if !s.SkipPrivate {
		return ""
	}
	switch strings.ToLower(strings.TrimSpace(m.Sensitivity)) {
	case "private":
		return SensitivityPrivate
	case "confidential":
		return SensitivityConfidential
	}
	if isPrivate(m, s) {
		return Private
	}
	return ""
}

// isPrivate reports whether the message carries the Private category.
func isPrivate(m *Message, s Settings) bool {
	if !s.SkipPrivate {
		return false
	}
	name := strings.TrimSpace(s.PrivateCategory)
	if name == "" {
		name = "Private"
	}
	for _, c := range m.Categories {
		if strings.EqualFold(strings.TrimSpace(c), name) {
			return true
		}
	}
	return false
}

// messageChecks runs checks 2 and 4–8, those that depend on the message
// alone (not on the window or the folder ids), and returns the first failing
// reason, or "" when only the contact look-up is left.
func messageChecks(m *Message, parts []participant, me Me, s Settings) Reason {
	if m.IsDraft {
		return DraftsFolder
	}
	if strings.TrimSpace(m.Class) != "" && !IsMailClass(m.Class) {
		return NotEmail(m.Class)
	}
	if r := privateReason(m, s); r != "" && !m.lifted(r) {
		return r
	}
	if !slices.ContainsFunc(parts, func(p participant) bool { return me.Is(p.addr) }) {
		for _, r := range m.Bcc {
			if a, ok := NormalizeAddress(r.Address); ok && me.Is(a) {
				return OnlyBcc
			}
		}
		return NotParticipant
	}
	bl := newBlocklist(s.Blocklist)
	if !m.lifted(Blocked) && slices.ContainsFunc(parts, func(p participant) bool { return bl.blocks(p.addr) }) {
		return Blocked
	}
	if s.IgnoreInternal && !m.lifted(Internal) && !slices.ContainsFunc(parts, func(p participant) bool { return !me.Internal(p.addr) }) {
		return Internal
	}
	return ""
}

// Lookups returns the distinct normalised From/To/Cc addresses, other than
// the user's own, whose contact look-up can change the decision for in, in
// the order From, To, Cc. It returns nil when the message is skipped
// whatever the contacts are (checks 1–8: older than the window, a draft, an
// excluded folder, not an email, marked Private, the user not a
// participant, a blocked address, internal only). Bcc addresses are never
// returned and in.Contacts is not used. The engine calls Lookups, resolves
// the addresses, then Decide.
func Lookups(in Input) []string {
	m := in.Msg
	if m == nil || m.Received.Before(in.WindowStart) {
		return nil
	}
	if _, ex := in.Excluded.Kind(m.FolderID); ex {
		return nil
	}
	parts := participants(m)
	if messageChecks(m, parts, in.Me, in.Settings) != "" {
		return nil
	}
	var out []string
	for _, p := range parts {
		if !in.Me.Is(p.addr) {
			out = append(out, p.addr)
		}
	}
	return out
}

// Decide applies rules 1–3 and the settings to one message; the package
// documentation lists the checks in order. A nil message is skipped as
// "you are not a participant".
func Decide(in Input) Decision {
	m := in.Msg
	if m == nil {
		return Decision{Reason: NotParticipant}
	}
	parts := participants(m)
	d := Decision{Counterpart: counterpart(parts, in.Me)}
	if m.Received.Before(in.WindowStart) {
		d.Reason = TooOld
		return d
	}
	if m.IsDraft {
		d.Reason = DraftsFolder
		return d
	}
	if kind, ok := in.Excluded.Kind(m.FolderID); ok {
		d.Reason = kind.reason()
		return d
	}
	if r := messageChecks(m, parts, in.Me, in.Settings); r != "" {
		d.Reason = r
		return d
	}
	d.Take = takes(parts, in.Me, in.Contacts)
	if len(d.Take) == 0 {
		d.Reason = NoContact
		return d
	}
	if r := unknownReason(m, in.Settings); r != "" {
		d.Reason, d.Wanted, d.Take = r, d.Take, nil
	}
	return d
}

// unknownReason is why a message that would be taken is not, for want of
// a fact: its class missing, or (with Settings.SkipPrivate) its
// sensitivity missing or outside Outlook's four values.
func unknownReason(m *Message, s Settings) Reason {
	if strings.TrimSpace(m.Class) == "" {
		return ClassUnknown
	}
	if !s.SkipPrivate {
		return ""
	}
	switch strings.ToLower(strings.TrimSpace(m.Sensitivity)) {
	case "normal", "personal", "private", "confidential":
		return ""
	}
	return SensitivityUnknown
}

// takes groups the contacts among the non-user participants by client.
func takes(parts []participant, me Me, lookup func(string) []Contact) []Take {
	if lookup == nil {
		return nil
	}
	byClient := map[int64][]int64{}
	for _, p := range parts {
		if me.Is(p.addr) {
			continue
		}
		for _, c := range lookup(p.addr) {
			if c.ClientID == 0 {
				continue // a contact without a client has no timeline
			}
			byClient[c.ClientID] = append(byClient[c.ClientID], c.ID)
		}
	}
	out := make([]Take, 0, len(byClient))
	for client, ids := range byClient {
		slices.Sort(ids)
		out = append(out, Take{ClientID: client, ContactIDs: slices.Compact(ids)})
	}
	slices.SortFunc(out, func(a, b Take) int { return cmp.Compare(a.ClientID, b.ClientID) })
	return out
}

// counterpart names the first participant other than the user.
func counterpart(parts []participant, me Me) string {
	for _, p := range parts {
		if me.Is(p.addr) {
			continue
		}
		if p.name == "" || strings.EqualFold(p.name, p.addr) {
			return p.addr
		}
		return p.name + " <" + p.addr + ">"
	}
	return ""
}
