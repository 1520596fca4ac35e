// Package assets holds the icons of Mail Sync, embedded in the binary: one
// tray icon per engine state and the application icon.
//
// The PNGs are drawn by gen.go (`go run assets/gen.go` from the module root)
// and committed, so building never runs the generator.
package assets

import (
	_ "embed"

	"mailsync/sync/engine"
)

var (
	//go:embed icon.png
	appIcon []byte
	//go:embed tray_signedout.png
	traySignedOut []byte
	//go:embed tray_idle.png
	trayIdle []byte
	//go:embed tray_syncing.png
	traySyncing []byte
	//go:embed tray_reconnect.png
	trayReconnect []byte
	//go:embed tray_error.png
	trayError []byte
	//go:embed tray_paused.png
	trayPaused []byte
)

// TrayIcon returns the 64×64 PNG tray icon for state s: an envelope with a
// badge (green check idle, blue arrows syncing, amber "!" reconnect needed,
// red "×" error, grey bars paused, hollow grey when signed out). An unknown
// state gets the error icon, so a mismatch shows rather than looking healthy.
// The returned slice is shared: callers must not modify it.
func TrayIcon(s engine.State) []byte {
	switch s {
	case engine.SignedOut:
		return traySignedOut
	case engine.Idle:
		return trayIdle
	case engine.Syncing:
		return traySyncing
	case engine.NeedsReconnect:
		return trayReconnect
	case engine.Paused:
		return trayPaused
	}
	return trayError
}

// AppIcon returns the 256×256 PNG application icon (window, FyneApp.toml,
// autostart entry). The returned slice is shared: callers must not modify it.
func AppIcon() []byte { return appIcon }
