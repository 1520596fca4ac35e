// Package app is the desktop side of Mail Sync: the three kinds of process
// one binary runs (the resident agent with its tray, the settings window,
// and the command line) and the sandbox demo. It wires the headless core in
// sync/agent to the tray (app/tray), the Fyne window (app/settings), the
// login item (app/autostart), notifications (app/notify) and the browser.
package app
