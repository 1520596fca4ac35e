package policy

// The words of the policy's problems, which the window, `mailsync status`
// and `mailsync config get` show: what of the organisation's policy is
// ignored, and why.
const (
	fileUnreadable        = "The policy file %s could not be read, so none of it applies: %v."
	notAnObject           = "The policy %s is not a JSON object, so none of it applies: %v."
	valueUnreadable       = "The policy's %s could not be read; it is ignored."
	valueIgnored          = "The policy's %s is ignored: %s"
	unknownKey            = "The policy names %q, which Mail Sync does not know; it is ignored (the keys are %s)."
	registryUnreadable    = "The policy in %s could not be read, so none of it applies: %v."
	registryValueIgnored  = "The policy's %s in %s is ignored: %v."
	preferencesUnreadable = "The managed preferences %s could not be read, so none of them apply: %v."

	// Why a value is ignored, after valueIgnored.
	mustBeString      = "it must be a string."
	mustBeBool        = "it must be true or false (1 or 0), not %v."
	mustBeDays        = "it must be a number of days from 0 to %d, not %v."
	entryMustBeString = "every entry must be a string, not %v."
	mustBeList        = "it must be a list of addresses and @domains, not %v."
	notEntries        = "these entries are not an email address or @domain: %s."
)
