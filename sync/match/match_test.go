package match

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	testNow    = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	testWindow = testNow.Add(-24 * time.Hour)
)

// testMe is a user whose UPN differs from the primary address and who has
// an alias in another of the company's domains.
var testMe = NewMe([]string{
	"Alex.Morgan@Contoso.example", "amorgan@contoso.onmicrosoft.example",
	"alex.morgan@contoso.example", "alex@contoso-sales.example", "not an address",
})

var testContacts = map[string][]Contact{
	"nancy@northwind.example":  {{ID: 11, ClientID: 1, Email: "nancy@northwind.example"}},
	"andrew@northwind.example": {{ID: 12, ClientID: 1, Email: "andrew@northwind.example"}},
	"dana@fabrikam.example":    {{ID: 21, ClientID: 2, Email: "dana@fabrikam.example"}},
	// One address on two clients (a consultant both pay).
	"kim@consult.example": {{ID: 31, ClientID: 3, Email: "kim@consult.example"}, {ID: 41, ClientID: 4, Email: "kim@consult.example"}},
	// A duplicate contact record of one person.
	"sofia@adatum.example": {{ID: 52, ClientID: 5}, {ID: 51, ClientID: 5}, {ID: 52, ClientID: 5}},
}

func lookup(addr string) []Contact { return testContacts[addr] }

func rcpt(addr string) Address { return Address{Address: addr} }

func rcpts(addrs ...string) []Address {
	var out []Address
	for _, a := range addrs {
		out = append(out, rcpt(a))
	}
	return out
}

func from(addr string) *Address { r := rcpt(addr); return &r }

// base is a message from a Northwind contact to the user, in the inbox,
// within the window, of class IPM.Note.
func base() Message {
	return Message{
		From:        from("nancy@northwind.example"),
		To:          rcpts("alex.morgan@contoso.example"),
		Received:    testNow.Add(-time.Hour),
		FolderID:    "inbox",
		Class:       "IPM.Note",
		Sensitivity: "normal",
	}
}

var testFolders = Folders{ByID: map[string]FolderKind{
	"junk": KindJunk, "drafts": KindDrafts, "convhist": KindConversationHistory,
	"clutter": KindClutter, "outbox": KindOutbox, "syncissues": KindSyncIssues,
	"conflicts": KindConflicts, "unknown": "",
}}

