package storage

// SplitForTest exposes split to the external tests.
var SplitForTest = split

// SecretsOverForTest returns Secrets that keep their entries in k instead
// of the OS keyring.
func SecretsOverForTest(service string, k interface {
	Get(service, user string) (string, error)
	Set(service, user, value string) error
	Delete(service, user string) error
}) Secrets {
	return Secrets{Service: service, Keyring: k}
}
