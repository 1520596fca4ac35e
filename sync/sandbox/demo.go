package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"mailsync/sync/crm"
	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
)

// The labels of the demo mailbox (Item.Why). Those before WhyBccOnly are
// taken; the rest are not.
const (
	WhyFrom         = "contact in From"
	WhyTo           = "contact in To"
	WhyCc           = "contact in Cc"
	WhyTwoClients   = "contacts of two clients"
	WhyTwoContacts  = "two contacts of one client"
	WhyAlias        = "user addressed by alias"
	WhyMixedCase    = "mixed-case addresses"
	WhyTwoFolders   = "same message in two folders"
	WhySigned       = "signed mail (IPM.Note.SMIME)"
	WhyUserFolder   = "user-created folder"
	WhyDeletedItems = "in Deleted Items"
	WhyEdge         = "received exactly 24 h before connect"

	WhyBccOnly         = "user only in Bcc"
	WhyContactBcc      = "contact only in Bcc"
	WhyNotParticipant  = "user not a participant"
	WhyInternal        = "internal only"
	WhyNewsletter      = "newsletter from unknown sender"
	WhyMeeting         = "meeting request"
	WhyMeetingResponse = "meeting response"
	WhyJunk            = "junk folder"
	WhyDraft           = "draft"
	WhyConvHistory     = "conversation history"
	WhySyncIssues      = "sync issues (conflicts)"
	WhyOutbox          = "outbox"
	WhyClutter         = "clutter"
	WhyRSS             = "RSS item"
	WhyPrivate         = "category Private"
	WhyBlocked         = "blocked address"
	WhyOld             = "older than 24 h at connect"
	WhyLate            = "contact not yet in ClientSuccess"
	// Facts Microsoft 365 does not give, and an item that is not mail
	// although /me/messages lists it (docs/evidence.md, "Microsoft Graph
	// and Entra").
	WhyNoClass            = "message class not given"
	WhyNoSensitivity      = "sensitivity not given"
	WhySensitivityPrivate = "marked private in Outlook"
	WhyTeamsChat          = "Microsoft Teams chat"
	// WhyUnreadable is a message whose body Graph refuses on every read
	// (a 500 on its $batch step; Item.BodyStatus).
	WhyUnreadable = "text always refused"
)

// Client ids of the demo ClientSuccess account.
const (
	ClientNorthwind int64 = 1001
	ClientFabrikam  int64 = 1002
	ClientAdatum    int64 = 1003
	ClientTailspin  int64 = 1004
)

var (
	alex     = who{"Alex Morgan", "alex.morgan@contoso.example"}
	alexAka  = who{"Alex Morgan", "alex@contoso.example"}
	jordan   = who{"Jordan Lee", "jordan.lee@contoso.example"}
	priya    = who{"Priya Shah", "priya.shah@contoso.example"}
	salesDL  = who{"Contoso Sales", "sales@contoso.example"}
	nancy    = who{"Nancy Davolio", "nancy.davolio@northwind.example"}
	andrew   = who{"Andrew Fuller", "andrew.fuller@northwind.example"}
	janet    = who{"Janet Leverling", "janet.leverling@northwind.example"}
	dana     = who{"Dana Whitfield", "dana.whitfield@fabrikam.example"}
	marcus   = who{"Marcus Chen", "marcus.chen@fabrikam.example"}
	sofia    = who{"Sofia Ramirez", "sofia.ramirez@adatum.example"}
	liam     = who{"Liam O'Brien", "liam.obrien@adatum.example"}
	emma     = who{"Emma Schulz", "emma.schulz@adatum.example"}
	kenji    = who{"Kenji Watanabe", "kenji.watanabe@tailspin.example"}
	olivia   = who{"Olivia Park", "olivia.park@tailspin.example"}
	ben      = who{"Ben Carter", "ben.carter@tailspin.example"}
	partner  = who{"Rita Gomez", "rita.gomez@litware.example"}
	news     = who{"Litware Weekly", "newsletter@news.litware.example"}
	blockedX = who{"Deal Finder", "offers@blocked.example"}
)

// demoContacts are the contacts loaded into ClientSuccess, with their ids.
var demoContacts = []struct {
	id     int64
	client int64
	p      who
}{
	{2001, ClientNorthwind, nancy}, {2002, ClientNorthwind, andrew}, {2003, ClientNorthwind, janet},
	{2011, ClientFabrikam, dana}, {2012, ClientFabrikam, marcus},
	{2021, ClientAdatum, sofia}, {2022, ClientAdatum, liam}, {2023, ClientAdatum, emma},
	{2031, ClientTailspin, kenji},
}