func TestDecide(t *testing.T) {
	block := DefaultSettings()
	block.Blocklist = []string{" @Blocked.example ", "spam@northwind.example", "bare-domain.example"}
	noInternal := DefaultSettings()
	noInternal.IgnoreInternal = false
	privOff := DefaultSettings()
	privOff.SkipPrivate = false
	privCustom := DefaultSettings()
	privCustom.PrivateCategory = "Personal"

	tests := []struct {
		name     string
		edit     func(m *Message)
		settings *Settings
		want     Reason
		clients  []int64
		contacts [][]int64
		// wanted: the clients of Decision.Wanted (unknown class or
		// sensitivity).
		wanted []int64
	}{
		{name: "contact in From", edit: func(m *Message) {}, clients: []int64{1}, contacts: [][]int64{{11}}},
		{name: "contact in To", edit: func(m *Message) {
			m.From = from("alex.morgan@contoso.example")
			m.To = rcpts("dana@fabrikam.example")
		}, clients: []int64{2}, contacts: [][]int64{{21}}},
		{name: "contact in Cc", edit: func(m *Message) {
			m.From = from("jordan@contoso.example")
			m.Cc = rcpts("dana@fabrikam.example")
		}, clients: []int64{2}, contacts: [][]int64{{21}}},
		{name: "mixed-case addresses", edit: func(m *Message) {
			m.From = from("  NANCY@NorthWind.Example ")
			m.To = rcpts("ALEX.MORGAN@CONTOSO.EXAMPLE")
		}, clients: []int64{1}, contacts: [][]int64{{11}}},
		{name: "user by alias from proxyAddresses", edit: func(m *Message) {
			m.To = rcpts("Alex@Contoso-Sales.example")
		}, clients: []int64{1}},
		{name: "user by UPN differing from mail", edit: func(m *Message) {
			m.To = rcpts("AMorgan@contoso.onmicrosoft.example")
		}, clients: []int64{1}},
		{name: "Name <addr> form", edit: func(m *Message) {
			m.From = from("Nancy Davolio <nancy@northwind.example>")
		}, clients: []int64{1}},
		{name: "two clients on one message", edit: func(m *Message) {
			m.Cc = rcpts("dana@fabrikam.example")
		}, clients: []int64{1, 2}, contacts: [][]int64{{11}, {21}}},
		{name: "two contacts of one client", edit: func(m *Message) {
			m.Cc = rcpts("andrew@northwind.example", "nancy@northwind.example")
		}, clients: []int64{1}, contacts: [][]int64{{11, 12}}},
		{name: "one address on two clients", edit: func(m *Message) {
			m.From = from("kim@consult.example")
		}, clients: []int64{3, 4}, contacts: [][]int64{{31}, {41}}},
		{name: "duplicate contact ids deduped and sorted", edit: func(m *Message) {
			m.From = from("sofia@adatum.example")
		}, clients: []int64{5}, contacts: [][]int64{{51, 52}}},
		{name: "IPM.Note.SMIME is mail", edit: func(m *Message) {
			m.Class = "IPM.Note.SMIME"
		}, clients: []int64{1}},
		{name: "class case-insensitive", edit: func(m *Message) {
			m.Class = "ipm.note"
		}, clients: []int64{1}},
		{name: "absent class is not taken", edit: func(m *Message) {
			m.Class = ""
		}, want: ClassUnknown, wanted: []int64{1}},
		{name: "absent class and sensitivity: the class is said first", edit: func(m *Message) {
			m.Class, m.Sensitivity = " ", ""
		}, want: ClassUnknown, wanted: []int64{1}},
		{name: "absent class without a contact says no contact", edit: func(m *Message) {
			m.Class = ""
			m.From = from("news@litware.example")
		}, want: NoContact},
		{name: "absent class from a blocked address says blocked", edit: func(m *Message) {
			m.Class = ""
			m.Cc = rcpts("x@blocked.example")
		}, settings: &block, want: Blocked},
		{name: "absent sensitivity is not taken", edit: func(m *Message) {
			m.Sensitivity = ""
		}, want: SensitivityUnknown, wanted: []int64{1}},
		{name: "absent sensitivity, two clients wanted", edit: func(m *Message) {
			m.Sensitivity = ""
			m.Cc = rcpts("dana@fabrikam.example")
		}, want: SensitivityUnknown, wanted: []int64{1, 2}},
		{name: "absent sensitivity kept when the private setting is off", edit: func(m *Message) {
			m.Sensitivity = ""
		}, settings: &privOff, clients: []int64{1}},
		{name: "absent class not kept when the private setting is off", edit: func(m *Message) {
			m.Class = ""
		}, settings: &privOff, want: ClassUnknown, wanted: []int64{1}},
		{name: "exactly at the 24 h edge is taken", edit: func(m *Message) {
			m.Received = testWindow
		}, clients: []int64{1}},
		{name: "Private category kept when setting off", edit: func(m *Message) {
			m.Categories = []string{"Private"}
		}, settings: &privOff, clients: []int64{1}},
		{name: "sensitivity private kept when setting off", edit: func(m *Message) {
			m.Sensitivity = "private"
		}, settings: &privOff, clients: []int64{1}},
		{name: "sensitivity normal", edit: func(m *Message) { m.Sensitivity = "normal" }, clients: []int64{1}},
		{name: "sensitivity personal", edit: func(m *Message) { m.Sensitivity = "personal" }, clients: []int64{1}},
		{name: "sensitivity of an unknown value is not taken", edit: func(m *Message) { m.Sensitivity = "secret-ish" }, want: SensitivityUnknown, wanted: []int64{1}},
		{name: "deleted items are not excluded", edit: func(m *Message) {
			m.FolderID = "deleteditems"
		}, clients: []int64{1}},
		{name: "internal colleague plus contact", edit: func(m *Message) {
			m.From = from("jordan@contoso.example")
			m.To = rcpts("alex@contoso-sales.example", "nancy@northwind.example")
		}, clients: []int64{1}},

		{name: "one second before the 24 h edge", edit: func(m *Message) {
			m.Received = testWindow.Add(-time.Second)
		}, want: TooOld},
		{name: "draft flag", edit: func(m *Message) { m.IsDraft = true }, want: DraftsFolder},
		{name: "drafts folder", edit: func(m *Message) { m.FolderID = "drafts" }, want: DraftsFolder},
		{name: "junk folder", edit: func(m *Message) { m.FolderID = "junk" }, want: JunkFolder},
		{name: "conversation history", edit: func(m *Message) { m.FolderID = "convhist" }, want: ConvHistory},
		{name: "clutter", edit: func(m *Message) { m.FolderID = "clutter" }, want: ClutterFolder},
		{name: "outbox", edit: func(m *Message) { m.FolderID = "outbox" }, want: OutboxFolder},
		{name: "sync issues", edit: func(m *Message) { m.FolderID = "syncissues" }, want: SyncIssues},
		{name: "sync issues child conflicts", edit: func(m *Message) { m.FolderID = "conflicts" }, want: SyncIssues},
		{name: "excluded folder of unknown kind", edit: func(m *Message) { m.FolderID = "unknown" }, want: ExcludedFolder},
		{name: "meeting request", edit: func(m *Message) {
			m.Class = "IPM.Schedule.Meeting.Request"
		}, want: "not an email (meeting request)"},
		{name: "meeting response", edit: func(m *Message) {
			m.Class = "IPM.Schedule.Meeting.Resp.Pos"
		}, want: "not an email (meeting response)"},
		{name: "RSS item", edit: func(m *Message) {
			m.Class = "IPM.Post.RSS"
		}, want: "not an email (RSS item)"},
		{name: "task", edit: func(m *Message) {
			m.Class = "IPM.Task"
		}, want: "not an email (task)"},
		{name: "Microsoft Teams chat", edit: func(m *Message) {
			m.Class = "IPM.SkypeTeams.Message"
		}, want: "not an email (Teams chat)"},
		{name: "Microsoft Teams chat with unknown sensitivity", edit: func(m *Message) {
			m.Class = "ipm.skypeteams.message"
			m.Sensitivity = ""
		}, want: "not an email (Teams chat)"},
		{name: "IPM.Notes is not IPM.Note", edit: func(m *Message) {
			m.Class = "IPM.Notes"
		}, want: "not an email (other item)"},
		{name: "Private category", edit: func(m *Message) {
			m.Categories = []string{"Blue", " private "}
		}, want: Private},
		{name: "custom private category", edit: func(m *Message) {
			m.Categories = []string{"personal"}
		}, settings: &privCustom, want: Private},
		{name: "sensitivity private", edit: func(m *Message) { m.Sensitivity = "private" }, want: SensitivityPrivate},
		{name: "sensitivity Private, any case", edit: func(m *Message) { m.Sensitivity = " Private" }, want: SensitivityPrivate},
		{name: "sensitivity confidential", edit: func(m *Message) { m.Sensitivity = "confidential" }, want: SensitivityConfidential},
		{name: "sensitivity says which before the category", edit: func(m *Message) {
			m.Sensitivity = "confidential"
			m.Categories = []string{"Private"}
		}, want: SensitivityConfidential},
		{name: "user only in Bcc", edit: func(m *Message) {
			m.To = rcpts("andrew@northwind.example")
			m.Bcc = rcpts("ALEX.MORGAN@contoso.example")
		}, want: OnlyBcc},
		{name: "user not a participant", edit: func(m *Message) {
			m.To = rcpts("sales@contoso.example")
		}, want: NotParticipant},
		{name: "contact only in Bcc", edit: func(m *Message) {
			m.From = from("alex.morgan@contoso.example")
			m.To = rcpts("someone@partner.example")
			m.Bcc = rcpts("nancy@northwind.example")
		}, want: NoContact},
		{name: "blocked domain", edit: func(m *Message) {
			m.Cc = rcpts("x@BLOCKED.example")
		}, settings: &block, want: Blocked},
		{name: "blocked address", edit: func(m *Message) {
			m.Cc = rcpts("Spam@Northwind.example")
		}, settings: &block, want: Blocked},
		{name: "blocked bare domain", edit: func(m *Message) {
			m.Cc = rcpts("y@bare-domain.example")
		}, settings: &block, want: Blocked},
		{name: "blocked only in Bcc does not count", edit: func(m *Message) {
			m.Bcc = rcpts("x@blocked.example")
		}, settings: &block, clients: []int64{1}},
		{name: "internal only", edit: func(m *Message) {
			m.From = from("jordan@contoso.example")
			m.Cc = rcpts("priya@contoso-sales.example")
		}, want: Internal},
		{name: "internal kept when setting off but no contact", edit: func(m *Message) {
			m.From = from("jordan@contoso.example")
		}, settings: &noInternal, want: NoContact},
		{name: "unknown sender", edit: func(m *Message) {
			m.From = from("news@litware.example")
		}, want: NoContact},
		{name: "garbage addresses only", edit: func(m *Message) {
			m.From = from("/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP")
		}, want: Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.edit(&m)
			s := DefaultSettings()
			if tt.settings != nil {
				s = *tt.settings
			}
			d := Decide(Input{Msg: &m, Me: testMe, Excluded: testFolders, WindowStart: testWindow, Settings: s, Contacts: lookup})
			if d.Reason != tt.want {
				t.Fatalf("reason = %q, want %q", d.Reason, tt.want)
			}
			if d.Taken() != (tt.want == "") {
				t.Fatalf("Taken() = %v with reason %q", d.Taken(), d.Reason)
			}
			if got := d.ClientIDs(); !slices.Equal(got, tt.clients) {
				t.Errorf("clients = %v, want %v", got, tt.clients)
			}
			var wanted []int64
			for _, w := range d.Wanted {
				wanted = append(wanted, w.ClientID)
			}
			if !slices.Equal(wanted, tt.wanted) {
				t.Errorf("wanted = %v, want %v", wanted, tt.wanted)
			}
			for i, want := range tt.contacts {
				if got := d.Take[i].ContactIDs; !slices.Equal(got, want) {
					t.Errorf("client %d contacts = %v, want %v", d.Take[i].ClientID, got, want)
				}
			}
		})
	}
}

