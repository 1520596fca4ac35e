package engine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"mailsync/storage"
	"mailsync/sync/match"
)

// State is what the engine is doing, as the tray icon and the window show it.
// Values are persisted and sent over the local API, so they are explicit.
type State int

const (
	SignedOut      State = 0 // no Microsoft account connected
	Idle           State = 1 // connected, waiting for the next pass
	Syncing        State = 2 // a pass is running
	NeedsReconnect State = 3 // the refresh token was refused; the person must connect again
	Error          State = 4 // the last pass failed; the next one will retry
	Paused         State = 5 // the person paused syncing
	CRMSignedOut   State = 6 // connected to Microsoft 365, but no ClientSuccess account is signed in
)

// stateNames are the states as JSON carries them (`mailsync status
// --json` and the local API): stable names for scripts, apart from the
// words String gives a person.
var stateNames = map[State]string{
	SignedOut:      "signed-out",
	Idle:           "idle",
	Syncing:        "syncing",
	NeedsReconnect: "needs-reconnect",
	Error:          "error",
	Paused:         "paused",
	CRMSignedOut:   "crm-signed-out",
}

// MarshalText writes s as its name ("signed-out", "idle", ...).
func (s State) MarshalText() ([]byte, error) {
	if n, ok := stateNames[s]; ok {
		return []byte(n), nil
	}
	return nil, fmt.Errorf("engine: state %d has no name", int(s))
}

// UnmarshalText reads a state's name as MarshalText writes it.
func (s *State) UnmarshalText(b []byte) error {
	for st, n := range stateNames {
		if n == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("engine: unknown state %q", b)
}

// UnmarshalJSON reads a state's name, or the number an agent of an
// earlier version sends.
func (s *State) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*s = State(n)
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return fmt.Errorf("engine: read state %s: %w", b, err)
	}
	return s.UnmarshalText([]byte(name))
}

// Derive is the one place the state is decided: from the facts in s (the
// connected account, the ClientSuccess user, the Microsoft sign-in refused,
// a pass in flight, paused, the last pass's error). The Board calls it on
// every change, so State is never written by anyone else. In order of
// precedence: a missing or refused Microsoft sign-in (nothing can run until
// the person acts), a pass in flight (a pause takes effect when it ends),
// paused, a system keyring that does not answer, a missing ClientSuccess
// sign-in, the last pass's error, up to date.
func Derive(s Status) State {
	switch {
	case s.Account == nil:
		return SignedOut
	case s.Reconnect != "":
		return NeedsReconnect
	case s.Running:
		return Syncing
	case s.Paused:
		return Paused
	case s.Keyring != "":
		return Error
	case s.CRMUser == "":
		return CRMSignedOut
	case s.LastError != "":
		return Error
	}
	return Idle
}

// Actions are what a person can ask for in a status: the tray's menu and
// the window's buttons enable exactly these.
type Actions struct {
	SyncNow bool `json:"syncNow"` // a pass can run now
	Pause   bool `json:"pause"`   // syncing can be paused
	Resume  bool `json:"resume"`  // syncing is paused and can be resumed
}

// Actions derives what a person can ask for from s.State (which the Board
// derived) and the pause fact: Sync now only when a pass could start at
// once, Pause only with a connected mailbox, Resume only while paused.
func (s Status) Actions() Actions {
	return Actions{
		SyncNow: s.State == Idle || s.State == Error,
		Pause:   s.Account != nil && !s.Paused,
		Resume:  s.Paused,
	}
}

// NextSync is when the next scheduled pass runs, or the zero time when none
// will: a pass needs a connected mailbox, a ClientSuccess sign-in and
// syncing not paused, and while one runs there is no next one yet. The
// tray's tooltip and `mailsync status` show a time only when this has one.
func (s Status) NextSync() time.Time {
	if s.State == Idle || s.State == Error {
		return s.NextPass
	}
	return time.Time{}
}

// Problem is what is wrong, in words, when the state is one that has a
// reason to show (NeedsReconnect or Error); "" otherwise, so an error of
// the past never shows beside a state that has moved on.
func (s Status) Problem() string {
	switch s.State {
	case NeedsReconnect:
		return s.Reconnect
	case Error:
		if s.Keyring != "" {
			return s.Keyring
		}
		return s.LastError
	}
	return ""
}

// Account is the connected Microsoft 365 mailbox.
type Account = storage.Account

