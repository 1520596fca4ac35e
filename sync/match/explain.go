package match

import "slices"

// Verdict is what one rule says of a message, for the details Activity
// shows: every rule is asked, not only up to the first that failed.
type Verdict struct {
	// Rule names the rule in a few words.
	Rule string `json:"rule"`
	// Passed is true when the rule lets the message through.
	Passed bool `json:"passed"`
	// Reason is why it did not, when !Passed.
	Reason Reason `json:"reason,omitempty"`
	// Lifted is true when the rule would stop the message but the person
	// lifted it for this one ("Copy this one anyway").
	Lifted bool `json:"lifted,omitempty"`
}

// The rules as Explain names them, in the order Decide asks them.
const (
	RuleWindow      = "Received inside the window"
	RuleDraft       = "Not a draft"
	RuleFolder      = "In a folder Mail Sync reads"
	RuleKind        = "An email"
	RulePrivate     = "Not private"
	RuleParticipant = "You are in From, To or Cc"
	RuleBlocklist   = "No blocked address"
	RuleInternal    = "Someone outside your organization"
	RuleContact     = "A ClientSuccess contact takes part"
)

// Explain asks every rule of Decide about in.Msg on its own and returns
// their verdicts in Decide's order. It does not change the decision:
// Decide's reason is the first verdict that did not pass.
func Explain(in Input) []Verdict {
	m := in.Msg
	if m == nil {
		return nil
	}
	parts := participants(m)
	s := in.Settings
	v := func(rule string, r Reason) Verdict { return Verdict{Rule: rule, Passed: r == "", Reason: r} }
	var out []Verdict
	r := Reason("")
	if m.Received.Before(in.WindowStart) {
		r = TooOld
	}
	out = append(out, v(RuleWindow, r))
	r = ""
	if m.IsDraft {
		r = DraftsFolder
	}
	out = append(out, v(RuleDraft, r))
	r = ""
	if kind, ok := in.Excluded.Kind(m.FolderID); ok {
		r = kind.reason()
	}
	out = append(out, v(RuleFolder, r))
	r = ""
	switch {
	case trimmed(m.Class) == "":
		r = ClassUnknown
	case !IsMailClass(m.Class):
		r = NotEmail(m.Class)
	}
	out = append(out, v(RuleKind, r))
	r = privateReason(m, s)
	if r == "" {
		// The class is known here, so only the sensitivity is asked.
		r = unknownReason(&Message{Class: "IPM.Note", Sensitivity: m.Sensitivity}, s)
	}
	out = append(out, lift(m, v(RulePrivate, r)))
	r = ""
	if !slices.ContainsFunc(parts, func(p participant) bool { return in.Me.Is(p.addr) }) {
		r = NotParticipant
		for _, b := range m.Bcc {
			if a, ok := NormalizeAddress(b.Address); ok && in.Me.Is(a) {
				r = OnlyBcc
			}
		}
	}
	out = append(out, v(RuleParticipant, r))
	r = ""
	bl := newBlocklist(s.Blocklist)
	if slices.ContainsFunc(parts, func(p participant) bool { return bl.blocks(p.addr) }) {
		r = Blocked
	}
	out = append(out, lift(m, v(RuleBlocklist, r)))
	r = ""
	if s.IgnoreInternal && !slices.ContainsFunc(parts, func(p participant) bool { return !in.Me.Internal(p.addr) }) {
		r = Internal
	}
	out = append(out, lift(m, v(RuleInternal, r)))
	r = ""
	if len(takes(parts, in.Me, in.Contacts)) == 0 {
		r = NoContact
	}
	out = append(out, v(RuleContact, r))
	return out
}

// lift marks a failed verdict the person lifted as passed.
func lift(m *Message, v Verdict) Verdict {
	if !v.Passed && m.lifted(v.Reason) {
		v.Passed, v.Lifted = true, true
	}
	return v
}

// Participant is one From, To or Cc entry of a message, for the details
// Activity shows and the fixes it offers.
type Participant struct {
	// Role is "From", "To" or "Cc".
	Role    string `json:"role"`
	Name    string `json:"name,omitempty"`
	Address string `json:"address"` // normalised
	// You is true for an address of the mailbox owner; Internal for one
	// in the owner's domains (You included).
	You      bool `json:"you,omitempty"`
	Internal bool `json:"internal,omitempty"`
	// Contact is true when the address is a ClientSuccess contact with a
	// client.
	Contact bool `json:"contact,omitempty"`
}

// Participants lists the valid From, To and Cc addresses of in.Msg in that
// order, each once (its first role), with what matching knows of each.
func Participants(in Input) []Participant {
	m := in.Msg
	if m == nil {
		return nil
	}
	var out []Participant
	seen := map[string]bool{}
	add := func(role string, r Address) {
		a, ok := NormalizeAddress(r.Address)
		if !ok || seen[a] {
			return
		}
		seen[a] = true
		p := Participant{Role: role, Name: trimmed(r.Name), Address: a, You: in.Me.Is(a), Internal: in.Me.Internal(a)}
		if in.Contacts != nil && !p.You {
			p.Contact = slices.ContainsFunc(in.Contacts(a), func(c Contact) bool { return c.ClientID != 0 })
		}
		out = append(out, p)
	}
	if m.From != nil {
		add("From", *m.From)
	}
	for _, r := range m.To {
		add("To", r)
	}
	for _, r := range m.Cc {
		add("Cc", r)
	}
	return out
}

// Reason is why a message in a folder of kind k is not taken.
func (k FolderKind) Reason() Reason { return k.reason() }
