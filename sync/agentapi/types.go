// Package agentapi is the local API of the agent: a server in the agent and
// a client for the settings window and the command line. On Linux and macOS
// it runs on a Unix socket in the data directory (mode 0600, peer uid
// checked); on Windows on a named pipe whose name is per user and per data
// directory and whose security descriptor admits only the current user. A
// client refuses a pipe that was not created that way (someone else's,
// created first).
package agentapi

import (
	"context"
	"time"

	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/match"
	"mailsync/sync/setup"
)

// Decision is one recorded outcome of the rules for one message.
type Decision = engine.Decision

// Settings are everything the Options section edits. The agent answers
// with the rules in force: an option the organisation's policy sets shows
// the policy's value. Rules.Blocklist is the person's own list; the
// policy's entries are apart, in Policy.
type Settings struct {
	Rules        match.Settings `json:"rules"`
	StartAtLogin bool           `json:"startAtLogin"`
	// Policy is what the organisation sets of these (nil: nothing); the
	// agent ignores it in SetSettings.
	Policy *PolicyRules `json:"policy,omitempty"`
}

// PolicyRules are the options the organisation's policy sets: a non-nil
// option is locked to its value; Blocklist is added to the person's own.
type PolicyRules struct {
	IgnoreInternal *bool    `json:"ignoreInternal,omitempty"`
	StartAtLogin   *bool    `json:"startAtLogin,omitempty"`
	Blocklist      []string `json:"blocklist,omitempty"`
	HistoryDays    *int     `json:"historyDays,omitempty"`
}

// Setup is what Mail Sync needs before it can sign in (the Microsoft app,
// the directory, the ClientSuccess address) as it is in force, with where
// each value comes from.
type Setup struct {
	Fields []setup.Field `json:"fields"` // in the order of setup.Keys
	// ClientIDBuiltIn says the build carries an app ID, so a person needs
	// to set nothing before connecting.
	ClientIDBuiltIn bool `json:"clientIdBuiltIn"`
	// PolicyProblems says which of the organisation's values were ignored
	// and why, a sentence each.
	PolicyProblems []string `json:"policyProblems,omitempty"`
	Version        string   `json:"version"`
}

// Field returns the field of key.
func (s Setup) Field(key string) setup.Field {
	for _, f := range s.Fields {
		if f.Key == key {
			return f
		}
	}
	return setup.Field{Key: key}
}

// Ready reports whether an app ID is configured, so Connect can sign in.
func (s Setup) Ready() bool { return s.Field(setup.KeyClientID).Value != "" }

// API is what the settings window and the command line can ask of the agent.
// The Client in this package implements it over the socket; tests use fakes.
// Every method returns errors whose text is fit to show to a person.
type API interface {
	Status(ctx context.Context) (engine.Status, error)
	// Watch streams status changes until ctx ends or the agent goes away
	// (the channel is then closed). The current status is sent first.
	Watch(ctx context.Context) (<-chan engine.Status, error)
	// SyncNow asks for a pass and returns at once.
	SyncNow(ctx context.Context) error
	// Sync runs a pass, or joins the one in flight (PassResult.Joined),
	// and returns that pass's outcome once it has ended.
	Sync(ctx context.Context) (PassResult, error)
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	// Connect starts the browser sign-in in the agent and returns the
	// sign-in URL at once; the agent opens it in the browser when
	// openBrowser is set. The outcome arrives through the status
	// (SignIns, Account, SignInError).
	Connect(ctx context.Context, openBrowser bool) (signInURL string, err error)
	CancelConnect(ctx context.Context) error
	Disconnect(ctx context.Context) error
	CRMLogin(ctx context.Context, username, password string) error
	CRMLogout(ctx context.Context) error
	Settings(ctx context.Context) (Settings, error)
	SetSettings(ctx context.Context, s Settings) error
	// Setup returns the Microsoft app, directory and ClientSuccess address
	// in force.
	Setup(ctx context.Context) (Setup, error)
	// SetSetup changes what the person set: key (setup.Keys) to value, ""
	// to unset. Every value is checked first; one that is wrong, or locked
	// by the organisation, is refused with words naming its key, and then
	// nothing is saved.
	SetSetup(ctx context.Context, values map[string]string) error
	// Decisions returns recent decisions, newest first, whose subject,
	// counterpart, clients or reason contain query (case-insensitive).
	Decisions(ctx context.Context, query string, limit int) ([]Decision, error)
	// Unsure returns the uploads Mail Sync could not confirm for a day and
	// will not post again without the person (oldest first).
	Unsure(ctx context.Context) ([]engine.UnsureUpload, error)
	// DecideUnsure copies an unsure upload again (on the next pass, which
	// it asks for) or leaves it out; id is UnsureUpload.ID.
	DecideUnsure(ctx context.Context, id string, copyAgain bool) error
	// ShowWindow asks the agent to open (or raise) the settings window.
	ShowWindow(ctx context.Context) error
	// Doctor checks, read-only, that the configured services answer as
	// Mail Sync needs, and returns one result per check (see package
	// doctor). Failed checks are results, not an error: the error is for
	// an agent that could not run the checks at all.
	Doctor(ctx context.Context) (doctor.Report, error)

	// Activity returns what the Activity list shows for q (see
	// ActivityQuery).
	Activity(ctx context.Context, q ActivityQuery) ([]Decision, error)
	// SuggestContact returns what Add as contact starts from for an
	// address of an email that was not copied.
	SuggestContact(ctx context.Context, address string) (ContactSuggestion, error)
	// AddContact creates the contact in ClientSuccess, puts it in the
	// local directory and starts a pass that copies its emails still
	// inside the window. Without a client named and with none or several
	// suggested, it returns a *ClientChoiceError.
	AddContact(ctx context.Context, c NewContact) (AddedContact, error)
	// BlockAddress adds an address, or its whole domain, to the
	// blocklist (as Options saves it) and returns the entry.
	BlockAddress(ctx context.Context, address string, wholeDomain bool) (string, error)
	// CopyAnyway lifts, for the one email with Decision.Key key, the rule
	// the person chose that skipped it (internal, blocklist, private),
	// keeps that choice for later passes and starts a pass.
	CopyAnyway(ctx context.Context, key string) error
	// PreviewBackfill reads the mail of the days (1 to 365) before the
	// sync window and returns what a backfill would copy (Emails,
	// Clients), uploading nothing. It takes as long as that reading.
	PreviewBackfill(ctx context.Context, days int) (engine.Backfill, error)
	// StartBackfill starts copying the mail of the days before the sync
	// window and returns at once; Status.Backfill shows its progress.
	StartBackfill(ctx context.Context, days int) error
	// Backfill starts copying as StartBackfill does and returns once it
	// has ended, with what it copied.
	Backfill(ctx context.Context, days int) (engine.Backfill, error)
	// CancelBackfill stops the copy of older mail in flight; what it
	// copied stays.
	CancelBackfill(ctx context.Context) error
}