func TestDecideNil(t *testing.T) {
	if d := Decide(Input{}); d.Taken() || d.Reason != NotParticipant {
		t.Fatalf("Decide(nil message) = %+v", d)
	}
	m := base()
	if d := Decide(Input{Msg: &m, Me: testMe}); d.Taken() || d.Reason != NoContact {
		t.Fatalf("Decide without a contact look-up = %+v, want %q", d, NoContact)
	}
}

func TestCounterpart(t *testing.T) {
	m := base()
	m.From = &Address{Name: "Alex Morgan", Address: "alex.morgan@contoso.example"}
	m.To = []Address{{Name: "Dana Whitfield", Address: "Dana@Fabrikam.example"}}
	d := Decide(Input{Msg: &m, Me: testMe, WindowStart: testWindow, Settings: DefaultSettings(), Contacts: lookup})
	if want := "Dana Whitfield <dana@fabrikam.example>"; d.Counterpart != want {
		t.Errorf("Counterpart = %q, want %q", d.Counterpart, want)
	}
	m.To = rcpts("dana@fabrikam.example")
	if d := Decide(Input{Msg: &m, Me: testMe}); d.Counterpart != "dana@fabrikam.example" {
		t.Errorf("Counterpart without a name = %q", d.Counterpart)
	}
}

