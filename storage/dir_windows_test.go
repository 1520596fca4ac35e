package storage

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

func TestDefaultDirIsLocalAndMovesRoamingStateOnce(t *testing.T) {
	local, roaming := t.TempDir(), t.TempDir()
	t.Setenv("MAILSYNC_HOME", "")
	t.Setenv("LOCALAPPDATA", local)
	t.Setenv("APPDATA", roaming)
	old := filepath.Join(roaming, "Mail Sync")
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, FileName), []byte("old state"), 0o600); err != nil {
		t.Fatal(err)
	}

	dir, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(local, "Mail Sync"); dir != want {
		t.Fatalf("DefaultDir = %s, want %s", dir, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, FileName)); err != nil || string(b) != "old state" {
		t.Fatalf("the roaming state was not moved: %q, %v", b, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("the roaming directory is still there: %v", err)
	}

	// Once: a roaming directory that appears later (an older version run
	// again) is left alone and never overwrites the local state.
	if err := os.MkdirAll(old, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, FileName), []byte("older still"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := DefaultDir(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, FileName)); string(b) != "old state" {
		t.Fatalf("the local state was overwritten: %q", b)
	}
	if _, err := os.Stat(filepath.Join(old, FileName)); err != nil {
		t.Fatalf("the later roaming directory was touched: %v", err)
	}
}

func TestDefaultDirWithoutRoamingState(t *testing.T) {
	local := t.TempDir()
	t.Setenv("MAILSYNC_HOME", "")
	t.Setenv("LOCALAPPDATA", local)
	t.Setenv("APPDATA", t.TempDir())
	dir, err := DefaultDir()
	if err != nil || dir != filepath.Join(local, "Mail Sync") {
		t.Fatalf("DefaultDir = %s, %v", dir, err)
	}
}

// TestEnsureDirSetsAnOwnerOnlyDACL: the data folder admits the user alone,
// inherits nothing from its parent, and passes that on to its files.
func TestEnsureDirSetsAnOwnerOnlyDACL(t *testing.T) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	user := u.User.Sid
	for _, tc := range []struct {
		name  string
		setup func(dir string) error
	}{
		{"new folder", func(string) error { return nil }},
		{"existing folder that admits everyone", func(dir string) error {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			sd, err := windows.SecurityDescriptorFromString("D:(A;OICI;FA;;;WD)")
			if err != nil {
				return err
			}
			dacl, _, err := sd.DACL()
			if err != nil {
				return err
			}
			return windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
				windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "Mail Sync")
			if err := tc.setup(dir); err != nil {
				t.Fatal(err)
			}
			if err := EnsureDir(dir); err != nil {
				t.Fatal(err)
			}
			if underWine() {
				t.Skip("Wine accepts a file's DACL but reports one made from the Unix mode bits")
			}
			checkOwnerOnly(t, dir, user, true)
			file := filepath.Join(dir, FileName)
			if err := os.WriteFile(file, []byte("state"), 0o600); err != nil {
				t.Fatal(err)
			}
			checkOwnerOnly(t, file, user, false)
		})
	}
}

// checkOwnerOnly fails unless every entry of path's DACL that admits
// anyone admits user, and (for the folder itself) the DACL is protected.
func checkOwnerOnly(t *testing.T, path string, user *windows.SID, protected bool) {
	t.Helper()
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	control, _, err := sd.Control()
	if err != nil {
		t.Fatal(err)
	}
	if protected && control&windows.SE_DACL_PROTECTED == 0 {
		t.Errorf("%s: the DACL is not protected, it inherits from the parent: %s", path, sd)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		t.Fatalf("%s has no DACL (admits everyone): %v", path, err)
	}
	admitsUser := false
	for i := range uint32(dacl.AceCount) {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			t.Fatal(err)
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if !sid.Equals(user) {
			t.Errorf("%s also admits %s: %s", path, sid, sd)
		}
		admitsUser = true
	}
	if !admitsUser {
		t.Errorf("%s does not admit its user: %s", path, sd)
	}
}

// underWine reports whether this runs under Wine, whose ntdll exports
// wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
