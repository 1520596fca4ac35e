package settings

import (
	"strings"

	"mailsync/sync/agentapi"
	"mailsync/sync/words"
)

// The window's sentences. Buttons and section names stay beside the
// widgets they label; the agent's words (agent.Words) come as they are.

// permissions are the delegated Microsoft Graph permissions Mail Sync asks
// for, with what each is for in plain words.
var permissions = []struct{ scope, purpose string }{
	{"openid, profile, email", "Sign you in and show your name."},
	{"User.Read", "Read your profile, so Mail Sync knows which addresses are your own."},
	{"offline_access", "Keep syncing without asking you to sign in every hour."},
	{"Mail.Read", "Read your email to find messages with your ClientSuccess contacts."},
}

// notAsked says why Mail.Send, which ClientSuccess's own integration asks
// for, is not in the list.
const notAsked = "Mail Sync does not ask for Mail.Send. ClientSuccess's own web integration asks for it " +
	"because it sends email from ClientSuccess's servers; Mail Sync never sends email, so it cannot send as you."

// connectPromise is what connecting does, as it is: mail from 24 hours
// before the connect on (rule 1 of the product's help page), not every
// email ever exchanged.
const connectPromise = "Connect your Office 365 mailbox. Your browser opens Microsoft's sign-in page; " +
	"after you accept, Mail Sync copies the emails you exchange with your ClientSuccess contacts " +
	"into their client's timeline, once an hour, starting with those of the 24 hours before you connect. " +
	"Older emails are not copied."

// disconnectMessage is the question the Disconnect confirmation asks.
const disconnectMessage = "Mail Sync will stop copying email. Emails already copied stay in ClientSuccess. " +
	"Connecting this mailbox again later continues from where it stopped, up to 30 days back."

// continuesFrom says what connecting the mailbox connected last does: it
// continues from where its last sync stopped (account, when).
const continuesFrom = "Connecting again as %s continues from %s, so no email of the time in between is missed; another account starts with the last 24 hours."

// Words of the setup pages.
const (
	firstRunTitle = "Set up Mail Sync"
	firstRunIntro = "Before Mail Sync can sign in to Office 365 it needs to know which Microsoft app registration to use. " +
		"Your IT department has its application (client) ID; the other two settings can usually stay as they are."
	advancedIntro = "Where Mail Sync signs in. Change these only if your IT department tells you to."
	lockedNote    = "Set by your organization"
	envNote       = "Overridden by a MAILSYNC_ variable"
	policyTitle   = "Some of your organization's settings were ignored:"
)

// Sentences of the sections.
const (
	emptyActivityText  = "No emails looked at yet. After the first sync, every email Mail Sync considered is listed here with the reason."
	checkIntro         = "Something not working? Check, without changing anything, that Office 365 and ClientSuccess answer as Mail Sync needs."
	crmIntro           = "Emails with your ClientSuccess contacts are added to their client's timeline as Email interactions."
	signOutQuestion    = "Sign out of ClientSuccess?"
	signOutMessage     = "Mail Sync will stop copying email until you sign in again. Emails already copied stay in ClientSuccess."
	disconnectQuestion = "Disconnect Office 365?"
	approvalCopied     = "Copied. Paste it into an email to your IT admin; once they approve Mail Sync, connect again."
	openThisAddress    = "If your browser did not open, open this address:"
	signInRefused      = "Microsoft no longer accepts the sign-in Mail Sync had."
	blocklistHelp      = "Email with any of these people or domains is never copied. One address (ann@example.com) or domain (@example.com, not *@example.com or example.com) per line."
	historyHelpText    = "ClientSuccess itself copies only mail less than 24 hours old when the contact is added."
	// rulesSaved is what saving a change of the rules says: Activity shows
	// at once what they decide, and nothing is copied before the next sync.
	rulesSaved = "Saved. Activity is updated; copying waits for the next sync."
	aboutText  = "Mail Sync copies email with your ClientSuccess contacts to their client timelines."
)

// errEmptyClientID is what the setup page says of an empty app ID.
var errEmptyClientID = words.New("Enter the application (client) ID.")

// useFix is the blocklist's one-click fix: the entry meant by the first
// line it rewrites, and how many more lines it rewrites.
const (
	useFix     = "Use %s"
	useFixMore = "Use %s and %d more"
)

// Sentences of Copy older mail (the Sync page's backfill panel).
const (
	backfillHowFar  = "How far back?"
	backfillIntro   = "Copy older mail: the email with your ClientSuccess contacts from before the last 24 hours, by the same rules. Nothing is copied twice."
	backfillReading = "Reading the email of the last %d days… nothing is copied yet."
	// backfillCopying: emails read, emails copied, then the clients.
	backfillCopying = "Copying older mail: %d emails read, %s copied%s."
	backfillSpan    = "received %s to %s"
	backfillNothing = "Nothing to copy: of the %d emails %s, none is left to copy to ClientSuccess."
	backfillWould   = "Copy would upload %s of the %d emails %s, to these clients:"
	// backfillWouldLeftOut: copied, read, span, then what is left out.
	backfillWouldLeftOut = "Copy would upload %s of the %d emails %s.%s The emails go to these clients:"
	backfillDone         = "Older mail copied: %s from the last %d days."
	backfillCancelled    = "Copying older mail was cancelled after %s; what was copied stays."
	// backfillStopped is followed by why, in the agent's words.
	backfillStopped = "Copying older mail stopped: "
)

// Words of Activity's details and fixes.
const (
	copiedAnywayWords = "Mail Sync copies this email now, and keeps it copied on later syncs."
	lookingUpClients  = "Looking up the clients…"
)

func blockedWords(entry string) string {
	return entry + " is on your blocklist: Mail Sync never copies mail with it."
}

func noContactAtWords(domain string) string {
	return "No contact at " + domain + " yet: choose the client."
}

func suggestedWords(client, contacts, domain string) string {
	return "Suggested: " + client + ", which has " + contacts + " at " + domain + ". Confirm, or choose another."
}

func severalClientsWords(domain string, clients []string) string {
	return "Contacts at " + domain + " belong to " + strings.Join(clients, ", ") + ": choose the client."
}

// addedWords say what Add as contact did.
func addedWords(addr string, out agentapi.AddedContact) string {
	s := addr + " is now a contact of " + out.Client + "."
	if out.Existed {
		s = addr + " was already a contact of " + out.Client + "."
	}
	if out.Syncing {
		return s + " Copying their emails now."
	}
	return s + " Their emails are copied on the next sync."
}
