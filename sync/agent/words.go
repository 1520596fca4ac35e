package agent

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"mailsync/sync/crm"
	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/printable"
	"mailsync/sync/remote"
	"mailsync/sync/words"
)

// keyringLocked is the state's words while the system keyring does not
// answer: the Secret Service is waiting for the person to unlock it.
const keyringLocked = "Unlock your keyring: Mail Sync is waiting for the system keyring to answer, and carries on once it does."

// historyTooLong refuses days of history beyond match.MaxHistoryDays
// (formatted with it).
const historyTooLong = "The mail of a contact added later can be copied from 0 up to %d days back."

// problem returns an error that reads s and wraps cause for the log.
func problem(s string, cause error) error { return words.Wrap(s, cause) }

// The agent's sentences: why a command cannot be done, and what failed
// when the keyring or the state file did (the cause goes to the log).
const (
	notConnected = "Mail Sync is not connected to Office 365: run `mailsync connect` or use Connect Office 365 in Settings."
	crmSignedOut = "Sign in to ClientSuccess to start syncing: run `mailsync crm login` or use Settings."
	pausedFirst  = "Syncing is paused; resume it first."
	noClientID   = "Mail Sync does not know which Microsoft app to sign in with yet: enter the app (client) ID on the setup page of the settings window, or run `mailsync config set client-id <id>` (your IT department has it)."
	closing      = "Mail Sync is closing."

	signInCancelled       = "Sign-in was cancelled; nothing was changed."
	stoppedDuringSignIn   = "Mail Sync stopped during the sign-in"
	disconnectedMeanwhile = "Mail Sync was disconnected from this account"
	noAccountSaid         = "Microsoft did not say which account signed in; try again."
	noOfflineAccess       = "Microsoft did not grant offline access, so Mail Sync could not stay connected; try again and accept all permissions."
	connectionNotRecorded = "Mail Sync could not record the connection."
	enterCRMCredentials   = "Enter your ClientSuccess username and password."
	crmSignInNotRecorded  = "Mail Sync could not record the ClientSuccess sign-in."
	choiceNotRecorded     = "Mail Sync could not record the choice; try again"

	keyringUnreadable    = "Mail Sync could not read its sign-in from the system keyring."
	keyringSaveFailed    = "Mail Sync could not save its sign-in in the system keyring."
	keyringRemoveFailed  = "Mail Sync could not remove its sign-in from the system keyring."
	passwordSaveFailed   = "Mail Sync could not save the password in the system keyring."
	passwordRemoveFailed = "Mail Sync could not remove the password from the system keyring."

	setupUnreadable       = "Mail Sync could not read its setup."
	setupNotSaved         = "Mail Sync could not save its setup."
	noSuchSetting         = "There is no setting %q; the settings are %s."
	setByPolicy           = "%s is set by your organization's policy, so it cannot be changed on this computer; ask your IT department."
	autostartOnFailed     = "Mail Sync could not turn on start at login."
	autostartChangeFailed = "Mail Sync could not change start at login."
	blocklistNotAddresses = "These blocklist lines are not an email address or @domain: %s"
)

// Words is the one place an error becomes words a person reads: the
// agent's own sentences as they are, a remote service's answer as the
// engine describes it, a stopped operation as stopped, and anything else
// (the state file, the keyring, a bug) as a sentence that names what
// failed without its raw text, which goes to the log instead. The words
// are printable (printable.Text): a service's answer may carry control
// characters.
func Words(err error) string { return printable.Text(phrase(err)) }

func phrase(err error) string {
	if err == nil {
		return ""
	}
	var inv InvalidError
	var locked LockedError
	var s *words.Error
	var nr ErrNeedsReconnect
	var re *remote.Error
	var ae *graph.ApprovalError
	switch {
	case errors.As(err, &inv):
		// The key, then why its value was refused, in words.
		return inv.Key + ": " + phrase(inv.Err)
	case errors.As(err, &locked):
		return locked.Error()
	case errors.As(err, &s):
		return s.Words
	case errors.As(err, &ae):
		return approvalWords(ae.Code, true)
	case errors.As(err, &nr):
		return nr.Reason
	case errors.Is(err, ErrNotConnected), errors.Is(err, ErrCRMSignedOut), errors.Is(err, ErrPaused),
		errors.Is(err, ErrNoClientID):
		return err.Error()
	case errors.Is(err, crm.ErrBadCredentials):
		return crm.ErrBadCredentials.Error()
	case errors.Is(err, crm.ErrMaintenance):
		return crm.ErrMaintenance.Error()
	case errors.As(err, &re), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return engine.Describe(err)
	}
	msg := err.Error()
	for _, raw := range []string{"storage:", "keyring:", "bolt", "engine:", "agent:", "graph:", "crm:", "dbus", "secret"} {
		if strings.Contains(strings.ToLower(msg), raw) {
			return "Mail Sync ran into a problem with its saved state or the system keyring; see the log for details."
		}
	}
	return msg
}

