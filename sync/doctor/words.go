package doctor

// The checks, in the order they run. The names are what a person reads.
const (
	CheckMicrosoftSignIn = "Microsoft sign-in"
	CheckMe              = "Microsoft account (/me)"
	CheckFolders         = "Excluded folders"
	CheckMail            = "One page of mail"
	CheckCRMSignIn       = "ClientSuccess sign-in"
	CheckContactSearch   = "ClientSuccess contact search (v2)"
	CheckContactLookup   = "ClientSuccess contact look-up (v1)"
	CheckInteractions    = "ClientSuccess interactions"
)

// What the checks say when they fail, beside the service's answer.
const (
	notConnected       = "Mail Sync is not connected to Office 365; connect it first."
	crmSignedOut       = "Mail Sync is not signed in to ClientSuccess; sign in first."
	meWithoutUser      = "Graph answered /me without the user's id or address, so Mail Sync could not tell which messages are the user's."
	noWellKnownFolders = "Graph knows none of the well-known folders (Junk, Drafts, Outbox…), so mail in them would not be told apart."
	noContactSearch    = "this ClientSuccess account cannot use the v2 contact search, so Mail Sync cannot keep a local list of contacts and looks each address up instead (many more requests)."
	strangeLookup      = "answered %s; ClientSuccess answers this look-up with one contact object or null, so the service at %s does not behave as the ClientSuccess API Mail Sync knows."
	unreachable        = "unreachable: nothing answered at %s. Check the network connection, a proxy or firewall, and the configured address."
)