// PassCounts summarises one pass.
type PassCounts struct {
	Listed  int            `json:"listed"`  // messages in the window
	Synced  int            `json:"synced"`  // messages uploaded to at least one client this pass
	Skipped map[string]int `json:"skipped"` // skip reason -> count
	Uploads int            `json:"uploads"` // interactions created this pass
	Already int            `json:"already"` // matched but already in the ledger
}

// Words summarises a pass in one unit, emails, as every view shows it:
// "12 emails copied · 40 skipped", and when the pass met emails copied by
// an earlier one, "0 emails copied (14 already copied before) · 18 skipped".
// Interactions (one per client an email went to) are detail, shown apart.
func (c PassCounts) Words() string {
	s := Emails(c.Synced) + " copied"
	if c.Already > 0 {
		s += " (" + strconv.Itoa(c.Already) + " already copied before)"
	}
	return s + " · " + strconv.Itoa(c.SkippedTotal()) + " skipped"
}

// Quiet reports whether the pass copied no email: the views then keep
// showing the last pass that did (Status.PassLines).
func (c PassCounts) Quiet() bool { return c.Synced == 0 }

// PassRecord is one finished pass: when it ended and what it counted.
type PassRecord struct {
	End    time.Time  `json:"end"`
	Counts PassCounts `json:"counts"`
}

// PassLines says what the passes did, in the words the Sync page and
// `mailsync status` show, with times as when formats them. A pass that
// copied nothing does not hide the last one that did: "14:02 · 14 emails
// copied · 3 skipped", then "Checked 15:02, nothing new to copy". Before
// any pass copied something, a pass that skipped emails says so. No line
// before the first pass.
func (s Status) PassLines(when func(time.Time) string) []string {
	if s.LastPass.IsZero() {
		return nil
	}
	c := s.LastCounts
	if !c.Quiet() || s.LastCopy == nil && c.SkippedTotal() > 0 {
		return []string{when(s.LastPass) + " · " + c.Words()}
	}
	var out []string
	if lc := s.LastCopy; lc != nil && lc.End.Before(s.LastPass) {
		out = append(out, when(lc.End)+" · "+lc.Counts.Words())
	}
	return append(out, fmt.Sprintf(checkedNothingNew, when(s.LastPass)))
}

// Continues is the mailbox whose connecting again continues where it left
// off (storage.Meta.Continues) — the connected one, or the one
// disconnected last — and the oldest receive time its next pass lists
// from at now (WindowStart, at most MaxCatchUp back); nil when another
// mailbox would start fresh anyway.
func (s Status) Continues(now time.Time) (*Account, time.Time) {
	a := s.Account
	if a == nil {
		a = s.Previous
	}
	if a == nil || s.ConnectedAt.IsZero() {
		return nil, time.Time{}
	}
	return a, WindowStart(s.ConnectedAt, s.LastSuccess, now)
}

// RestorePasses sets the facts of s that the state file keeps about the
// mailbox and its passes (m), so that the views show them again after a
// restart: the last pass and what it counted, the last one that copied an
// email, the mailbox disconnected last, and where its next pass lists from.
// Counts that do not read are left out.
func (s *Status) RestorePasses(m storage.Meta) {
	s.LastPass = m.LastPassEnd
	s.LastCounts = PassCounts{}
	if len(m.LastCounts) > 0 && json.Unmarshal(m.LastCounts, &s.LastCounts) != nil {
		s.LastCounts = PassCounts{}
	}
	s.LastCopy = nil
	var c PassCounts
	if !m.LastCopyEnd.IsZero() && json.Unmarshal(m.LastCopyCounts, &c) == nil {
		s.LastCopy = &PassRecord{End: m.LastCopyEnd, Counts: c}
	}
	s.Previous = nil
	if m.Account == nil && m.Disconnected != nil {
		a := *m.Disconnected
		s.Previous = &a
	}
	s.ConnectedAt, s.LastSuccess = m.ConnectedAt, m.LastSuccessStart
}

// Emails is n with its unit: "1 email", "3 emails".
func Emails(n int) string {
	if n == 1 {
		return "1 email"
	}
	return strconv.Itoa(n) + " emails"
}

// SkippedTotal is the number of messages skipped, whatever the reason.
func (c PassCounts) SkippedTotal() int {
	n := 0
	for _, v := range c.Skipped {
		n += v
	}
	return n
}

