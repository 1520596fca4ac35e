// Package policy reads the settings an organisation manages for Mail Sync
// (deployed with group policy, Intune or a configuration profile) from
// where the OS keeps them:
//
//   - Windows: registry values under HKLM\SOFTWARE\Policies\Mail Sync, then
//     HKCU\SOFTWARE\Policies\Mail Sync (HKLM wins for each key);
//   - Linux and other Unix: /etc/mail-sync/policy.json;
//   - macOS: the managed preferences of the app's bundle id (the user's,
//     then the computer's);
//   - anywhere: MAILSYNC_POLICY=<file> reads that JSON file instead.
//
// Keys (the JSON names and the registry value names are the same):
// clientId, tenant, crmUrl (strings; REG_SZ), ignoreInternal, startAtLogin
// (booleans; REG_DWORD 0 or 1), blocklist (an array of strings; REG_MULTI_SZ,
// or REG_SZ with one entry per line or comma-separated).
//
// A value that cannot be read or is not valid is left out and named in
// Problems; the other keys still apply. A value is applied whole or not at
// all.
package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"mailsync/sync/match"
	"mailsync/sync/setup"
	"mailsync/sync/words"
)

// Key names of the policy.
const (
	KeyClientID       = "clientId"
	KeyTenant         = "tenant"
	KeyCRMURL         = "crmUrl"
	KeyIgnoreInternal = "ignoreInternal"
	KeyStartAtLogin   = "startAtLogin"
	KeyBlocklist      = "blocklist"
	KeyHistoryDays    = "historyDays"
)

// Keys lists the policy's keys.
var Keys = []string{KeyClientID, KeyTenant, KeyCRMURL, KeyIgnoreInternal, KeyStartAtLogin, KeyBlocklist, KeyHistoryDays}

// EnvFile names the variable that points at a JSON policy file to read
// instead of the OS's.
const EnvFile = "MAILSYNC_POLICY"

// BundleID is the macOS bundle id whose managed preferences are read (ID
// in FyneApp.toml).
const BundleID = "com.mailsync.app"

// Policy is what the organisation set. A field left zero (nil for the
// booleans) is not managed.
type Policy struct {
	setup.Values
	IgnoreInternal *bool    `json:"ignoreInternal,omitempty"`
	StartAtLogin   *bool    `json:"startAtLogin,omitempty"`
	Blocklist      []string `json:"blocklist,omitempty"` // added to the person's own
	// HistoryDays locks how many days of mail a contact added later gets
	// (match.Settings.HistoryDays).
	HistoryDays *int `json:"historyDays,omitempty"`
	// Problems says, one sentence each, which values were ignored and why.
	Problems []string `json:"problems,omitempty"`
	// Source says where the policy was read ("" when there is none).
	Source string `json:"source,omitempty"`
}

// Empty reports whether p manages nothing.
func (p Policy) Empty() bool {
	return p.Values == (setup.Values{}) && p.IgnoreInternal == nil && p.StartAtLogin == nil && len(p.Blocklist) == 0 && p.HistoryDays == nil
}

// Load reads the policy: the file named by MAILSYNC_POLICY when set, else
// the OS's. A missing policy is an empty one.
func Load() Policy {
	if name := os.Getenv(EnvFile); name != "" {
		return LoadFile(name)
	}
	return loadOS()
}

// LoadFile reads a JSON policy file. A missing file is no policy; one that
// cannot be read or parsed is a policy of one problem.
func LoadFile(name string) Policy {
	b, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return Policy{}
	}
	if err != nil {
		return Policy{Source: name, Problems: []string{fmt.Sprintf(fileUnreadable, name, err)}}
	}
	p := ParseJSON(b, name)
	return p
}

// ParseJSON reads a JSON policy from source (named in the problems).
func ParseJSON(b []byte, source string) Policy {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return Policy{Source: source, Problems: []string{fmt.Sprintf(notAnObject, source, err)}}
	}
	vals := map[string]any{}
	var problems []string
	for k, r := range raw {
		var v any
		if err := json.Unmarshal(r, &v); err != nil {
			problems = append(problems, fmt.Sprintf(valueUnreadable, k))
			continue
		}
		vals[k] = v
	}
	p := FromValues(vals, source)
	p.Problems = append(problems, p.Problems...)
	return p
}

