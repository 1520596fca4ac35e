// Package assets holds the icons of Mail Sync, embedded in the binary: the
// tray icons and the application icon. It knows nothing of the engine: the
// tray maps each state to an icon name.
//
// The PNGs are drawn by gen.go (`go run assets/gen.go` from the module root)
// and committed, so building never runs the generator.
package assets

import (
	_ "embed"
)

// Tray icon names, one per look of the tray. The tray decides which one a
// state shows.
const (
	TraySignedOut    = "signedout"    // hollow grey envelope: no mailbox connected
	TrayIdle         = "idle"         // green check: up to date
	TraySyncing      = "syncing"      // blue arrows: a pass is running
	TrayReconnect    = "reconnect"    // amber "!": connect Office 365 again
	TrayError        = "error"        // red "×": the last pass failed
	TrayPaused       = "paused"       // grey bars: paused
	TrayCRMSignedOut = "crmsignedout" // indigo person: sign in to ClientSuccess
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
	//go:embed tray_crmsignedout.png
	trayCRMSignedOut []byte

	trayIcons = map[string][]byte{
		TraySignedOut: traySignedOut, TrayIdle: trayIdle, TraySyncing: traySyncing,
		TrayReconnect: trayReconnect, TrayError: trayError, TrayPaused: trayPaused,
		TrayCRMSignedOut: trayCRMSignedOut,
	}
)

// TrayNames lists every tray icon name.
func TrayNames() []string {
	return []string{TraySignedOut, TrayIdle, TraySyncing, TrayReconnect, TrayError, TrayPaused, TrayCRMSignedOut}
}

// TrayIcon returns the 64×64 PNG tray icon called name (one of the Tray
// constants). An unknown name gets the error icon, so a mismatch shows
// rather than looking healthy. The returned slice is shared: callers must
// not modify it.
func TrayIcon(name string) []byte {
	if b, ok := trayIcons[name]; ok {
		return b
	}
	return trayError
}

// AppIcon returns the 256×256 PNG application icon (window, FyneApp.toml,
// autostart entry). The returned slice is shared: callers must not modify it.
func AppIcon() []byte { return appIcon }