// Progress is the position of the pass in flight.
type Progress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// Status is everything the tray and the settings window render. It is a
// value: subscribers get copies and never share maps with the engine.
//
// State is derived (Derive) from the facts beside it each time the Board
// changes; writers set facts only.
type Status struct {
	State      State      `json:"state"`
	Account    *Account   `json:"account,omitempty"`
	CRMUser    string     `json:"crmUser,omitempty"`   // ClientSuccess username, "" when signed out
	Paused     bool       `json:"paused,omitempty"`    // the person paused syncing
	Running    bool       `json:"running,omitempty"`   // a pass is in flight
	Reconnect  string     `json:"reconnect,omitempty"` // why Microsoft refused the sign-in, "" when it did not
	LastPass   time.Time  `json:"lastPass,omitzero"`
	LastCounts PassCounts `json:"lastCounts"`
	// LastCopy is the last pass that copied an email (it may be LastPass);
	// nil when none did that this state file remembers.
	LastCopy *PassRecord `json:"lastCopy,omitempty"`
	// Previous is the mailbox disconnected last, while none is connected:
	// connecting it again continues where it left off (Continues).
	Previous *Account `json:"previous,omitempty"`
	// ConnectedAt is when the mailbox (connected, or Previous) was first
	// connected, and LastSuccess the start of its last pass that finished
	// its work: where its next pass lists from (Continues).
	ConnectedAt time.Time `json:"connectedAt,omitzero"`
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	SyncedToday int       `json:"syncedToday"`
	NextPass    time.Time `json:"nextPass,omitzero"`
	LastError   string    `json:"lastError,omitempty"` // why the last pass failed, in words; "" after a good or cancelled one
	Keyring     string    `json:"keyring,omitempty"`   // what to do about a system keyring that did not answer, in words; "" once it answers
	Progress    *Progress `json:"progress,omitempty"`
	Connecting  bool      `json:"connecting,omitempty"`  // a browser sign-in is waiting
	SignInURL   string    `json:"signInUrl,omitempty"`   // the URL of the sign-in in flight
	Passes      int       `json:"passes"`                // passes attempted since the agent started, done or failed
	SignIns     int       `json:"signIns"`               // browser sign-ins finished since the agent started
	SetupSaves  int       `json:"setupSaves,omitempty"`  // changes of the setup (agentapi.Setup) since the agent started: a window reads it again
	SignInError string    `json:"signInError,omitempty"` // why the last browser sign-in did not connect
	// ApprovalURL is the admin-consent link for the person's IT admin when
	// the last browser sign-in ended in a consent problem, "" otherwise.
	ApprovalURL string `json:"approvalUrl,omitempty"`
	Sandbox     bool   `json:"sandbox,omitempty"` // the agent runs against the built-in sandbox (mailsync demo)
	// Backfill is the last copy of older mail asked for since the agent
	// started (or the one it resumed): running or ended; nil when none.
	Backfill *Backfill `json:"backfill,omitempty"`
}

// Decision is one recorded outcome of the rules for one message, as the
// Activity list shows it and the local API sends it.
type Decision struct {
	Time        time.Time `json:"time"`      // when the decision was made
	Received    time.Time `json:"received"`  // when the message was received
	MessageID   string    `json:"messageId"` // internetMessageId
	Subject     string    `json:"subject"`
	Counterpart string    `json:"counterpart"` // the other party, e.g. "Ann Lee <ann@acme.com>"
	Synced      bool      `json:"synced"`
	Clients     []string  `json:"clients,omitempty"` // client names it went to, when Synced
	Reason      string    `json:"reason,omitempty"`  // skip reason in words, when !Synced
	// Key names the message for Activity's fixes: its LedgerKey, or
	// "graph:" and its Graph id when it has no Message-ID.
	Key string `json:"key,omitempty"`
	// Participants are From, To and Cc, with what matching knew of each.
	Participants []match.Participant `json:"participants,omitempty"`
	// Folder says, for a folder Mail Sync never reads, which (the words of
	// its reason); "" for any other folder.
	Folder string `json:"folder,omitempty"`
	// Verdicts is what each rule said (match.Explain).
	Verdicts []match.Verdict `json:"verdicts,omitempty"`
	// Lifted are the rules the person lifted for this message.
	Lifted []string `json:"lifted,omitempty"`
	// Copies are the interactions created for it, when Synced.
	Copies []Copy `json:"copies,omitempty"`
	// Waiting: the options changed since the last sync decided it, and
	// no longer skip it; the next sync copies it (Result says so).
	Waiting bool `json:"waiting,omitempty"`
}

// Copy is one interaction created for a message.
type Copy struct {
	ClientID      int64  `json:"clientId"`
	Client        string `json:"client,omitempty"`        // its name, when known
	InteractionID int64  `json:"interactionId,omitempty"` // 0: settled without one
}
