//go:build !windows && !darwin

package policy

// SystemFile is where Linux and other Unix systems keep the policy.
const SystemFile = "/etc/mail-sync/policy.json"

func loadOS() Policy { return LoadFile(SystemFile) }
