package sandbox

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"mailsync/sync/crm"
	"mailsync/sync/graph"
)

// Options shape a generated world.
type Options struct {
	// Now is the time the first pass runs; every generated message is
	// received in the Span before it.
	Now time.Time
	// Span is how far back the messages go (default 23 hours: all in the
	// first pass's window).
	Span time.Duration
	Seed int64
	// Messages is the number of messages; 0 gives the hand-written Demo.
	Messages int
	// Contacts is the number of ClientSuccess contacts (default 2,000),
	// four per client.
	Contacts int
	// MatchRate is the share of messages that must be uploaded (default
	// 0.15). The matching messages are spread evenly, so the share is exact
	// to one message.
	MatchRate float64
}

// The labels of generated messages.
const (
	GenTaken      = "contact in From, To or Cc"
	GenTwoClients = "contacts of two clients"
	GenUnknown    = "unknown external sender"
	GenInternal   = "internal only"
	GenJunk       = "junk folder"
	GenBccOnly    = "user only in Bcc"
	GenMeeting    = "meeting request"
)

// contactsPerClient is how many generated contacts share one client.
const contactsPerClient = 4

// unknownSenders is the size of the pool of non-contact external
// addresses, so that the distinct addresses to look up stay realistic.
const unknownSenders = 5000

func (o Options) withDefaults() Options {
	if o.Contacts <= 0 {
		o.Contacts = 2000
	}
	if o.Span <= 0 {
		o.Span = 23 * time.Hour
	}
	if o.MatchRate <= 0 {
		o.MatchRate = 0.15
	}
	if o.MatchRate > 1 {
		o.MatchRate = 1
	}
	return o
}

// generatedClient is the client id of generated contact i.
func generatedClient(i int) int64 { return 10001 + int64(i/contactsPerClient) }

var firstNames = []string{"Ava", "Noah", "Mia", "Lucas", "Zoe", "Elias", "Lena", "Omar", "Ines", "Theo", "Yara", "Jonas"}
var lastNames = []string{"Becker", "Novak", "Rossi", "Kowalski", "Silva", "Jensen", "Moreau", "Tanaka", "Okafor", "Larsen"}

// generatedContact returns contact i of a generated world.
func generatedContact(i int) crm.Contact {
	first := firstNames[i%len(firstNames)]
	last := lastNames[(i/len(firstNames))%len(lastNames)]
	client := generatedClient(i)
	return crm.Contact{
		ID:        300001 + int64(i),
		ClientID:  client,
		Email:     fmt.Sprintf("%s.%s.%d@client%d.example", strings.ToLower(first), strings.ToLower(last), i, client),
		FirstName: first,
		LastName:  last,
	}
}

// Generate builds a large synthetic world for benchmarks. It is
// deterministic for a seed. Options.Messages 0 returns Demo(o.Now).
// For mailboxes too large to hold twice in memory, use Account, then
// Options.Items with LoadItems and ExpectedFrom.
func Generate(o Options) *World {
	if o.Messages <= 0 {
		return Demo(o.Now)
	}
	w := Account(o)
	w.Messages = make([]Item, 0, o.Messages)
	for it := range o.Items() {
		w.Messages = append(w.Messages, it)
	}
	return w
}

// Account is Generate(o) without its messages: the user, folders, clients
// and contacts.
func Account(o Options) *World {
	o = o.withDefaults()
	w := &World{
		Now:         o.Now,
		Me:          sandboxMe(),
		Folders:     folderTree(false),
		CRMUser:     CRMUser,
		CRMPassword: CRMPassword,
	}
	for i := range o.Contacts {
		c := generatedContact(i)
		if i%contactsPerClient == 0 {
			w.Clients = append(w.Clients, crm.Client{ID: c.ClientID, Name: fmt.Sprintf("Client %d", c.ClientID)})
		}
		w.Contacts = append(w.Contacts, c)
	}
	return w
}

// Items yields the generated messages one at a time, the same as
// Generate(o).Messages, without holding them all.
func (o Options) Items() iter.Seq[Item] {
	o = o.withDefaults()
	return func(yield func(Item) bool) {
		for i := range o.Messages {
			if !yield(o.item(i)) {
				return
			}
		}
	}
}

// item builds message i from its own random stream, so that any message can
// be built without the ones before it.
func (o Options) item(i int) Item {
	rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(i)))
	at := o.Now.Add(-time.Minute - time.Duration(rng.Int64N(int64(o.Span))))
	m := graph.Message{
		ID:                            fmt.Sprintf("AAMkSbx-gen-%07d", i),
		InternetMessageID:             fmt.Sprintf("<gen-%07d.%d@sandbox.example>", i, o.Seed),
		Subject:                       fmt.Sprintf("Generated message %d", i),
		ReceivedDateTime:              at,
		SentDateTime:                  at,
		ParentFolderID:                FolderInbox,
		ConversationID:                fmt.Sprintf("AAQkSbx-gen-%07d", i),
		SingleValueExtendedProperties: classProp("IPM.Note"),
	}
	it := Item{Body: fmt.Sprintf("Body of generated message %d.", i)}
	pick := func() (crm.Contact, who) {
		c := generatedContact(rng.IntN(o.Contacts))
		return c, who{c.FirstName + " " + c.LastName, c.Email}
	}
	// Matching messages are spread evenly: message i matches when
	// ⌊(i+1)·rate⌋ passes an integer.
	if int64(float64(i+1)*o.MatchRate) > int64(float64(i)*o.MatchRate) {
		c, p := pick()
		it.Why, it.Expect = GenTaken, []int64{c.ClientID}
		switch rng.IntN(3) {
		case 0:
			m.From, m.ToRecipients = p.ptr(), rcpts(alex)
		case 1:
			m.From, m.ToRecipients, m.ParentFolderID = alex.ptr(), rcpts(p), FolderSent
		default:
			m.From, m.ToRecipients, m.CcRecipients = jordan.ptr(), rcpts(alex), rcpts(p)
		}
		if rng.IntN(20) == 0 {
			c2, p2 := pick()
			m.CcRecipients = append(m.CcRecipients, p2.rcpt())
			it.Why = GenTwoClients
			it.Expect = append(it.Expect, c2.ClientID)
			slices.Sort(it.Expect)
			it.Expect = slices.Compact(it.Expect)
		}
		m.Sender = m.From
		it.Msg = m
		return it
	}
	switch r := rng.IntN(100); {
	case r < 55:
		n := rng.IntN(unknownSenders)
		m.From = who{fmt.Sprintf("Sender %d", n), fmt.Sprintf("sender%d@vendor%d.example", n, n%97)}.ptr()
		m.ToRecipients = rcpts(alex)
		it.Why = GenUnknown
	case r < 75:
		m.From = jordan.ptr()
		m.ToRecipients = rcpts(alex, priya)
		it.Why = GenInternal
	case r < 85:
		_, p := pick()
		m.From, m.ToRecipients, m.ParentFolderID = p.ptr(), rcpts(alex), FolderJunk
		it.Why = GenJunk
	case r < 95:
		_, p := pick()
		m.From, m.ToRecipients, m.BccRecipients = p.ptr(), rcpts(salesDL), rcpts(alex)
		it.Why = GenBccOnly
	default:
		_, p := pick()
		m.From, m.ToRecipients = p.ptr(), rcpts(alex)
		m.SingleValueExtendedProperties = classProp("IPM.Schedule.Meeting.Request")
		it.Why = GenMeeting
	}
	m.Sender = m.From
	it.Msg = m
	return it
}
