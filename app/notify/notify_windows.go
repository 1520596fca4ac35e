package notify

import (
	"fmt"
	"os"
	"path/filepath"

	"git.sr.ht/~jackmordaunt/go-toast"

	"mailsync/assets"
)

// appID names Mail Sync in the toast and in the Action Centre. go-toast
// registers it under HKCU\Software\Classes\AppUserModelId on first use.
const appID = "Mail Sync"

// toaster shows Windows toast notifications through the Windows Runtime
// (git.sr.ht/~jackmordaunt/go-toast, which falls back to PowerShell where
// the COM route is unavailable).
type toaster struct{ icon string }

// openDesktop writes the app icon where a toast can show it.
func openDesktop() (desktop, error) {
	dir := filepath.Join(os.TempDir(), "Mail Sync icons")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("notify: icon for toasts: %w", err)
	}
	icon := filepath.Join(dir, "icon.png")
	if err := os.WriteFile(icon, assets.AppIcon(), 0o600); err != nil {
		return nil, fmt.Errorf("notify: icon for toasts: %w", err)
	}
	return &toaster{icon: icon}, nil
}

func (t *toaster) notify(title, body string) error {
	n := toast.Notification{AppID: appID, Title: title, Body: body, Icon: t.icon}
	if err := n.Push(); err != nil {
		return fmt.Errorf("notify: toast: %w", err)
	}
	return nil
}

func (t *toaster) close() error { return nil }