func contact(id, client int64, p who) crm.Contact {
	first, last, _ := strings.Cut(p.name, " ")
	return crm.Contact{ID: id, ClientID: client, Email: p.addr, FirstName: first, LastName: last}
}

// demoBuilder numbers the demo messages.
type demoBuilder struct {
	now   time.Time
	n     int
	items []*Item // pointers, so that add's result stays valid as the list grows
}

// add appends a message received age before now, and returns it for
// adjustment. Its class is IPM.Note unless changed.
func (b *demoBuilder) add(why string, expect []int64, age time.Duration, folder string, from who, to []who, cc []who, subject, body string) *Item {
	b.n++
	_, domain, _ := strings.Cut(from.addr, "@")
	at := b.now.Add(-age)
	it := &Item{
		Msg: graph.Message{
			ID:                            fmt.Sprintf("AAMkSbx-demo-%03d", b.n),
			InternetMessageID:             fmt.Sprintf("<demo-%03d.%s@%s>", b.n, at.Format("20060102150405"), strings.ToLower(domain)),
			Subject:                       subject,
			From:                          from.ptr(),
			Sender:                        from.ptr(),
			ToRecipients:                  rcpts(to...),
			CcRecipients:                  rcpts(cc...),
			ReceivedDateTime:              at,
			SentDateTime:                  at.Add(-7 * time.Second),
			ParentFolderID:                folder,
			ConversationID:                fmt.Sprintf("AAQkSbx-conv-%03d", b.n),
			SingleValueExtendedProperties: classProp("IPM.Note"),
		},
		Body:   body,
		Expect: expect,
		Why:    why,
	}
	b.items = append(b.items, it)
	return it
}

func ids(cs ...int64) []int64 {
	out := slices.Clone(cs)
	slices.Sort(out)
	return out
}

func ws(ps ...who) []who { return ps }

