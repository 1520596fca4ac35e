// Command fynetray is the yardstick of `make bench-idle`: the smallest Fyne
// app that shows Mail Sync's tray icon and a menu like the agent's, with no
// window. It is what the agent would cost had it been built on Fyne's own
// tray support, whose driver runs the GL event loop even with no window open.
//
// It runs until the menu's Quit is chosen or it is signalled.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"mailsync/assets"
)

func main() {
	a := app.NewWithID("com.example.mailsync.bench-fynetray")
	desk, ok := a.(desktop.App)
	if !ok {
		// Without tray support the comparison would measure nothing.
		panic("fynetray: this Fyne driver has no system tray")
	}
	// The same entries as the agent's menu, so both processes keep the same
	// state in the tray host.
	status := fyne.NewMenuItem("Last sync 10:42 · 3 emails copied today", nil)
	status.Disabled = true
	desk.SetSystemTrayMenu(fyne.NewMenu("Mail Sync",
		status,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Sync now", func() {}),
		fyne.NewMenuItem("Pause syncing", func() {}),
		fyne.NewMenuItem("Settings…", func() {}),
		fyne.NewMenuItem("Open log", func() {}),
	))
	desk.SetSystemTrayIcon(fyne.NewStaticResource("tray_idle.png", assets.TrayIcon(assets.TrayIdle)))
	a.Run()
}
