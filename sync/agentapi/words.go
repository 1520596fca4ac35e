package agentapi

// The words of the local API: what a client says when the agent cannot be
// reached or answers oddly, and what the server answers a request it
// refuses. The agent's own errors come in its words (Worder).
const (
	noAgent          = "Mail Sync is not running"
	agentRunning     = "Mail Sync is already running"
	answerUnreadable = "Mail Sync sent an answer that could not be read"
	noAnswerInTime   = "Mail Sync did not answer in time"
	connectionClosed = "the connection to Mail Sync is closed"
	answeredStatus   = "Mail Sync answered %s"
	// localAPIRefused is followed by why the client refused the endpoint.
	localAPIRefused = "the local API was refused: "

	onlyOnSocket = "the local API answers only on its socket"
	onlyItsUser  = "the local API answers only its own user"
	badLimit     = "limit must be a whole number"
	badJSON      = "the request body is not valid JSON"
	cannotQuit   = "this Mail Sync cannot be asked to quit"
	noWindow     = "this agent opens no window"
)
