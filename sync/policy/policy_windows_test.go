package policy

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/registry"

	"mailsync/sync/setup"
)

// testKey creates HKCU\path for a test and deletes it (and its values)
// after.
func testKey(t *testing.T, path string) registry.Key {
	t.Helper()
	k, _, err := registry.CreateKey(registry.CURRENT_USER, path, registry.ALL_ACCESS)
	if errors.Is(err, registry.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		t.Skipf("cannot create HKCU\\%s: %v", path, err)
	}
	if err != nil {
		t.Fatalf("create HKCU\\%s: %v", path, err)
	}
	t.Cleanup(func() {
		k.Close()
		if err := registry.DeleteKey(registry.CURRENT_USER, path); err != nil {
			t.Errorf("delete HKCU\\%s: %v", path, err)
		}
	})
	return k
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestRegistryMachineWinsPerKey checks the registry's value types (REG_SZ,
// REG_DWORD, REG_MULTI_SZ, and a REG_SZ blocklist), that the machine's key
// wins key by key over the user's, that a wrong value in the machine's key
// leaves the user's good one in force, and that a value of a type Mail
// Sync does not read is reported.
func TestRegistryMachineWinsPerKey(t *testing.T) {
	base := fmt.Sprintf(`SOFTWARE\MailSyncPolicyTest%d`, time.Now().UnixNano())
	testKey(t, base)
	machine := testKey(t, base+`\machine`)
	user := testKey(t, base+`\user`)
	// Subkeys are deleted before their parent: Cleanup runs last first.

	must(t, machine.SetStringValue(KeyTenant, "Machine.example"))
	must(t, machine.SetDWordValue(KeyStartAtLogin, 1))
	must(t, machine.SetStringsValue(KeyBlocklist, []string{"@A.example", "b@c.example"}))
	must(t, machine.SetStringValue(KeyClientID, "Mail Sync"))
	must(t, machine.SetStringValue(KeyIgnoreInternal, "2"))

	must(t, user.SetStringValue(KeyTenant, "user.example"))
	must(t, user.SetStringValue(KeyClientID, "0D2A6C6E-4B1F-4E5B-9A55-1F7C3B8A9E21"))
	must(t, user.SetExpandStringValue(KeyCRMURL, "https://cs.example.com/v1"))
	must(t, user.SetStringValue(KeyBlocklist, "@x.example\r\n@y.example"))
	must(t, user.SetDWordValue(KeyIgnoreInternal, 0))
	must(t, user.SetBinaryValue("junk", []byte{1, 2}))

	p := loadRegistry(regKey{registry.CURRENT_USER, base + `\machine`, "machine"}, regKey{registry.CURRENT_USER, base + `\user`, "user"})
	want := setup.Values{ClientID: "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21", Tenant: "machine.example", CRMURL: "https://cs.example.com"}
	if p.Values != want {
		t.Errorf("values %+v, want %+v", p.Values, want)
	}
	if p.StartAtLogin == nil || !*p.StartAtLogin || p.IgnoreInternal == nil || *p.IgnoreInternal {
		t.Errorf("startAtLogin %v, ignoreInternal %v; want the machine's 1 and the user's 0", p.StartAtLogin, p.IgnoreInternal)
	}
	if want := []string{"@a.example", "b@c.example"}; !slices.Equal(p.Blocklist, want) {
		t.Errorf("blocklist %q, want the machine's %q", p.Blocklist, want)
	}
	if len(p.Problems) != 3 {
		t.Fatalf("problems %q; want the machine's clientId and ignoreInternal and the user's junk", p.Problems)
	}
	for i, w := range []string{"clientId", "ignoreInternal", "junk"} {
		if !strings.Contains(p.Problems[i], w) {
			t.Errorf("problem %d %q does not name %s", i, p.Problems[i], w)
		}
	}

	// The user's REG_SZ blocklist, alone.
	p = loadRegistry(regKey{registry.CURRENT_USER, base + `\user`, "user"})
	if want := []string{"@x.example", "@y.example"}; !slices.Equal(p.Blocklist, want) {
		t.Errorf("a REG_SZ blocklist read as %q, want %q", p.Blocklist, want)
	}
	if p := loadRegistry(regKey{registry.CURRENT_USER, base + `\none`, "none"}); !p.Empty() || len(p.Problems) > 0 || p.Source != "" {
		t.Errorf("a missing key read as %+v", p)
	}
}

// TestLoadReadsThePoliciesKey checks Load end to end on the real key
// HKCU\SOFTWARE\Policies\Mail Sync (skipped where a user may not write it,
// as on Windows itself; Wine lets the test write it).
func TestLoadReadsThePoliciesKey(t *testing.T) {
	if _, err := registry.OpenKey(registry.CURRENT_USER, KeyPath, registry.QUERY_VALUE); err == nil {
		t.Skip(`HKCU\` + KeyPath + " exists on this machine; not touching it")
	}
	t.Setenv(EnvFile, "")
	k := testKey(t, KeyPath)
	must(t, k.SetStringValue(KeyClientID, "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21"))
	must(t, k.SetDWordValue(KeyStartAtLogin, 0))
	p := Load()
	if p.ClientID != "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21" || p.StartAtLogin == nil || *p.StartAtLogin || !strings.Contains(p.Source, `HKCU\`+KeyPath) {
		t.Errorf("Load = %+v", p)
	}
}
