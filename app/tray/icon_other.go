//go:build !windows

package tray

import (
	"fyne.io/systray"

	"mailsync/assets"
)

// setIcon shows the tray icon called name: the PNG artwork as it is.
func setIcon(name string) { systray.SetIcon(assets.TrayIcon(name)) }
