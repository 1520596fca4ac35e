package policy

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// KeyPath is the registry key, under HKLM and HKCU, that holds the policy.
const KeyPath = `SOFTWARE\Policies\Mail Sync`

// loadOS reads the machine's policy, then the user's; the machine's wins
// for each key.
func loadOS() Policy {
	return merge(readKey(registry.LOCAL_MACHINE, `HKLM\`+KeyPath), readKey(registry.CURRENT_USER, `HKCU\`+KeyPath))
}

// readKey reads the policy values under root\KeyPath, named name in
// problems. A missing key is no policy.
func readKey(root registry.Key, name string) Policy {
	k, err := registry.OpenKey(root, KeyPath, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return Policy{}
	}
	if err != nil {
		return Policy{Source: name, Problems: []string{fmt.Sprintf("The policy in %s could not be read, so none of it applies: %v.", name, err)}}
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		return Policy{Source: name, Problems: []string{fmt.Sprintf("The policy in %s could not be read, so none of it applies: %v.", name, err)}}
	}
	vals := map[string]any{}
	var problems []string
	for _, n := range names {
		v, err := readValue(k, n)
		if err != nil {
			problems = append(problems, fmt.Sprintf("The policy's %s in %s is ignored: %v.", n, name, err))
			continue
		}
		vals[n] = v
	}
	p := FromValues(vals, name)
	p.Problems = append(problems, p.Problems...)
	return p
}

// readValue returns a registry value as FromValues takes it: REG_SZ and
// REG_EXPAND_SZ as a string, REG_DWORD and REG_QWORD as a number,
// REG_MULTI_SZ as a list of strings.
func readValue(k registry.Key, name string) (any, error) {
	_, typ, err := k.GetValue(name, nil)
	if err != nil {
		return nil, err
	}
	switch typ {
	case registry.SZ, registry.EXPAND_SZ:
		s, _, err := k.GetStringValue(name)
		return s, err
	case registry.DWORD, registry.QWORD:
		n, _, err := k.GetIntegerValue(name)
		return n, err
	case registry.MULTI_SZ:
		l, _, err := k.GetStringsValue(name)
		return l, err
	}
	return nil, fmt.Errorf("it has registry type %d, which Mail Sync does not read", typ)
}
