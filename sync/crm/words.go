package crm

// The words of ClientSuccess's errors, as the engine, the window and the
// command line show them (engine.Describe adds what to do). They never
// hold a URL, a password or a token.
const (
	badCredentials = "ClientSuccess rejected the username or password"
	maintenance    = "ClientSuccess is down for maintenance"
	ambiguous      = "ClientSuccess did not confirm whether the change was made"
	incompleteList = "ClientSuccess did not give the whole list"

	incompleteWhy       = "ClientSuccess did not give the whole list (%s)"
	notEncoded          = "the interaction could not be encoded"
	brokeBeforeConfirm  = "the connection to ClientSuccess broke before it confirmed the change"
	unreachable         = "could not reach ClientSuccess"
	signInRefused       = "ClientSuccess no longer accepts the sign-in; sign in to ClientSuccess again"
	answerUnreadable    = "ClientSuccess's answer could not be read (%s)"
	refusedNull         = "ClientSuccess refused it without saying why (it answered null)"
	shapeUnreadable     = "ClientSuccess answered in a shape Mail Sync cannot read: "
	stoppedBeforeAnswer = "stopped before ClientSuccess answered"
	busy                = "ClientSuccess is busy; Mail Sync will try again later"
	unavailable         = "ClientSuccess is unavailable; Mail Sync will try again later"
	serverProblem       = "ClientSuccess had a problem (HTTP %d)"
	unknownToCRM        = "ClientSuccess does not know it (it may have been deleted)"
	notAllowed          = "the ClientSuccess account is not allowed to do this"
	refusedStatus       = "ClientSuccess refused the request (HTTP %d)"
	passwordUnreadable  = "the ClientSuccess password could not be read; sign in to ClientSuccess again"
	signInNotEncoded    = "the sign-in could not be encoded"
	noToken             = "ClientSuccess answered the sign-in without a token"
)
