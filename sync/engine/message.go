package engine

import (
	"mailsync/sync/graph"
	"mailsync/sync/match"
)

// MatchMessage is what the rules read of a message Graph listed: the
// participants (From, To, Cc, Bcc; not `sender`, which never makes anyone a
// participant), where it sits, its class and categories.
func MatchMessage(m *graph.Message) match.Message {
	out := match.Message{
		To:         matchAddresses(m.ToRecipients),
		Cc:         matchAddresses(m.CcRecipients),
		Bcc:        matchAddresses(m.BccRecipients),
		Received:   m.ReceivedDateTime,
		FolderID:   m.ParentFolderID,
		IsDraft:    m.IsDraft,
		Class:      m.MessageClass(),
		Categories: m.Categories,
		// "Never copy private messages" covers Outlook's sensitivity too.
		Sensitivity: m.Sensitivity(),
	}
	if m.From != nil {
		out.From = &match.Address{Name: m.From.EmailAddress.Name, Address: m.From.EmailAddress.Address}
	}
	return out
}

func matchAddresses(rs []graph.Recipient) []match.Address {
	if len(rs) == 0 {
		return nil
	}
	out := make([]match.Address, len(rs))
	for i, r := range rs {
		out[i] = match.Address{Name: r.EmailAddress.Name, Address: r.EmailAddress.Address}
	}
	return out
}
