package setup

// The words of the setup checks, as the window and the command line show
// them.
const (
	enterClientID   = "Enter the application (client) ID of the Microsoft app registration."
	clientIDNotGUID = "The application (client) ID is a GUID like 00000000-0000-0000-0000-000000000000; copy it from the app registration's Overview page."
	enterTenant     = "Enter the directory: organizations, your company's domain (contoso.com) or its directory (tenant) ID."
	noConsumers     = "Mail Sync reads work or school mailboxes; a personal Microsoft account (consumers) cannot be used."
	notATenant      = "%q is not a directory: enter organizations, your company's domain (contoso.com) or its directory (tenant) ID."
	enterCRMURL     = "Enter the ClientSuccess address, e.g. %s."
	notAWebAddress  = "%q is not a web address: enter it as %s."
	httpsOnly       = "The ClientSuccess address must start with https:// (plain http is only allowed to this computer)."
	notHTTPS        = "The ClientSuccess address must start with https://, not %s."
	onlyTheAddress  = "Enter only the ClientSuccess address, without a name, password, ? or #: for example %s."
)

// Words says where a value comes from, for the command line.
func (s Source) Words() string {
	switch s {
	case FromPolicy:
		return "set by your organization"
	case FromEnv:
		return "from the environment"
	case FromPerson:
		return "set on this computer"
	case FromBuild:
		return "built into this copy of Mail Sync"
	case FromDefault:
		return "default"
	}
	return "not set"
}