// FromValues makes a policy of raw values, as JSON or the registry gives
// them: strings, booleans, numbers and lists of strings. Each key is checked
// on its own; unknown keys are reported.
func FromValues(vals map[string]any, source string) Policy {
	p := Policy{Source: source}
	bad := func(key, why string) {
		p.Problems = append(p.Problems, fmt.Sprintf(valueIgnored, key, why))
	}
	for _, key := range slices.Sorted(maps.Keys(vals)) {
		v := vals[key]
		switch key {
		case KeyClientID, KeyTenant, KeyCRMURL:
			s, ok := v.(string)
			if !ok {
				bad(key, mustBeString)
				continue
			}
			ckey := map[string]string{KeyClientID: setup.KeyClientID, KeyTenant: setup.KeyTenant, KeyCRMURL: setup.KeyCRMURL}[key]
			norm, err := setup.Check(ckey, s)
			if err != nil {
				bad(key, err.Error())
				continue
			}
			p.Values = p.Values.With(ckey, norm)
		case KeyIgnoreInternal, KeyStartAtLogin:
			b, err := toBool(v)
			if err != nil {
				bad(key, err.Error())
				continue
			}
			if key == KeyIgnoreInternal {
				p.IgnoreInternal = &b
			} else {
				p.StartAtLogin = &b
			}
		case KeyHistoryDays:
			n, err := toDays(v)
			if err != nil {
				bad(key, err.Error())
				continue
			}
			p.HistoryDays = &n
		case KeyBlocklist:
			list, err := toBlocklist(v)
			if err != nil {
				bad(key, err.Error())
				continue
			}
			p.Blocklist = list
		default:
			p.Problems = append(p.Problems, fmt.Sprintf(unknownKey, key, strings.Join(Keys, ", ")))
		}
	}
	return p
}

// toBool reads true/false, 0/1 (REG_DWORD) and their spellings as text.
func toBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case float64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case uint64:
		if x == 0 || x == 1 {
			return x == 1, nil
		}
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b, nil
		}
	}
	return false, words.New(fmt.Sprintf(mustBeBool, describe(v)))
}

// toDays reads a whole number of days from 0 to match.MaxHistoryDays: a
// JSON number, a REG_DWORD or its digits as text.
func toDays(v any) (int, error) {
	n := -1
	switch x := v.(type) {
	case float64:
		if x == float64(int(x)) {
			n = int(x)
		}
	case uint64:
		if x <= match.MaxHistoryDays {
			n = int(x)
		}
	case string:
		if d, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			n = d
		}
	}
	if n < 0 || n > match.MaxHistoryDays {
		return 0, words.New(fmt.Sprintf(mustBeDays, match.MaxHistoryDays, describe(v)))
	}
	return n, nil
}

// toBlocklist reads a list of addresses and @domains: a list of strings, or
// one string with an entry per line or comma-separated. One entry that is
// neither makes the whole list ignored.
func toBlocklist(v any) ([]string, error) {
	var lines []string
	switch x := v.(type) {
	case string:
		lines = strings.FieldsFunc(x, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' })
	case []string:
		lines = x
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, words.New(fmt.Sprintf(entryMustBeString, describe(e)))
			}
			lines = append(lines, s)
		}
	default:
		return nil, words.New(fmt.Sprintf(mustBeList, describe(v)))
	}
	var out, bad []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		e, ok := match.BlockEntry(l)
		if !ok || strings.HasPrefix(l, "*@") {
			bad = append(bad, l)
			continue
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(bad) > 0 {
		return nil, words.New(fmt.Sprintf(notEntries, strings.Join(bad, ", ")))
	}
	return out, nil
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// merge returns the values of first, with those of second for the keys
// first does not set; the problems of both.
func merge(first, second Policy) Policy {
	out := first
	for _, k := range setup.Keys {
		if out.Values.Get(k) == "" {
			out.Values = out.Values.With(k, second.Values.Get(k))
		}
	}
	if out.IgnoreInternal == nil {
		out.IgnoreInternal = second.IgnoreInternal
	}
	if out.StartAtLogin == nil {
		out.StartAtLogin = second.StartAtLogin
	}
	if out.Blocklist == nil {
		out.Blocklist = second.Blocklist
	}
	if out.HistoryDays == nil {
		out.HistoryDays = second.HistoryDays
	}
	out.Problems = append(slices.Clone(first.Problems), second.Problems...)
	switch {
	case first.Source == "":
		out.Source = second.Source
	case second.Source != "":
		out.Source = first.Source + ", " + second.Source
	}
	return out
}