// The words of copying older mail (a backfill).
const (
	backfillDaysWords    = "Choose how far back to copy: 1 to 365 days."
	backfillRunningWords = "Older mail is being copied already; wait for it to finish or cancel it first."
	// backfillAccountsChangingWords: an account change is under way.
	backfillAccountsChangingWords = "Mail Sync is changing accounts; copy older mail once that is done."
	// NoBackfillRunning: there is no copy of older mail to cancel.
	NoBackfillRunning = "No copy of older mail is running; there is nothing to cancel."
)

// backfillWords says why a backfill could not start or go on, in words.
func backfillWords(err error) error {
	switch {
	case errors.Is(err, engine.ErrBackfillDays):
		return problem(backfillDaysWords, err)
	case errors.Is(err, engine.ErrNoMailbox):
		return ErrNotConnected
	case errors.Is(err, engine.ErrNoBackfill):
		return problem(NoBackfillRunning, err)
	}
	return problem(Words(err), err)
}

// What the command line says when a command would change nothing, where
// the window and the tray grey the same action out (engine.Actions). The
// command then succeeds: there was nothing to do.
const (
	NothingToDisconnect = "Office 365 is not connected; there is nothing to disconnect."
	NothingToSignOut    = "You are not signed in to ClientSuccess; there is nothing to sign out of."
	NothingToPause      = "Office 365 is not connected, so there is no syncing to pause."
	AlreadyPaused       = "Syncing is already paused."
	NothingToResume     = "Syncing is not paused; there is nothing to resume."
)

// UnchangedByDisconnect says why disconnecting would change nothing in
// st, or "" when there is a mailbox or a sign-in in flight to forget.
func UnchangedByDisconnect(st engine.Status) string {
	if st.Account == nil && !st.Connecting {
		return NothingToDisconnect
	}
	return ""
}

// UnchangedByCRMLogout says why signing out of ClientSuccess would change
// nothing in st, or "" when someone is signed in.
func UnchangedByCRMLogout(st engine.Status) string {
	if st.CRMUser == "" {
		return NothingToSignOut
	}
	return ""
}

// UnchangedByPause says why pausing would change nothing in st, or ""
// when the window's Pause is enabled.
func UnchangedByPause(st engine.Status) string {
	switch {
	case st.Actions().Pause:
		return ""
	case st.Paused:
		return AlreadyPaused
	}
	return NothingToPause
}

// UnchangedByResume says why resuming would change nothing in st, or ""
// when the window's Resume is enabled.
func UnchangedByResume(st engine.Status) string {
	if st.Actions().Resume {
		return ""
	}
	return NothingToResume
}

// SigningInCRM is shown at once while a ClientSuccess sign-in is checked,
// in the window and by `mailsync crm login`.
const SigningInCRM = "Signing in to ClientSuccess…"

// CRMUnreachable is what a ClientSuccess sign-in that got no answer says
// (no network, a name that does not resolve, a service that does not
// answer in time), in the window and on the command line alike.
const CRMUnreachable = "ClientSuccess could not be reached, so you are not signed in. Check the internet connection and try again."

// personWords turns a ClientSuccess client error met while signing in into
// an error that reads as words for a person.
func personWords(err error) error {
	var re *remote.Error
	if errors.As(err, &re) && re.Kind == remote.Transient && re.Status == 0 && !errors.Is(err, crm.ErrMaintenance) {
		// No answer at all: nothing reached ClientSuccess.
		return problem(CRMUnreachable, err)
	}
	if errors.As(err, &re) && re.Message != "" {
		return problem(printable.Text(re.Message), err)
	}
	if remote.KindOf(err) == remote.Transient {
		return problem(CRMUnreachable, err)
	}
	return problem(Words(err), err)
}

