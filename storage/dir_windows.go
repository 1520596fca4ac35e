package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// dirName is the data directory's name under %LOCALAPPDATA%.
const dirName = "Mail Sync"

func defaultDir() (string, error) {
	local := os.Getenv("LOCALAPPDATA")
	if local == "" {
		return "", errors.New("storage: %LOCALAPPDATA% is not set")
	}
	dir := filepath.Join(local, dirName)
	if roaming := os.Getenv("APPDATA"); roaming != "" {
		dir = moveRoaming(filepath.Join(roaming, dirName), dir)
	}
	return dir, nil
}

// protectDir gives dir a protected DACL with one entry: full access for
// the current user, inherited by everything created inside. Nothing is
// inherited from the parent, which under %LOCALAPPDATA% also admits SYSTEM
// and the administrators, and elsewhere (a custom MAILSYNC_HOME) may admit
// everyone. The owner is left as it is: a user may not always give
// ownership to themselves.
func protectDir(dir string) error {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return fmt.Errorf("who is the current user: %w", err)
	}
	sd, err := windows.SecurityDescriptorFromString(ownerOnlySDDL(u.User.Sid))
	if err != nil {
		return fmt.Errorf("build the folder's security: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("build the folder's security: %w", err)
	}
	err = windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION,
		nil, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("set the folder's DACL: %w", err)
	}
	return nil
}

// ownerOnlySDDL is a protected DACL (nothing inherited) admitting user
// alone, with full access, to the folder, its subfolders and its files.
func ownerOnlySDDL(user *windows.SID) string {
	return fmt.Sprintf("D:P(A;OICI;FA;;;%s)", user)
}