// Demo returns the hand-written sandbox world, its times relative to now:
// Alex Morgan's mailbox at Contoso (a German Outlook, so the folders have
// German names) and a ClientSuccess account with Northwind Traders, Fabrikam
// Inc, Adatum Corp and Tailspin Toys. Every case of the rules has at least
// one message, labelled by a Why constant. Two Tailspin contacts are left
// out (World.Late) for the 24 h edge tests.
func Demo(now time.Time) *World {
	w := &World{
		Now:     now,
		Me:      sandboxMe(),
		Folders: folderTree(true),
		Clients: []crm.Client{
			{ID: ClientNorthwind, Name: "Northwind Traders"},
			{ID: ClientFabrikam, Name: "Fabrikam Inc"},
			{ID: ClientAdatum, Name: "Adatum Corp"},
			{ID: ClientTailspin, Name: "Tailspin Toys"},
		},
		CRMUser:     CRMUser,
		CRMPassword: CRMPassword,
	}
	for _, c := range demoContacts {
		w.Contacts = append(w.Contacts, contact(c.id, c.client, c.p))
	}
	// A contact without a client (whether ClientSuccess has them is
	// unknown): it is left out of the directory, and no mail names it.
	w.Contacts = append(w.Contacts, crm.Contact{ID: 2099, Email: "unassigned@northwind.example", FirstName: "Una"})
	b := &demoBuilder{now: now}
	h := time.Hour
	nw, fb, ad, ts := ids(ClientNorthwind), ids(ClientFabrikam), ids(ClientAdatum), ids(ClientTailspin)

	// A thread with Northwind: Nancy writes, Alex answers, Nancy replies
	// copying Janet.
	q1 := b.add(WhyFrom, nw, 20*h, FolderInbox, nancy, ws(alex), nil, "Q3 renewal: pricing questions",
		"Hi Alex,\n\nbefore we sign the renewal, could you walk us through the new tiers?\n\nThanks,\nNancy")
	q2 := b.add(WhyTo, nw, 19*h, FolderSent, alex, ws(nancy), nil, "RE: Q3 renewal: pricing questions",
		"Hi Nancy,\n\nhappy to. I have attached the tier sheet; shall we talk on Thursday?\n\nAlex")
	q3 := b.add(WhyTwoContacts, nw, 18*h, FolderInbox, nancy, ws(alex), ws(janet), "RE: RE: Q3 renewal: pricing questions",
		"Thursday works. I have copied Janet from procurement.\n\nNancy")
	q2.Msg.ConversationID, q3.Msg.ConversationID = q1.Msg.ConversationID, q1.Msg.ConversationID

	b.add(WhyCc, ad, 17*h, FolderInbox, jordan, ws(alex), ws(sofia), "Adatum onboarding plan",
		"Alex, here is the onboarding plan we discussed; Sofia is copied for visibility.\n\nJordan")
	b.add(WhyTo, fb, 16*h, FolderSent, alex, ws(marcus), nil, "Your support ticket #4471",
		"Hi Marcus,\n\nthe fix for the export timeout is live. Let me know if it happens again.\n\nAlex")
	b.add(WhyTwoClients, ids(ClientNorthwind, ClientFabrikam), 15*h, FolderSent, alex, ws(andrew, dana), nil,
		"Joint workshop: Northwind and Fabrikam",
		"Andrew, Dana,\n\nas promised, an introduction: you both asked about the warehouse integration.\n\nAlex")
	b.add(WhyTwoContacts, ad, 14*h, FolderInbox, sofia, ws(alex), ws(liam), "Adatum: security questionnaire",
		"Alex, Liam will send the completed questionnaire by Friday.\n\nSofia")
	b.add(WhyAlias, nw, 13*h, FolderInbox, janet, ws(alexAka), nil, "Purchase order 88123",
		"Hello Alex, please find PO 88123 for the additional seats.\n\nJanet")
	mixed := b.add(WhyMixedCase, fb, 12*h, FolderInbox, who{"Marcus Chen", "Marcus.Chen@FABRIKAM.example"},
		ws(who{"Alex Morgan", "ALEX.MORGAN@contoso.EXAMPLE"}), nil, "RE: Your support ticket #4471",
		"Confirmed, the export runs fine now. Thanks!\n\nMarcus")
	mixed.Msg.Sender = &graph.Recipient{EmailAddress: graph.EmailAddress{Name: "Marcus Chen", Address: "marcus.chen@fabrikam.example"}}

	// The same message filed twice: in the inbox and in an archive subfolder.
	dup := b.add(WhyTwoFolders, ad, 11*h, FolderInbox, emma, ws(alex), nil, "Adatum: contract countersigned",
		"Alex, attached is the countersigned contract.\n\nEmma")
	copyOf := *dup
	copyOf.Msg.ID = dup.Msg.ID + "-archived"
	copyOf.Msg.ParentFolderID = FolderArchiveYear
	b.items = append(b.items, &copyOf)

	signed := b.add(WhySigned, ad, 10*h, FolderInbox, liam, ws(alex), nil, "Signed: penetration test report",
		"Alex, the report is attached, signed as requested.\n\nLiam")
	signed.Msg.SingleValueExtendedProperties = classProp("IPM.Note.SMIME")
	// Microsoft 365 gives no class for this one, even asked alone: it is
	// not copied on a guess.
	noClass := b.add(WhyNoClass, nil, 9*h, FolderInbox, kenji, ws(alex), nil, "Tailspin: spring catalogue",
		"Alex, our spring catalogue goes live next week; can we feature your integration?\n\nKenji")
	noClass.Msg.SingleValueExtendedProperties = nil
	b.add(WhyUserFolder, fb, 8*h+30*time.Minute, FolderInboxClients, dana, ws(alex), nil, "Fabrikam QBR agenda",
		"Alex, here is our draft agenda for the quarterly review.\n\nDana")
	b.add(WhyDeletedItems, nw, 8*h, FolderDeleted, andrew, ws(alex), nil, "Quick question",
		"Alex, is the API rate limit per user or per tenant?\n\nAndrew")
	b.add(WhyEdge, fb, 24*h, FolderInbox, dana, ws(alex), nil, "Fabrikam: budget approved",
		"Alex, good news: the budget for next year is approved.\n\nDana")

	// Not taken.
	bcc := b.add(WhyBccOnly, nil, 7*h, FolderInbox, nancy, ws(andrew), nil, "Internal: vendor shortlist",
		"Andrew, Contoso is on our shortlist; I am keeping Alex in the loop.\n\nNancy")
	bcc.Msg.BccRecipients = rcpts(alex)
	cbcc := b.add(WhyContactBcc, nil, 6*h+30*time.Minute, FolderSent, alex, ws(partner), nil, "Referral",
		"Rita, as discussed, a referral for your consulting team.\n\nAlex")
	cbcc.Msg.BccRecipients = rcpts(dana)
	b.add(WhyNotParticipant, nil, 6*h, FolderInbox, sofia, ws(salesDL), nil, "Adatum: request for quote",
		"Hello Contoso sales team, please send a quote for 50 seats.\n\nSofia")
	b.add(WhyInternal, nil, 5*h+30*time.Minute, FolderInbox, jordan, ws(alex), ws(priya), "Team lunch on Friday",
		"Who is in for lunch on Friday?\n\nJordan")
	b.add(WhyNewsletter, nil, 5*h, FolderInbox, news, ws(alex), nil, "This week in SaaS",
		"The top ten stories of the week in software as a service.")
	meet := b.add(WhyMeeting, nil, 4*h+30*time.Minute, FolderInbox, andrew, ws(alex), nil, "Renewal call",
		"Andrew Fuller has invited you to: Renewal call, Thursday 10:00–10:30.")
	meet.Msg.SingleValueExtendedProperties = classProp("IPM.Schedule.Meeting.Request")
	resp := b.add(WhyMeetingResponse, nil, 4*h, FolderInbox, dana, ws(alex), nil, "Accepted: Fabrikam QBR",
		"Dana Whitfield has accepted.")
	resp.Msg.SingleValueExtendedProperties = classProp("IPM.Schedule.Meeting.Resp.Pos")
	b.add(WhyJunk, nil, 3*h+45*time.Minute, FolderJunk, dana, ws(alex), nil, "You have won a prize",
		"Click here to claim your prize.")
	draft := b.add(WhyDraft, nil, 3*h+30*time.Minute, FolderDrafts, alex, ws(sofia), nil, "Proposal (draft)",
		"Sofia, here is the proposal we")
	draft.Msg.IsDraft = true
	b.add(WhyConvHistory, nil, 3*h+15*time.Minute, FolderConvHistory, andrew, ws(alex), nil, "Chat with Andrew Fuller",
		"[10:02] Andrew Fuller: are we still on for Thursday?")
	b.add(WhySyncIssues, nil, 3*h, FolderConflicts, janet, ws(alex), nil, "Purchase order 88123",
		"Conflict copy of a message from Janet Leverling.")
	b.add(WhyOutbox, nil, 2*h+45*time.Minute, FolderOutbox, alex, ws(marcus), nil, "Follow-up",
		"Marcus, following up on the renewal.")
	b.add(WhyClutter, nil, 2*h+30*time.Minute, FolderClutter, liam, ws(alex), nil, "Adatum newsletter",
		"Adatum company news for the month.")
	rss := b.add(WhyRSS, nil, 2*h+15*time.Minute, FolderRSS, nancy, ws(alex), nil, "Northwind blog: new warehouse",
		"Northwind Traders opens a new warehouse in Rotterdam.")
	rss.Msg.SingleValueExtendedProperties = classProp("IPM.Post.RSS")
	priv := b.add(WhyPrivate, nil, 2*h, FolderInbox, emma, ws(alex), nil, "Personal: dinner next week",
		"Alex, my husband and I would love to have you over for dinner.\n\nEmma")
	priv.Msg.Categories = []string{"Private"}
	marked := b.add(WhySensitivityPrivate, nil, 1*h+55*time.Minute, FolderInbox, nancy, ws(alex), nil, "Between us",
		"Alex, in confidence: our CFO is leaving next month.\n\nNancy")
	marked.Msg.SingleValueExtendedProperties = props("IPM.Note", "2")
	noSens := b.add(WhyNoSensitivity, nil, 9*h+30*time.Minute, FolderInbox, jordan, ws(sofia), nil, "Adatum: org chart",
		"Sofia, the updated org chart is attached.\n\nJordan")
	noSens.Msg.ToRecipients = rcpts(alex, sofia)
	noSens.Msg.SingleValueExtendedProperties = props("IPM.Note", "")
	teams := b.add(WhyTeamsChat, nil, 1*h+50*time.Minute, FolderInbox, dana, ws(alex), nil, "",
		"<p>Can you join the QBR call five minutes early?</p>")
	teams.Msg.SingleValueExtendedProperties = props(graphtest.TeamsChatClass, "0")
	unreadable := b.add(WhyUnreadable, nil, 1*h+40*time.Minute, FolderInbox, marcus, ws(alex), nil, "Export log",
		"Alex, the export log is attached.\n\nMarcus")
	unreadable.BodyStatus = http.StatusInternalServerError
	b.add(WhyBlocked, nil, 1*h+45*time.Minute, FolderInbox, blockedX, ws(alex), ws(nancy), "Exclusive offer for Northwind partners",
		"Limited-time offer for you and your partners.")
	b.add(WhyOld, nil, 26*h, FolderInbox, sofia, ws(alex), nil, "Adatum: kickoff notes",
		"Alex, the notes from the kickoff are attached.\n\nSofia").Older = ad
	b.add(WhyOld, nil, 30*h, FolderSent, alex, ws(nancy), nil, "Northwind: case study",
		"Nancy, would Northwind be open to a joint case study?\n\nAlex").Older = nw
	// Older mail, days to months before connecting: a backfill that
	// reaches it copies what the rules take, and nothing else.
	d := 24 * h
	b.add(WhyOld, nil, 3*d, FolderInbox, dana, ws(alex), nil, "Fabrikam: renewal terms",
		"Alex, attached are the renewal terms we discussed.\n\nDana").Older = fb
	b.add(WhyOld, nil, 12*d, FolderSent, alex, ws(sofia), ws(liam), "Adatum: rollout plan",
		"Sofia, Liam, here is the rollout plan for the spring.\n\nAlex").Older = ad
	b.add(WhyOld, nil, 40*d, FolderArchive, kenji, ws(alex), ws(nancy), "Joint workshop: Tailspin and Northwind",
		"Alex, Nancy, shall we hold the workshop in Seattle?\n\nKenji").Older = ids(ClientNorthwind, ClientTailspin)
	b.add(WhyOld, nil, 75*d, FolderJunk, andrew, ws(alex), nil, "Re: your invoice",
		"Please see the attached invoice.")
	oldBcc := b.add(WhyOld, nil, 150*d, FolderInbox, nancy, ws(andrew), nil, "Internal: Contoso contract",
		"Andrew, I am copying Alex so he knows the contract is signed.\n\nNancy")
	oldBcc.Msg.BccRecipients = rcpts(alex)
	oldPriv := b.add(WhyOld, nil, 170*d, FolderInbox, emma, ws(alex), nil, "Personal: thank you",
		"Alex, thank you for the flowers.\n\nEmma")
	oldPriv.Msg.Categories = []string{"Private"}
	b.add(WhyOld, nil, 200*d, FolderInbox, janet, ws(alex), nil, "Northwind: first order",
		"Alex, our first order is on its way.\n\nJanet").Older = nw

	// Messages from Tailspin people who are not contacts yet.
	l23 := b.add(WhyLate, nil, 1*h+30*time.Minute, FolderInbox, olivia, ws(alex), nil, "Tailspin: introduction",
		"Hi Alex, I have taken over the Tailspin account from Kenji.\n\nOlivia")
	l25 := b.add(WhyLate, nil, 1*h, FolderInbox, ben, ws(alex), nil, "Tailspin: invoice question",
		"Alex, a question about last month's invoice.\n\nBen")
	// Olivia wrote before, days ago: copied only when the person asked for
	// the recent mail of contacts added later (Settings.HistoryDays).
	o4 := b.add(WhyOld, nil, 4*24*h, FolderInbox, olivia, ws(alex), nil, "Tailspin: who I am",
		"Hi Alex, I am joining Tailspin's account team next week.\n\nOlivia")
	w.Late = []Late{
		{Contact: contact(2032, ClientTailspin, olivia), MessageID: l23.Msg.InternetMessageID, Received: l23.Msg.ReceivedDateTime, After: 23 * h, Expect: ts,
			Older: []string{o4.Msg.InternetMessageID}},
		{Contact: contact(2033, ClientTailspin, ben), MessageID: l25.Msg.InternetMessageID, Received: l25.Msg.ReceivedDateTime, After: 25 * h},
	}

	for _, it := range b.items {
		w.Messages = append(w.Messages, *it)
	}
	return w
}