// Words implements agentapi.Worder: the local API sends every error as
// these words.
func (a *Agent) Words(err error) string { return Words(err) }

// CopyApprovalLink is the action that hands the admin-consent link over,
// in the window and on the command line.
const CopyApprovalLink = "Copy the approval link for your IT admin"

// approvalWords says what a consent problem at sign-in means, by the code
// Microsoft answered with ("" for the bare access_denied that may be a
// Cancel too), and what to do with the approval link when there is one.
func approvalWords(code string, link bool) string {
	then := " Send them the approval link below; once they have approved Mail Sync, connect again."
	if !link {
		then = " Once they have approved Mail Sync, connect again."
	}
	switch code {
	case "":
		return "Mail Sync is not connected. Either you cancelled the sign-in, or your organization needs an administrator " +
			"to approve Mail Sync (Microsoft's page then says \"Need admin approval\"). If you cancelled, connect again when you are ready. " +
			"If your organization needs to approve it, ask your IT admin." + then
	case graph.ConsentAdminOnly:
		return "Your organization allows only administrators to approve apps like Mail Sync, so you cannot connect yet. Ask your IT admin to approve it." + then
	case graph.ConsentAdminWorkflow:
		return "Your organization needs an administrator to approve Mail Sync before you can connect. " +
			"If Microsoft's page offered to send a request, your IT admin has it; you can also send them the link yourself." + then
	}
	return "Microsoft says Mail Sync has not been approved to read your mail, by you or by your organization. " +
		"If Microsoft's page let you accept, connect again and accept; if not, ask your IT admin to approve it." + then
}

// CheckSummary is the line above the results of Check connection and at
// the end of `mailsync doctor`: failed checks and those that could not run
// because of them are counted apart, and the first failure, the thing to
// put right first, is named (its line, beside it, says what to do).
func CheckSummary(rep doctor.Report) string {
	if rep.OK() {
		return "Every check passed."
	}
	_, failed, skipped := rep.Count()
	checks := func(n int) string {
		if n == 1 {
			return "1 check"
		}
		return strconv.Itoa(n) + " checks"
	}
	var s string
	switch {
	case failed == 0:
		return checks(skipped) + " could not run."
	case skipped == 0:
		s = checks(failed) + " failed."
	default:
		s = checks(failed) + " failed, and " + strconv.Itoa(skipped) + " more could not run until they pass."
	}
	if first, ok := rep.FirstFailure(); ok {
		s += " Start with " + first.Check + "."
	}
	return s
}

// The words of Activity's fixes (contacts.go, activity.go).
const (
	wordsStateUnreadable = "Mail Sync could not read its state file."
	wordsStateUnwritable = "Mail Sync could not record the change in its state file."
	wordsAlreadyCopied   = "This email is already copied."
	wordsNoSuchEmail     = "Activity no longer lists this email."
	wordsTooOldToCopy    = "This email is older than the emails Mail Sync looks at (the last 24 hours), so it can no longer be copied."
)

func wordsNotAnAddress(s string) string {
	return "“" + printable.Text(s) + "” is not an email address."
}

func wordsUnknownFilter(s string) string {
	return "Activity shows all, copied or skipped emails, not “" + printable.Text(s) + "”."
}

func wordsNotLiftable(reason string) string {
	return "This email was skipped because of where it is or what it is (" + reason + "), not by a choice of yours, so it cannot be copied anyway."
}

func wordsNoSuchClient(name string) string {
	return "ClientSuccess has no client “" + printable.Text(name) + "”."
}

func wordsSeveralClients(name string) string {
	return "Several ClientSuccess clients match “" + printable.Text(name) + "”; name one of them."
}

func wordsChooseClient(addr string, suggested int) string {
	if suggested == 0 {
		return "No ClientSuccess contact shares the domain of " + addr + "; choose the client it belongs to."
	}
	return "Contacts of several clients share the domain of " + addr + "; choose the client it belongs to."
}

func wordsContactUnconfirmed(addr, client string) string {
	return "ClientSuccess did not confirm that it added " + addr + " to " + client + ", and does not list it yet. Look in ClientSuccess before adding it again."
}

func wordsContactNotCreated(addr, client, why string) string {
	return "ClientSuccess did not add " + addr + " to " + client + ": " + why
}
