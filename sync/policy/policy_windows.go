package policy

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// KeyPath is the registry key, under HKLM and HKCU, that holds the policy.
const KeyPath = `SOFTWARE\Policies\Mail Sync`

// regKey is a registry key that may hold a policy, and its name in words.
type regKey struct {
	root       registry.Key
	path, name string
}

// loadOS reads the machine's policy, then the user's; the machine's wins
// for each key.
func loadOS() Policy {
	return loadRegistry(regKey{registry.LOCAL_MACHINE, KeyPath, `HKLM\` + KeyPath}, regKey{registry.CURRENT_USER, KeyPath, `HKCU\` + KeyPath})
}

// loadRegistry reads the policy of each key; for each policy key, the first
// registry key that holds a valid value wins.
func loadRegistry(keys ...regKey) Policy {
	var p Policy
	for _, k := range keys {
		p = merge(p, readKey(k.root, k.path, k.name))
	}
	return p
}

// readKey reads the policy values under root\path, named name in
// problems. A missing key is no policy.
func readKey(root registry.Key, path, name string) Policy {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return Policy{}
	}
	if err != nil {
		return Policy{Source: name, Problems: []string{fmt.Sprintf(registryUnreadable, name, err)}}
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		return Policy{Source: name, Problems: []string{fmt.Sprintf(registryUnreadable, name, err)}}
	}
	vals := map[string]any{}
	var problems []string
	for _, n := range names {
		v, err := readValue(k, n)
		if err != nil {
			problems = append(problems, fmt.Sprintf(registryValueIgnored, n, name, err))
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
