package match

import (
	"reflect"
	"slices"
	"testing"
)

func TestReadBlockLine(t *testing.T) {
	for _, tc := range []struct {
		line, entry, fix string
		ok               bool
	}{
		{"Ann@Acme.example", "ann@acme.example", "", true},
		{"  @Acme.example ", "@acme.example", "", true},
		{"*@acme.example", "", "@acme.example", false},
		{"*@Acme.Example", "", "@acme.example", false},
		{"acme.example", "", "@acme.example", false},
		{"ACME.example", "", "@acme.example", false},
		{"*@localhost", "", "", false},
		{"localhost", "", "", false},
		{"Ann Lee", "", "", false},
		{"ann@", "", "", false},
		{"@", "", "", false},
		{"", "", "", false},
		{"Ann <ann@acme.example>", "", "", false},
	} {
		e, fix, ok := ReadBlockLine(tc.line)
		if e != tc.entry || fix != tc.fix || ok != tc.ok {
			t.Errorf("ReadBlockLine(%q) = %q, %q, %v; want %q, %q, %v", tc.line, e, fix, ok, tc.entry, tc.fix, tc.ok)
		}
	}
}

func TestCleanBlocklist(t *testing.T) {
	list, bad := CleanBlocklist([]string{"ann@acme.example", "", "ANN@acme.example", "*@evil.example", "@b.example", "evil.example", "nonsense"})
	if want := []string{"ann@acme.example", "@b.example"}; !slices.Equal(list, want) {
		t.Errorf("list = %q, want %q", list, want)
	}
	want := []BadBlockLine{{4, "*@evil.example", "@evil.example"}, {6, "evil.example", "@evil.example"}, {7, "nonsense", ""}}
	if !reflect.DeepEqual(bad, want) {
		t.Errorf("bad = %+v, want %+v", bad, want)
	}
}

func TestBlockForAndAddBlock(t *testing.T) {
	if e, ok := BlockFor("Ann@Acme.example", false); !ok || e != "ann@acme.example" {
		t.Errorf("BlockFor address = %q, %v", e, ok)
	}
	if e, ok := BlockFor("Ann@Acme.example", true); !ok || e != "@acme.example" {
		t.Errorf("BlockFor domain = %q, %v", e, ok)
	}
	if _, ok := BlockFor("not an address", true); ok {
		t.Error("BlockFor of a non-address is ok")
	}
	list := []string{"@acme.example"}
	if out, added := AddBlock(list, "ann@acme.example"); added || !slices.Equal(out, list) {
		t.Errorf("adding an address whose domain is blocked: %q, %v", out, added)
	}
	if out, added := AddBlock(list, "@acme.example"); added || !slices.Equal(out, list) {
		t.Errorf("adding a domain already there: %q, %v", out, added)
	}
	out, added := AddBlock(list, "bob@b.example")
	if !added || !slices.Equal(out, []string{"@acme.example", "bob@b.example"}) || len(list) != 1 {
		t.Errorf("adding a new address: %q, %v (list %q)", out, added, list)
	}
	if out, added := AddBlock([]string{"ann@acme.example"}, "@acme.example"); !added || len(out) != 2 {
		t.Errorf("adding the domain of a blocked address: %q, %v", out, added)
	}
}

// What Decide blocks is what the rule reads: a stored "*@domain" or bare
// domain (an older list, the organisation's) blocks the domain.
func TestDecideBlocksWhatTheRuleReads(t *testing.T) {
	for _, entry := range []string{"@northwind.example", "*@northwind.example", "northwind.example", "NANCY@northwind.example"} {
		m := base()
		s := DefaultSettings()
		s.Blocklist = []string{entry}
		d := Decide(Input{Msg: &m, Me: testMe, Excluded: testFolders, WindowStart: testWindow, Settings: s, Contacts: lookup})
		if d.Reason != Blocked {
			t.Errorf("entry %q: %+v, want blocked", entry, d)
		}
	}
}

