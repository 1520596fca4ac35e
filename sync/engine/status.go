package engine

import (
	"time"

	"mailsync/storage"
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
)

// String returns the state in words a person understands.
func (s State) String() string {
	switch s {
	case SignedOut:
		return "Not connected"
	case Idle:
		return "Up to date"
	case Syncing:
		return "Syncing"
	case NeedsReconnect:
		return "Reconnect needed"
	case Error:
		return "Sync failed"
	case Paused:
		return "Paused"
	}
	return "Unknown"
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
type Status struct {
	State       State      `json:"state"`
	Account     *Account   `json:"account,omitempty"`
	CRMUser     string     `json:"crmUser,omitempty"` // ClientSuccess username, "" when signed out
	LastPass    time.Time  `json:"lastPass,omitzero"`
	LastCounts  PassCounts `json:"lastCounts"`
	SyncedToday int        `json:"syncedToday"`
	NextPass    time.Time  `json:"nextPass,omitzero"`
	LastError   string     `json:"lastError,omitempty"` // in words a person understands
	Progress    *Progress  `json:"progress,omitempty"`
	Connecting  bool       `json:"connecting,omitempty"`  // a browser sign-in is waiting
	SignInURL   string     `json:"signInUrl,omitempty"`   // the URL of the sign-in in flight
	Passes      int        `json:"passes"`                // passes attempted since the agent started, done or failed
	SignIns     int        `json:"signIns"`               // browser sign-ins finished since the agent started
	SignInError string     `json:"signInError,omitempty"` // why the last browser sign-in did not connect
	Sandbox     bool       `json:"sandbox,omitempty"`     // the agent runs against the built-in sandbox (mailsync demo)
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
}
