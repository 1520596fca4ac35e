package app

// The words the command line, the agent's process and the demo print
// themselves; the agent's own come from package agent (agent.Words).
const (
	busy                 = "Mail Sync is busy (another command or the agent is starting); try again in a moment."
	notSetUp             = "Mail Sync is not set up yet: run `mailsync` to start it and connect Office 365."
	notSetUpState        = "Not set up yet"
	joinedPass           = "A sync was already running; this is its outcome."
	interactionsCreated  = "ClientSuccess interactions created: %d (one per client an email went to)\n"
	lookedSince          = "Looked at email received since %s\n"
	notConnectedSeeAbove = "Mail Sync is not connected (see above)"
	agentStopped         = "Mail Sync stopped"
	signInInBrowser      = "Sign in to Office 365 in your browser. If it did not open, open this address:"
	connectedAs          = "Connected as %s <%s>\n"
	continuesFrom        = "Connecting again as %s continues from %s; another account starts with the last 24 hours."
	disconnected         = "Disconnected. Emails already copied stay in ClientSuccess."
	syncingPaused        = "Syncing paused."
	syncingResumed       = "Syncing resumed."
	notRunning           = "Mail Sync is not running."
	stillClosing         = "Mail Sync was asked to quit but is still closing; try again in a moment."
	hasQuit              = "Mail Sync has quit."
	signedOutCRM         = "Signed out of ClientSuccess."
	signedInCRM          = "Signed in to ClientSuccess as %s."
	passwordPrompt       = "ClientSuccess password: "
	envOverrides         = "The environment overrides it for now: %s is %s (from MAILSYNC_*).\n"
	alreadyRunning       = "Mail Sync is already running"
	windowNoAgent        = "Mail Sync did not start; see the log in %s"
	demoFolderLeft       = "The demo's temporary folder %s could not be removed (%v); delete it yourself.\n"
	demoNoKeyring        = "No system keyring available (%v); the sandbox keeps its made-up tokens in memory.\n"

	// `mailsync backfill`: what was, or would be, copied of the mail
	// received in the span.
	backfillSpan       = "received %s to %s"
	backfillNothing    = "Nothing to copy: the hourly sync already covers the last %d days.\n"
	backfillWouldNone  = "Would copy 0 emails: of the %d emails %s, none is left to copy to ClientSuccess.\n"
	backfillCopiedNone = "Copied 0 emails: of the %d emails %s, none was left to copy to ClientSuccess.\n"
	backfillWould      = "Would copy %s of the %d emails %s, to:\n"
	backfillCopied     = "Copied %s of the %d emails %s, to:\n"

	// `mailsync activity` and `mailsync contacts add`.
	clientsSuggested = "The clients its domain suggests:"
	clientsAll       = "The clients:"
	// contactAdded: the address, the client, then how it was added.
	contactAdded   = "Added %s to %s%s.\n"
	syncedCopied   = "Synced: %s copied.\n"
	copyingNow     = "Mail Sync is copying their emails now."
	copiedNextSync = "Their emails are copied on the next sync."
	noDecisionsYet = "No emails looked at yet."
)
