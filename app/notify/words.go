package notify

// The words of the desktop notifications. A failing sync's body starts
// with the problem, in the engine's words.
const (
	reconnectTitle = "Mail Sync: reconnect needed"
	reconnectBody  = "Microsoft 365 no longer accepts Mail Sync's sign-in, so no email is being copied."
	// reconnectWaiting follows reconnectBody when a sync finished before:
	// since its start, mail is waiting.
	reconnectWaiting = " Email received since %s is waiting."
	reconnectAction  = " Open Settings and connect again: Mail Sync continues from where it stopped."
	failingTitle     = "Mail Sync has not synced for over 3 hours"
	failingBody      = "Emails are not being copied to ClientSuccess. Mail Sync keeps trying every hour."
)
