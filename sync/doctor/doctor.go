// Package doctor checks, read-only, that the services Mail Sync is
// configured for answer as it needs: the Microsoft sign-in and token,
// Graph's /me, the excluded folders and one page of mail, then the
// ClientSuccess sign-in, the v2 contact search, a v1 contact look-up and
// one page of a client's timeline (the v2 note search). A person or
// support runs it when something seems wrong (`mailsync doctor`, or Check connection in the
// settings window).
//
// The checks go through the same clients a pass uses (sync/graph,
// sync/crm), so they meet what a pass would meet. They never write: no
// interaction is created, no mail is touched. A check that fails says what
// came back instead — the HTTP status and the shape of the answer (keys and
// types, never values, never a token or password) — and what that means
// in words.
package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"mailsync/sync/crm"
	"mailsync/sync/graph"
	"mailsync/sync/printable"
	"mailsync/sync/remote"
)

// Checks are the names of every check, in the order a Report lists them.
var Checks = []string{
	CheckMicrosoftSignIn, CheckMe, CheckFolders, CheckMail,
	CheckCRMSignIn, CheckContactSearch, CheckContactLookup, CheckInteractions,
}

// Outcome is how one check ended. Values are explicit: they travel in JSON.
type Outcome int

// Outcomes.
const (
	// Passed: the service answered as Mail Sync needs.
	Passed Outcome = 1
	// Failed: it did not; Result.Detail says what came back and what it means.
	Failed Outcome = 2
	// Skipped: the check could not run, because one it needs failed or
	// there was nothing to check with; Result.Detail says which.
	Skipped Outcome = 3
)

// MarshalText writes the outcome as its word ("ok", "failed", "skipped"),
// so `mailsync doctor --json` reads as the lines do.
func (o Outcome) MarshalText() ([]byte, error) {
	switch o {
	case Passed, Failed, Skipped:
		return []byte(o.String()), nil
	}
	return nil, fmt.Errorf("doctor: no outcome %d", int(o))
}

// UnmarshalText reads what MarshalText writes.
func (o *Outcome) UnmarshalText(b []byte) error {
	for _, x := range []Outcome{Passed, Failed, Skipped} {
		if string(b) == x.String() {
			*o = x
			return nil
		}
	}
	return fmt.Errorf("doctor: unknown outcome %q", b)
}

func (o Outcome) String() string {
	switch o {
	case Passed:
		return "ok"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	}
	return fmt.Sprintf("outcome %d", int(o))
}

// Result is the outcome of one check.
type Result struct {
	Check   string  `json:"check"`
	Outcome Outcome `json:"outcome"`
	// Detail is a short note on a pass ("12 messages"); on a failure what
	// came back and what it means; on a skip why it did not run. It never
	// holds a token, a password or a value read from an answer.
	Detail string `json:"detail,omitempty"`
}

// Line is the result as one line of text: "Excluded folders: ok (9 folders)".
func (r Result) Line() string {
	s := r.Check + ": " + r.Outcome.String()
	if r.Detail == "" {
		return s
	}
	if r.Outcome == Passed {
		return s + " (" + r.Detail + ")"
	}
	return s + " — " + r.Detail
}

// Report is the outcome of every check, in the order of Checks.
type Report struct {
	Results []Result `json:"results"`
}

// OK reports whether every check passed.
func (r Report) OK() bool {
	if len(r.Results) == 0 {
		return false
	}
	for _, res := range r.Results {
		if res.Outcome != Passed {
			return false
		}
	}
	return true
}

// Count is how many checks passed, failed and could not run.
func (r Report) Count() (passed, failed, skipped int) {
	for _, res := range r.Results {
		switch res.Outcome {
		case Passed:
			passed++
		case Failed:
			failed++
		default:
			skipped++
		}
	}
	return passed, failed, skipped
}

// FirstFailure is the first check that failed, in the order of Checks: the
// one to put right first, since the checks after it may need it.
func (r Report) FirstFailure() (Result, bool) {
	i := slices.IndexFunc(r.Results, func(x Result) bool { return x.Outcome == Failed })
	if i < 0 {
		return Result{}, false
	}
	return r.Results[i], true
}