func TestLookups(t *testing.T) {
	block := DefaultSettings()
	block.Blocklist = []string{"@blocked.example"}
	m := base()
	m.From = from("Nancy@Northwind.example")
	m.To = rcpts("alex@contoso-sales.example", "dana@fabrikam.example", "NANCY@northwind.example")
	m.Cc = rcpts("jordan@contoso.example", "not an address")
	m.Bcc = rcpts("secret@bcc.example")
	want := []string{"nancy@northwind.example", "dana@fabrikam.example", "jordan@contoso.example"}
	if got := Lookups(Input{Msg: &m, Me: testMe, Settings: DefaultSettings()}); !slices.Equal(got, want) {
		t.Errorf("Lookups = %q, want %q", got, want)
	}

	skipped := map[string]func(m *Message) Settings{
		"blocked": func(m *Message) Settings { m.Cc = rcpts("a@blocked.example"); return block },
		"bcc only": func(m *Message) Settings {
			m.To = rcpts("dana@fabrikam.example")
			m.Bcc = rcpts("alex@contoso-sales.example")
			return DefaultSettings()
		},
		"meeting": func(m *Message) Settings {
			m.Class = "IPM.Schedule.Meeting.Request"
			return DefaultSettings()
		},
		"internal": func(m *Message) Settings { m.From = from("jordan@contoso.example"); return DefaultSettings() },
	}
	for name, edit := range skipped {
		m := base()
		s := edit(&m)
		if got := Lookups(Input{Msg: &m, Me: testMe, Settings: s}); got != nil {
			t.Errorf("%s: Lookups = %q, want none", name, got)
		}
	}
	// The window and the excluded folders rule a message out as well.
	old := base()
	old.Received = testWindow.Add(-time.Second)
	if got := Lookups(Input{Msg: &old, Me: testMe, WindowStart: testWindow, Settings: DefaultSettings()}); got != nil {
		t.Errorf("too old: Lookups = %q, want none", got)
	}
	junk := base()
	junk.FolderID = "junk"
	if got := Lookups(Input{Msg: &junk, Me: testMe, Excluded: testFolders, Settings: DefaultSettings()}); got != nil {
		t.Errorf("junk: Lookups = %q, want none", got)
	}
	if Lookups(Input{Me: testMe, Settings: DefaultSettings()}) != nil {
		t.Error("Lookups(nil) returned addresses")
	}
}