// CatchUp returns n labelled messages from demo contacts received evenly
// between from and to, for tests that add mail while the app was off (the
// catch-up after days away). Each lands on its contact's client. The ids
// carry seq so that several batches do not collide.
func CatchUp(from, to time.Time, n, seq int) []Item {
	out := make([]Item, 0, n)
	for i := range n {
		c := demoContacts[i%len(demoContacts)]
		at := from
		if n > 1 {
			at = from.Add(time.Duration(int64(to.Sub(from)) / int64(n-1) * int64(i)))
		}
		_, domain, _ := strings.Cut(c.p.addr, "@")
		out = append(out, Item{
			Msg: graph.Message{
				ID:                            fmt.Sprintf("AAMkSbx-catchup-%d-%03d", seq, i),
				InternetMessageID:             fmt.Sprintf("<catchup-%d-%03d@%s>", seq, i, domain),
				Subject:                       fmt.Sprintf("Update %d from %s", i+1, c.p.name),
				From:                          c.p.ptr(),
				ToRecipients:                  rcpts(alex),
				ReceivedDateTime:              at,
				SentDateTime:                  at,
				ParentFolderID:                FolderInbox,
				SingleValueExtendedProperties: classProp("IPM.Note"),
			},
			Body:   fmt.Sprintf("Hi Alex,\n\nupdate %d while you were away.\n\n%s", i+1, c.p.name),
			Expect: []int64{c.client},
			Why:    WhyFrom,
		})
	}
	return out
}