func TestLifted(t *testing.T) {
	in := func(m Message, s Settings) Input {
		return Input{Msg: &m, Me: testMe, Excluded: testFolders, WindowStart: testWindow, Settings: s, Contacts: lookup}
	}
	blocked := DefaultSettings()
	blocked.Blocklist = []string{"@northwind.example"}
	private := base()
	private.Categories = []string{"Private"}
	secret := base()
	secret.Sensitivity = "confidential"
	internal := base()
	// A colleague who is also a contact (a partner's address in the
	// company's domain, say) makes internal mail that a contact is in.
	internal.From = from("alex@contoso-sales.example")
	internal.To = rcpts("alex.morgan@contoso.example")
	bcc := base()
	bcc.To, bcc.Bcc = rcpts("andrew@northwind.example"), rcpts("alex.morgan@contoso.example")
	junk := base()
	junk.FolderID = "junk"
	noClass := base()
	noClass.Class = ""
	noSens := base()
	noSens.Categories, noSens.Sensitivity = []string{"Private"}, ""
	for _, tc := range []struct {
		name   string
		m      Message
		s      Settings
		before Reason
		lift   []Reason
		after  Reason // "" when taken
	}{
		{"blocked", base(), blocked, Blocked, []Reason{Blocked}, ""},
		{"private category", private, DefaultSettings(), Private, []Reason{Private}, ""},
		{"confidential", secret, DefaultSettings(), SensitivityConfidential, []Reason{SensitivityConfidential}, ""},
		{"internal", internal, DefaultSettings(), Internal, []Reason{Internal}, NoContact},
		{"the wrong rule lifted", base(), blocked, Blocked, []Reason{Internal}, Blocked},
		{"bcc never", bcc, DefaultSettings(), OnlyBcc, []Reason{OnlyBcc}, OnlyBcc},
		{"folder never", junk, DefaultSettings(), JunkFolder, []Reason{JunkFolder}, JunkFolder},
		{"class unknown never", noClass, DefaultSettings(), ClassUnknown, []Reason{ClassUnknown}, ClassUnknown},
		{"private lifted, sensitivity unknown stays", noSens, DefaultSettings(), Private, []Reason{Private}, SensitivityUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := Decide(in(tc.m, tc.s)); d.Reason != tc.before {
				t.Fatalf("before: %+v, want %q", d, tc.before)
			}
			m := tc.m
			m.Lifted = tc.lift
			d := Decide(in(m, tc.s))
			if d.Reason != tc.after || (tc.after == "") != d.Taken() {
				t.Fatalf("lifted %q: %+v, want %q", tc.lift, d, tc.after)
			}
			if tc.after == "" && len(Lookups(in(m, tc.s))) == 0 {
				t.Error("Lookups ignores the lifted rule")
			}
		})
	}
}

// Explain's first failed verdict is Decide's reason, on every row of a
// table of messages; every rule is asked.
func TestExplainAgreesWithDecide(t *testing.T) {
	old := base()
	old.Received = testWindow.Add(-1)
	draft := base()
	draft.IsDraft = true
	junk := base()
	junk.FolderID = "junk"
	teams := base()
	teams.Class = "IPM.SkypeTeams.Message"
	private := base()
	private.Categories = []string{"Private"}
	bcc := base()
	bcc.To, bcc.Bcc = rcpts("andrew@northwind.example"), rcpts("alex.morgan@contoso.example")
	stranger := base()
	stranger.From = from("who@else.example")
	internal := base()
	internal.From = from("pat@contoso.example")
	noSens := base()
	noSens.Sensitivity = ""
	blocked := DefaultSettings()
	blocked.Blocklist = []string{"nancy@northwind.example"}
	for _, tc := range []struct {
		name string
		m    Message
		s    Settings
	}{
		{"taken", base(), DefaultSettings()}, {"old", old, DefaultSettings()}, {"draft", draft, DefaultSettings()},
		{"junk", junk, DefaultSettings()}, {"teams", teams, DefaultSettings()}, {"private", private, DefaultSettings()},
		{"bcc", bcc, DefaultSettings()}, {"stranger", stranger, DefaultSettings()}, {"internal", internal, DefaultSettings()},
		{"blocked", base(), blocked}, {"sensitivity unknown", noSens, DefaultSettings()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m
			in := Input{Msg: &m, Me: testMe, Excluded: testFolders, WindowStart: testWindow, Settings: tc.s, Contacts: lookup}
			vs := Explain(in)
			if len(vs) != 9 {
				t.Fatalf("%d verdicts, want 9: %+v", len(vs), vs)
			}
			first := Reason("")
			for _, v := range vs {
				if !v.Passed {
					first = v.Reason
					break
				}
			}
			if d := Decide(in); d.Reason != first {
				t.Errorf("Decide says %q, Explain's first failure %q: %+v", d.Reason, first, vs)
			}
		})
	}
	// Every rule is asked: a message failing two rules shows both.
	m := base()
	m.IsDraft = true
	m.FolderID = "junk"
	vs := Explain(Input{Msg: &m, Me: testMe, Excluded: testFolders, WindowStart: testWindow, Settings: DefaultSettings(), Contacts: lookup})
	if vs[1].Passed || vs[2].Passed || vs[2].Reason != JunkFolder || !vs[8].Passed {
		t.Errorf("draft in junk: %+v", vs)
	}
	m = base()
	m.Lifted = []Reason{Blocked}
	vs = Explain(Input{Msg: &m, Me: testMe, WindowStart: testWindow, Settings: blocked, Contacts: lookup})
	if v := vs[6]; v.Rule != RuleBlocklist || !v.Passed || !v.Lifted {
		t.Errorf("lifted blocklist verdict = %+v", v)
	}
}

func TestParticipants(t *testing.T) {
	m := base()
	m.From = &Address{Name: " Nancy Davolio ", Address: "Nancy@Northwind.example"}
	m.To = []Address{{Address: "alex.morgan@contoso.example"}, {Name: "Who", Address: "who@else.example"}}
	m.Cc = []Address{{Address: "nancy@northwind.example"}, {Address: "pat@contoso.example"}, {Address: "bad"}}
	got := Participants(Input{Msg: &m, Me: testMe, Contacts: lookup})
	want := []Participant{
		{Role: "From", Name: "Nancy Davolio", Address: "nancy@northwind.example", Contact: true},
		{Role: "To", Address: "alex.morgan@contoso.example", You: true, Internal: true},
		{Role: "To", Name: "Who", Address: "who@else.example"},
		{Role: "Cc", Address: "pat@contoso.example", Internal: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Participants =\n%+v\nwant\n%+v", got, want)
	}
}
