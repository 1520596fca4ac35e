package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mailsync/sync/setup"
)

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// problemsAbout reports whether exactly the keys named have problems.
func wantProblems(t *testing.T, p Policy, keys ...string) {
	t.Helper()
	if len(p.Problems) != len(keys) {
		t.Errorf("problems %q, want one each about %v", p.Problems, keys)
		return
	}
	for i, k := range keys {
		if !strings.Contains(p.Problems[i], k) {
			t.Errorf("problem %d is %q, want it to name %s", i, p.Problems[i], k)
		}
	}
}

func TestParseJSONEveryKey(t *testing.T) {
	p := ParseJSON([]byte(`{
		"clientId": "0D2A6C6E-4B1F-4E5B-9A55-1F7C3B8A9E21",
		"tenant": "Contoso.com",
		"crmUrl": "https://cs.contoso.com/v1",
		"ignoreInternal": true,
		"startAtLogin": 0,
		"blocklist": ["@Rival.example", "press@contoso.example", "@rival.example"]
	}`), "test")
	wantProblems(t, p)
	if p.Values != (setup.Values{ClientID: "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21", Tenant: "contoso.com", CRMURL: "https://cs.contoso.com"}) {
		t.Errorf("values %+v", p.Values)
	}
	if p.IgnoreInternal == nil || !*p.IgnoreInternal || p.StartAtLogin == nil || *p.StartAtLogin {
		t.Errorf("ignoreInternal %v, startAtLogin %v; want true, false", p.IgnoreInternal, p.StartAtLogin)
	}
	if want := []string{"@rival.example", "press@contoso.example"}; !slices.Equal(p.Blocklist, want) {
		t.Errorf("blocklist %q, want %q", p.Blocklist, want)
	}
}

// TestBadValuesIgnoredOthersApply checks that each wrong value is left out
// and named, whole (a blocklist with one bad entry applies none of it),
// while the good keys apply.
func TestBadValuesIgnoredOthersApply(t *testing.T) {
	p := ParseJSON([]byte(`{
		"blocklist": ["@rival.example", "not an address"],
		"clientId": "Mail Sync",
		"crmUrl": "http://cs.contoso.com",
		"ignoreInternal": "maybe",
		"startAtLogin": 2,
		"tenant": "contoso.com",
		"colour": "blue"
	}`), "test")
	wantProblems(t, p, "blocklist", "clientId", "colour", "crmUrl", "ignoreInternal", "startAtLogin")
	if p.Tenant != "contoso.com" {
		t.Errorf("the good tenant did not apply: %+v", p.Values)
	}
	if p.ClientID != "" || p.CRMURL != "" || p.IgnoreInternal != nil || p.StartAtLogin != nil || p.Blocklist != nil {
		t.Errorf("a bad value applied: %+v", p)
	}
	if !strings.Contains(p.Problems[0], "not an address") {
		t.Errorf("the blocklist problem does not name the bad entry: %q", p.Problems[0])
	}

	p = ParseJSON([]byte(`{"tenant": "contoso.com",`), "/etc/mail-sync/policy.json")
	wantProblems(t, p, "/etc/mail-sync/policy.json")
	if !p.Empty() {
		t.Errorf("a policy that is not JSON applied: %+v", p)
	}
	p = ParseJSON([]byte(`["tenant"]`), "x")
	if len(p.Problems) != 1 || !p.Empty() {
		t.Errorf("a JSON array as policy: %+v", p)
	}
}

func TestBlocklistAsText(t *testing.T) {
	for _, v := range []any{"@a.example\r\nb@c.example\n", "@a.example, b@c.example", []string{"@a.example", " b@c.example "}} {
		p := FromValues(map[string]any{KeyBlocklist: v}, "test")
		if want := []string{"@a.example", "b@c.example"}; !slices.Equal(p.Blocklist, want) || len(p.Problems) > 0 {
			t.Errorf("blocklist %#v read as %q (problems %q), want %q", v, p.Blocklist, p.Problems, want)
		}
	}
	p := FromValues(map[string]any{KeyBlocklist: "*@a.example"}, "test")
	if p.Blocklist != nil || len(p.Problems) != 1 {
		t.Errorf("a wildcard entry applied: %+v", p)
	}
}

// TestLoadFromFile checks the Linux path: MAILSYNC_POLICY names the file
// read instead of /etc/mail-sync/policy.json; a missing file is no policy.
func TestLoadFromFile(t *testing.T) {
	t.Setenv(EnvFile, writePolicy(t, `{"tenant": "contoso.com", "startAtLogin": true}`))
	p := Load()
	if p.Tenant != "contoso.com" || p.StartAtLogin == nil || !*p.StartAtLogin || len(p.Problems) > 0 {
		t.Errorf("Load = %+v", p)
	}
	t.Setenv(EnvFile, filepath.Join(t.TempDir(), "none.json"))
	if p := Load(); !p.Empty() || len(p.Problems) > 0 || p.Source != "" {
		t.Errorf("a missing policy file loaded as %+v", p)
	}
	dir := t.TempDir()
	t.Setenv(EnvFile, dir) // a directory cannot be read as a file
	if p := Load(); !p.Empty() || len(p.Problems) != 1 {
		t.Errorf("an unreadable policy loaded as %+v", p)
	}
}

// TestMergeFirstWinsPerKey checks how the machine's policy and the user's
// combine (Windows HKLM over HKCU, macOS user over computer): per key, and
// a key the first leaves out comes from the second.
func TestMergeFirstWinsPerKey(t *testing.T) {
	yes, no := true, false
	machine := Policy{Values: setup.Values{Tenant: "machine.example"}, StartAtLogin: &yes, Source: "HKLM", Problems: []string{"m"}}
	user := Policy{Values: setup.Values{Tenant: "user.example", ClientID: "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21"},
		StartAtLogin: &no, IgnoreInternal: &no, Blocklist: []string{"@u.example"}, Source: "HKCU", Problems: []string{"u"}}
	p := merge(machine, user)
	if p.Tenant != "machine.example" || p.ClientID != user.ClientID || !*p.StartAtLogin || p.IgnoreInternal != user.IgnoreInternal ||
		!slices.Equal(p.Blocklist, user.Blocklist) || !slices.Equal(p.Problems, []string{"m", "u"}) || p.Source != "HKLM, HKCU" {
		t.Errorf("merge = %+v", p)
	}
	if p := merge(Policy{}, user); p.Source != "HKCU" || p.Tenant != "user.example" {
		t.Errorf("merge with no machine policy = %+v", p)
	}
}
