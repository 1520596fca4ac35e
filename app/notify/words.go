package notify

// The words of the desktop notifications. A failing sync's body starts
// with the problem, in the engine's words.
const (
	reconnectTitle = "Mail Sync: reconnect needed"
	reconnectBody  = "Microsoft 365 no longer accepts Mail Sync's sign-in. Open Settings and connect again to resume syncing."
	failingTitle   = "Mail Sync has not synced for over 3 hours"
	failingBody    = "Emails are not being copied to ClientSuccess. Mail Sync keeps trying every hour."
)