func TestNewMe(t *testing.T) {
	for _, a := range []string{"alex.morgan@contoso.example", "amorgan@contoso.onmicrosoft.example", "alex@contoso-sales.example"} {
		if !testMe.Addresses[a] {
			t.Errorf("Me lacks %q", a)
		}
	}
	if len(testMe.Addresses) != 3 {
		t.Errorf("Me addresses = %v, want 3 (X500 ignored)", testMe.Addresses)
	}
	for _, d := range []string{"contoso.example", "contoso.onmicrosoft.example", "contoso-sales.example"} {
		if !testMe.Domains[d] {
			t.Errorf("Me lacks domain %q", d)
		}
	}
}

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"a@b.example", "a@b.example", true},
		{"  A.B@Example.COM\t", "a.b@example.com", true},
		{"Nancy Davolio <Nancy@Northwind.example>", "nancy@northwind.example", true},
		{`"Davolio, Nancy" <nancy@northwind.example>`, "nancy@northwind.example", true},
		{"<x@y.example>", "x@y.example", true},
		{"JÖRG@MÜLLER.example", "jörg@müller.example", true},
		{"o'brien+tag@adatum.example", "o'brien+tag@adatum.example", true},
		{"", "", false},
		{"   ", "", false},
		{"no-at-sign", "", false},
		{"a@b@c", "", false},
		{"@b.example", "", false},
		{"a@", "", false},
		{"a b@c.example", "", false},
		{"a@.example", "", false},
		{"a@example.", "", false},
		{"a@b.example, c@d.example", "", false},
		{"Name <>", "", false},
		{"Name a@b.example>", "", false},
		{"a\x00@b.example", "", false},
		{"a\u200b@b.example", "", false},
		{"\xff@b.example", "", false},
		{"/O=EXCHANGELABS/OU=EXCHANGE ADMINISTRATIVE GROUP/CN=RECIPIENTS", "", false},
		{strings.Repeat("a", 400) + "@b.example", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeAddress(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeAddress(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsMailClass(t *testing.T) {
	for class, want := range map[string]bool{
		"": false, " ": false, "IPM.Note": true, "ipm.note.smime": true, "IPM.Note.SMIME.MultipartSigned": true,
		"IPM.Note.Microsoft.Voicemail.UM.CA": true, "IPM.Notes": false, "IPM": false, "IPM.Not": false,
		"IPM.Schedule.Meeting.Request": false, "IPM.Post.RSS": false, "IPM.SkypeTeams.Message": false, "REPORT.IPM.Note.NDR": false,
	} {
		if got := IsMailClass(class); got != want {
			t.Errorf("IsMailClass(%q) = %v, want %v", class, got, want)
		}
	}
}

func TestBlockEntry(t *testing.T) {
	for in, want := range map[string]string{
		" Ann@Acme.COM ": "ann@acme.com",
		"@Globex.com":    "@globex.com",
		"@münchen.de":    "@münchen.de",
		"acme.com":       "", // a bare domain needs its @
		"@localhost":     "",
		"@-x.com":        "",
		"a@b":            "",
		"Ann <a@b.com>":  "",
		"two@@b.com":     "",
		"":               "",
	} {
		got, ok := BlockEntry(in)
		if got != want || ok != (want != "") {
			t.Errorf("BlockEntry(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