// Result returns the result of the named check.
func (r Report) Result(check string) (Result, bool) {
	i := slices.IndexFunc(r.Results, func(x Result) bool { return x.Check == check })
	if i < 0 {
		return Result{}, false
	}
	return r.Results[i], true
}

// Config says what to check with. A service that is not set up (no token
// source, no ClientSuccess user) fails its sign-in check with NotConnected
// or CRMSignedOut as the reason, and its other checks are skipped.
type Config struct {
	GraphURL string
	// Microsoft gives Graph access tokens for the connected mailbox;
	// nil when Mail Sync is not connected to Office 365.
	Microsoft oauth2.TokenSource
	// NotConnected says, in words, why Microsoft is nil.
	NotConnected string
	// Authority is the Microsoft identity platform the token comes from,
	// named when it cannot be reached.
	Authority string
	// MicrosoftHTTP is the client Graph requests go through under the
	// token (nil: remote.NewHTTPClient).
	MicrosoftHTTP *http.Client

	CRMURL  string
	CRMUser string // "" when not signed in to ClientSuccess
	// CRMPassword reads the ClientSuccess password (from the keyring).
	CRMPassword func() (string, error)
	// CRMSignedOut says, in words, why CRMUser is empty.
	CRMSignedOut string
	// CRMHTTP is the client ClientSuccess requests go through (nil:
	// remote.NewHTTPClient).
	CRMHTTP *http.Client

	// Now is the time the mail page is read back from (time.Now when zero).
	Now time.Time
}

// Policy is how the checks retry: once, briefly. A person waits for the
// answer, and a service that needs the full retry budget of a pass is worth
// reporting.
var Policy = remote.Policy{MaxAttempts: 2, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}

// LookupsAtMost bounds the v1 look-ups one run makes while looking for an
// address that is a contact.
const LookupsAtMost = 5

// MailWindow is how far back the mail check lists.
const MailWindow = 24 * time.Hour

// ContactSearchSize is the page size the v2 search check asks for.
const ContactSearchSize = 20

// Run runs every check in order and returns their results. It never writes
// to either service. ctx bounds the whole run; checks left when it ends
// fail with the reason.
func Run(ctx context.Context, cfg Config) Report {
	r := &run{cfg: cfg, now: cfg.Now}
	if r.now.IsZero() {
		r.now = time.Now()
	}
	r.microsoft(ctx)
	r.clientSuccess(ctx)
	return Report{Results: r.results}
}

// run is one doctor run: the results so far and what earlier checks found
// that later ones use.
type run struct {
	cfg     Config
	now     time.Time
	results []Result

	me         graph.Me
	addresses  []string // correspondents seen in the mail page, in order
	contactEm  []string // addresses of contacts the v2 search returned
	clientID   int64    // a client to read interactions of
	signedInMS bool
}

func (r *run) add(check string, o Outcome, detail string) {
	// A detail may quote what a service said: a person reads it, so it
	// carries no control characters (printable.Text).
	r.results = append(r.results, Result{Check: check, Outcome: o, Detail: printable.Text(withoutAddresses(detail))})
}