// BackfillRequest is the body of the backfill commands.
type BackfillRequest struct {
	Days int `json:"days"`
}

// PassResult is the outcome of one pass as Sync returns it.
type PassResult struct {
	// Joined is true when the pass was already running when Sync was
	// called: its counts include work done before the call.
	Joined      bool              `json:"joined"`
	Start       time.Time         `json:"start"`
	End         time.Time         `json:"end"`
	WindowStart time.Time         `json:"windowStart"` // the oldest receive time the pass listed from
	Counts      engine.PassCounts `json:"counts"`
	// Pending is how many uploads left unfinished by an earlier pass were
	// resolved at its start.
	Pending int `json:"pending"`
}

// ResultOf is the PassResult of sum.
func ResultOf(sum engine.Summary, joined bool) PassResult {
	return PassResult{Joined: joined, Start: sum.Start, End: sum.End, WindowStart: sum.WindowStart,
		Counts: sum.Counts, Pending: sum.Pending}
}

// Worder is implemented by an API that puts its errors into words itself;
// the server then sends those words rather than the error's text.
type Worder interface {
	Words(err error) string
}

// refusedEndpointError is a dial that reached something at the agent's
// address that is not this user's agent (on Windows: a named pipe that
// someone else created first). The client refuses to talk to it.
type refusedEndpointError struct{ reason string }

func (e *refusedEndpointError) Error() string {
	return localAPIRefused + e.reason
}

// StatusReport is what `mailsync status --json` prints: the status with
// the state in words, the problem to show and the actions on offer, all
// derived from the one status, as the tray and the window render it.
type StatusReport struct {
	engine.Status
	SetUp        bool           `json:"setUp"`
	StateName    string         `json:"stateName"`
	Problem      string         `json:"problem,omitempty"`
	Actions      engine.Actions `json:"actions"`
	AgentRunning bool           `json:"agentRunning"`
	// PolicyProblems are the organisation's values that were ignored.
	PolicyProblems []string `json:"policyProblems,omitempty"`
}

// Report is the StatusReport of st.
func Report(st engine.Status, agentRunning bool) StatusReport {
	if st.LastCounts.Skipped == nil {
		// Scripts read an empty table, never null.
		st.LastCounts.Skipped = map[string]int{}
	}
	if c := st.LastCopy; c != nil && c.Counts.Skipped == nil {
		cp := *c
		cp.Counts.Skipped = map[string]int{}
		st.LastCopy = &cp
	}
	return StatusReport{Status: st, SetUp: true, StateName: st.State.String(), Problem: st.Problem(),
		Actions: st.Actions(), AgentRunning: agentRunning}
}
