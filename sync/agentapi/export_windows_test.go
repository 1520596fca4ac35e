package agentapi

// CurrentUser and CheckPipeSecurity lend the pipe's checks to the external
// tests.
var (
	CurrentUser       = currentUser
	CheckPipeSecurity = checkPipeSecurity
)