// addressPattern matches what looks like an e-mail address.
var addressPattern = regexp.MustCompile(`[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

// withoutAddresses hides e-mail addresses in a detail: the words of an
// error can quote what a service said, and a service may name the address
// it was asked about.
func withoutAddresses(s string) string {
	return addressPattern.ReplaceAllString(s, "<address>")
}

// fail records check as failed with detail, and the checks that need it
// as skipped because of that.
func (r *run) fail(check, detail, because string, needing ...string) {
	r.add(check, Failed, detail)
	for _, c := range needing {
		r.add(c, Skipped, because)
	}
}

func (r *run) microsoft(ctx context.Context) {
	if r.cfg.Microsoft == nil {
		why := cmp.Or(r.cfg.NotConnected, notConnected)
		r.fail(CheckMicrosoftSignIn, why, "needs the Microsoft sign-in", CheckMe, CheckFolders, CheckMail)
		return
	}
	if _, err := r.cfg.Microsoft.Token(); err != nil {
		r.fail(CheckMicrosoftSignIn, failure("the Microsoft sign-in service", hostOf(r.cfg.Authority), nil, err),
			"needs the Microsoft sign-in", CheckMe, CheckFolders, CheckMail)
		return
	}
	r.add(CheckMicrosoftSignIn, Passed, "")

	base := r.cfg.MicrosoftHTTP
	if base == nil {
		base = remote.NewHTTPClient(nil)
	}
	rec := &recorder{base: transportOf(base)}
	hc := &http.Client{
		Transport: &oauth2.Transport{Source: r.cfg.Microsoft, Base: rec},
		Timeout:   base.Timeout,
	}
	gc := graph.NewClient(r.cfg.GraphURL, hc)
	gc.Policy = Policy
	if inv, ok := r.cfg.Microsoft.(interface{ Invalidate() }); ok {
		// As in a pass: a token Graph refuses is dropped and renewed once.
		gc.SetInvalidate(inv.Invalidate)
	}
	host := hostOf(r.cfg.GraphURL)

	me, err := gc.Me(ctx)
	switch {
	case err != nil:
		r.fail(CheckMe, failure("Microsoft Graph", host, rec.take(), err), "needs /me", CheckFolders, CheckMail)
		return
	case me.ID == "" || me.Mail == "" && me.UserPrincipalName == "":
		r.fail(CheckMe, answered(rec.take(), meWithoutUser),
			"needs /me", CheckFolders, CheckMail)
		return
	}
	rec.take()
	r.me = me
	r.signedInMS = true
	r.add(CheckMe, Passed, plural(len(me.Addresses()), "address", "addresses")+" of the user")

	folders, err := gc.ExcludedFolders(ctx)
	switch {
	case err != nil:
		r.add(CheckFolders, Failed, failure("Microsoft Graph", host, rec.take(), err))
	case len(folders) == 0:
		r.add(CheckFolders, Failed, answered(rec.take(), noWellKnownFolders))
	default:
		rec.take()
		r.add(CheckFolders, Passed, plural(len(folders), "folder", "folders"))
	}

	var first []graph.Message
	errFirstPage := errors.New("first page read")
	err = gc.ListMessages(ctx, r.now.Add(-MailWindow), func(page []graph.Message) error {
		first = page
		r.correspondents(page)
		return errFirstPage
	})
	if err != nil && !errors.Is(err, errFirstPage) {
		r.add(CheckMail, Failed, failure("Microsoft Graph", host, rec.take(), err))
		return
	}
	rec.take()
	r.mailFacts(ctx, gc, host, rec, first)
}

// factsSample is how many messages without their class or sensitivity the
// mail check asks about alone: one $batch.
const factsSample = 10

// mailFacts checks that the first page of mail came back with each
// message's class and sensitivity, the two facts Mail Sync never guesses,
// and says which are missing. Missing from the list, they are asked for
// alone for a few messages, as a pass does: the check fails only when
// Graph gives one of them for no message at all, listed or asked alone,
// because then Mail Sync copies nothing.
func (r *run) mailFacts(ctx context.Context, gc *graph.Client, host string, rec *recorder, page []graph.Message) {
	n := len(page)
	head := plural(n, "message", "messages") + " in the last 24 hours on the first page"
	var missing []string
	noClass, noSens := 0, 0
	for _, m := range page {
		c, s := hasFacts(m)
		if !c {
			noClass++
		}
		if !s {
			noSens++
		}
		if !c || !s {
			missing = append(missing, m.ID)
		}
	}
	if len(missing) == 0 {
		if n > 0 {
			head += ", each with its class and sensitivity"
		}
		r.add(CheckMail, Passed, head)
		return
	}
	said := head + ", " + missingWords(noClass, noSens, n) + " when asked for both at once"
	missing = missing[:min(len(missing), factsSample)]
	aloneClass, aloneSens := 0, 0
	err := gc.ClassAndSensitivity(ctx, missing, func(_ string, props []graph.ExtendedProperty, err error) error {
		if err != nil {
			return nil
		}
		c, s := hasFacts(graph.Message{SingleValueExtendedProperties: props})
		if c {
			aloneClass++
		}
		if s {
			aloneSens++
		}
		return nil
	})
	if err != nil {
		r.add(CheckMail, Failed, said+"; asking for them alone failed: "+failure("Microsoft Graph", host, rec.take(), err))
		return
	}
	rec.take()
	asked := len(missing)
	alone := fmt.Sprintf("; asked alone for %s, Graph gave the class for %d and the sensitivity for %d", plural(asked, "message", "messages"), aloneClass, aloneSens)
	// Graph gives a fact when it came with some message of the list, or
	// asked alone.
	if noClass == n && aloneClass == 0 || noSens == n && aloneSens == 0 {
		r.add(CheckMail, Failed, said+alone+". Mail Sync never copies a message whose class or sensitivity it does not know, so it would copy none of them.")
		return
	}
	r.add(CheckMail, Passed, said+alone+"; Mail Sync asks for them alone, and a message whose class or sensitivity stays unknown is not copied.")
}

// hasFacts reports whether a message came back with its class and with its
// sensitivity (as one of Outlook's four values).
func hasFacts(m graph.Message) (class, sensitivity bool) {
	return m.MessageClass() != "", m.Sensitivity() != ""
}

// missingWords says which facts how many of n messages lacked.
func missingWords(noClass, noSens, n int) string {
	var parts []string
	if noClass > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d without the message class", noClass, n))
	}
	if noSens > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d without the sensitivity", noSens, n))
	}
	return strings.Join(parts, " and ")
}

// correspondents notes the addresses of a page's messages that are not the
// user's, as candidates for the v1 look-up.
func (r *run) correspondents(page []graph.Message) {
	mine := map[string]bool{}
	for _, a := range r.me.Addresses() {
		mine[strings.ToLower(a)] = true
	}
	seen := map[string]bool{}
	for _, m := range page {
		var rs []graph.Recipient
		if m.From != nil {
			rs = append(rs, *m.From)
		}
		rs = append(rs, m.ToRecipients...)
		rs = append(rs, m.CcRecipients...)
		for _, rc := range rs {
			a := strings.ToLower(strings.TrimSpace(rc.EmailAddress.Address))
			if a == "" || mine[a] || seen[a] {
				continue
			}
			seen[a] = true
			r.addresses = append(r.addresses, a)
		}
	}
}

func (r *run) clientSuccess(ctx context.Context) {
	if r.cfg.CRMUser == "" || r.cfg.CRMPassword == nil {
		why := cmp.Or(r.cfg.CRMSignedOut, crmSignedOut)
		r.fail(CheckCRMSignIn, why, "needs the ClientSuccess sign-in", CheckContactSearch, CheckContactLookup, CheckInteractions)
		return
	}
	base := r.cfg.CRMHTTP
	if base == nil {
		base = remote.NewHTTPClient(nil)
	}
	rec := &recorder{base: transportOf(base)}
	cc := crm.NewClient(r.cfg.CRMURL, r.cfg.CRMUser, r.cfg.CRMPassword, &http.Client{Transport: rec, Timeout: base.Timeout})
	cc.Policy = Policy
	host := hostOf(r.cfg.CRMURL)

	if err := cc.Login(ctx); err != nil {
		r.fail(CheckCRMSignIn, failure("ClientSuccess", host, rec.take(), err),
			"needs the ClientSuccess sign-in", CheckContactSearch, CheckContactLookup, CheckInteractions)
		return
	}
	rec.take()
	r.add(CheckCRMSignIn, Passed, "")

	page, err := cc.SearchContacts(ctx, 0, ContactSearchSize, time.Time{})
	var re *remote.Error
	switch {
	case err != nil && errors.As(err, &re) && (re.Status == http.StatusNotFound || re.Status == http.StatusForbidden):
		r.add(CheckContactSearch, Failed, answered(rec.take(), noContactSearch))
	case err != nil:
		r.add(CheckContactSearch, Failed, failure("ClientSuccess", host, rec.take(), err))
	default:
		rec.take()
		for _, c := range page.Contacts {
			if c.Email != "" {
				r.contactEm = append(r.contactEm, c.Email)
			}
			if r.clientID == 0 && c.ClientID != 0 {
				r.clientID = c.ClientID
			}
		}
		r.add(CheckContactSearch, Passed, plural(len(page.Contacts), "contact", "contacts")+" on the first page")
	}

	r.lookup(ctx, cc, rec, host)

	if r.clientID == 0 {
		r.add(CheckInteractions, Skipped, "no contact found to take a client from")
		return
	}
	// The read that finds an unfinished upload again after a crash: the
	// v2 note search.
	notes, err := cc.NotesPage(ctx, r.clientID, 0, 0)
	if err != nil {
		r.add(CheckInteractions, Failed, failure("ClientSuccess", host, rec.take(), err))
		return
	}
	rec.take()
	r.add(CheckInteractions, Passed, plural(len(notes.Interactions), "interaction", "interactions")+" on the first page of one client's timeline")
}

// lookup runs the v1 contact look-up for a few addresses — contacts the v2
// search returned first, then people the mailbox corresponds with — until
// one is a contact. Evidence (docs/evidence.md) says the real service answers
// one contact object or null; any other shape fails the check even when
// the client could read it, because it says this is not the API Mail Sync
// was built against.
func (r *run) lookup(ctx context.Context, cc *crm.API, rec *recorder, host string) {
	candidates := slices.Concat(r.contactEm, r.addresses)
	if len(candidates) == 0 {
		// Nothing to look for: a look-up of the user's own address still
		// shows that the call works and how it answers.
		if a := r.me.Mail; a != "" {
			candidates = []string{a}
		} else {
			candidates = []string{"mail-sync-doctor@example.invalid"}
		}
	}
	candidates = slices.Compact(candidates)
	tried, found := 0, 0
	for _, a := range candidates {
		if tried == LookupsAtMost {
			break
		}
		tried++
		cs, err := cc.ContactsByEmail(ctx, a)
		seen := rec.take()
		if err != nil {
			r.add(CheckContactLookup, Failed, failure("ClientSuccess", host, seen, err))
			return
		}
		if len(seen) > 0 {
			last := seen[len(seen)-1]
			if last.top != "object" && last.top != "null" {
				r.add(CheckContactLookup, Failed, fmt.Sprintf(strangeLookup, last.describe(), host))
				return
			}
		}
		if len(cs) > 0 {
			found++
			if r.clientID == 0 {
				r.clientID = cs[0].ClientID
			}
			break
		}
	}
	if found == 0 {
		r.add(CheckContactLookup, Passed, fmt.Sprintf("none of %s is a contact", plural(tried, "address", "addresses")))
		return
	}
	r.add(CheckContactLookup, Passed, "found a contact")
}

// failure turns a client's error into the words of a failed check: what
// came back (status and shape of the last answer) and what it means.
func failure(service, host string, seen []exchange, err error) string {
	if remote.NeverConnected(err) {
		return fmt.Sprintf(unreachable, host)
	}
	words := meaning(err)
	if len(seen) == 0 {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return fmt.Sprintf("%s did not answer in time: %s", service, words)
		}
		return words
	}
	return answered(seen, words)
}

// answered prefixes words with the last answer seen.
func answered(seen []exchange, words string) string {
	if len(seen) == 0 {
		return words
	}
	return "answered " + seen[len(seen)-1].describe() + ": " + words
}

// meaning is a client error in a person's words, without the chain below
// it (which can hold a URL with an address in its query).
func meaning(err error) string {
	var re *remote.Error
	if errors.As(err, &re) {
		switch {
		case re.Message != "" && re.Code != "":
			return re.Message + " (" + re.Code + ")"
		case re.Message != "":
			return re.Message
		case re.Status != 0:
			return fmt.Sprintf("the request failed with HTTP %d", re.Status)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the check ran out of time"
	}
	return "the request failed"
}

// hostOf is the host (and port) of a configured URL: where a service was
// looked for. It holds no secret.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the configured address"
	}
	return u.Host
}

func transportOf(hc *http.Client) http.RoundTripper {
	if hc.Transport != nil {
		return hc.Transport
	}
	return http.DefaultTransport
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
