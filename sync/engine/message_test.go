package engine

import (
	"reflect"
	"testing"
	"time"

	"mailsync/sync/graph"
	"mailsync/sync/match"
)

func recipient(name, addr string) graph.Recipient {
	return graph.Recipient{EmailAddress: graph.EmailAddress{Name: name, Address: addr}}
}

func TestMatchMessageCarriesWhatTheRulesRead(t *testing.T) {
	at := time.Date(2026, 3, 10, 11, 0, 0, 0, time.UTC)
	from := recipient("Nancy", "nancy@northwind.example")
	m := graph.Message{
		ID:                            "m1",
		InternetMessageID:             "<m1@northwind.example>",
		From:                          &from,
		Sender:                        &graph.Recipient{EmailAddress: graph.EmailAddress{Address: "assistant@northwind.example"}},
		ToRecipients:                  []graph.Recipient{recipient("Alex", "alex@contoso.example")},
		CcRecipients:                  []graph.Recipient{recipient("", "dana@fabrikam.example")},
		BccRecipients:                 []graph.Recipient{recipient("", "kim@consult.example")},
		ReceivedDateTime:              at,
		ParentFolderID:                "inbox",
		IsDraft:                       true,
		Categories:                    []string{"Private"},
		SingleValueExtendedProperties: []graph.ExtendedProperty{{ID: "String 0x1a", Value: "IPM.Note.SMIME"}},
	}
	want := match.Message{
		From:       &match.Address{Name: "Nancy", Address: "nancy@northwind.example"},
		To:         []match.Address{{Name: "Alex", Address: "alex@contoso.example"}},
		Cc:         []match.Address{{Address: "dana@fabrikam.example"}},
		Bcc:        []match.Address{{Address: "kim@consult.example"}},
		Received:   at,
		FolderID:   "inbox",
		IsDraft:    true,
		Class:      "IPM.Note.SMIME",
		Categories: []string{"Private"},
	}
	if got := MatchMessage(&m); !reflect.DeepEqual(got, want) {
		t.Fatalf("MatchMessage =\n%+v\nwant\n%+v", got, want)
	}
	if got := MatchMessage(&graph.Message{}); got.From != nil || got.To != nil || got.Class != "" {
		t.Fatalf("empty message = %+v", got)
	}
}

// TestSenderIsNotAParticipant runs Graph messages through the conversion and
// the rules: who pressed Send on behalf of From counts for nothing.
func TestSenderIsNotAParticipant(t *testing.T) {
	me := match.NewMe([]string{"alex.morgan@contoso.example"})
	contacts := map[string][]match.Contact{"nancy@northwind.example": {{ID: 11, ClientID: 1}}, "andrew@northwind.example": {{ID: 12, ClientID: 1}}}
	decide := func(from, to, sender string) match.Decision {
		f, s := recipient("", from), recipient("", sender)
		m := graph.Message{From: &f, Sender: &s, ToRecipients: []graph.Recipient{recipient("", to)}}
		rm := MatchMessage(&m)
		return match.Decide(match.Input{Msg: &rm, Me: me, Settings: match.DefaultSettings(),
			Contacts: func(a string) []match.Contact { return contacts[a] }})
	}
	if d := decide("jordan@contoso.example", "alex.morgan@contoso.example", "nancy@northwind.example"); d.Reason != match.Internal {
		t.Errorf("contact only as sender: %+v, want %q", d, match.Internal)
	}
	if d := decide("nancy@northwind.example", "andrew@northwind.example", "alex.morgan@contoso.example"); d.Reason != match.NotParticipant {
		t.Errorf("user only as sender: %+v, want %q", d, match.NotParticipant)
	}
}
