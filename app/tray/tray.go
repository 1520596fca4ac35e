// Package tray is the agent's notification-area icon and menu, drawn with
// fyne.io/systray (StatusNotifierItem over D-Bus on Linux), so the resident
// process never runs an OpenGL loop.
//
// The tray is only a client of the engine: it renders each engine.Status it
// receives (icon, tooltip, status line, which items are enabled) and turns
// clicks into the Actions it was given. It holds no sync logic.
package tray

import (
	"sync"
	"time"

	"fyne.io/systray"

	"mailsync/sync/engine"
)

// Actions are what the menu items do. Each is called on the tray's click
// goroutine, one at a time, so it must return promptly (hand work to the
// agent rather than doing it). A nil action makes its item do nothing.
type Actions struct {
	SyncNow, Pause, Resume, Settings, OpenLog, Quit func()
}

// Menu item labels, also what tests read back over D-Bus.
const (
	LabelSyncNow  = "Sync now"
	LabelPause    = "Pause syncing"
	LabelResume   = "Resume"
	LabelSettings = "Settings…"
	LabelOpenLog  = "Open log"
	LabelQuit     = "Quit"
)

// Run shows the tray icon and blocks until the person chooses Quit (after
// a.Quit has returned) or updates is closed. Every status received updates
// the icon, the tooltip and the menu; until the first arrives the tray shows
// "signed out". onReady, if not nil, is called once the menu is built, while
// the item is being registered with the desktop.
//
// Run can be called once per process. On macOS it must be called from the
// main goroutine.
func Run(updates <-chan engine.Status, a Actions, onReady func()) {
	systray.Run(func() {
		t := build()
		go t.follow(updates)
		go t.clicks(a)
		if onReady != nil {
			onReady()
		}
	}, nil)
}

// tray holds the menu items and the state the Pause item toggles on.
type tray struct {
	status, syncNow, pause, settings, openLog, quit *systray.MenuItem

	mu     sync.Mutex
	paused bool
}

func build() *tray {
	t := &tray{}
	t.status = systray.AddMenuItem("", "")
	t.status.Disable() // informational: clicking it does nothing
	systray.AddSeparator()
	t.syncNow = systray.AddMenuItem(LabelSyncNow, "Run a sync pass now")
	t.pause = systray.AddMenuItem(LabelPause, "")
	systray.AddSeparator()
	t.settings = systray.AddMenuItem(LabelSettings, "Open the Mail Sync window")
	t.openLog = systray.AddMenuItem(LabelOpenLog, "Open the log file")
	systray.AddSeparator()
	t.quit = systray.AddMenuItem(LabelQuit, "Stop Mail Sync until the next login")
	t.show(engine.Status{State: engine.SignedOut}, time.Now())
	return t
}

// follow renders every status until updates is closed, then ends the tray.
func (t *tray) follow(updates <-chan engine.Status) {
	for s := range updates {
		t.show(s, time.Now())
	}
	systray.Quit()
}

func (t *tray) show(s engine.Status, now time.Time) {
	m := MenuFor(s, now)
	t.mu.Lock()
	t.paused = s.Paused
	t.mu.Unlock()
	setIcon(m.Icon)
	systray.SetTooltip(Tooltip(s, now))
	t.status.SetTitle(m.Status)
	t.pause.SetTitle(m.PauseLabel)
	enable(t.syncNow, m.SyncEnabled)
	enable(t.pause, m.PauseEnabled)
}

func enable(it *systray.MenuItem, on bool) {
	if on {
		it.Enable()
	} else {
		it.Disable()
	}
}

// clicks turns menu clicks into actions. It returns after Quit.
func (t *tray) clicks(a Actions) {
	call := func(f func()) {
		if f != nil {
			f()
		}
	}
	for {
		select {
		case <-t.syncNow.ClickedCh:
			call(a.SyncNow)
		case <-t.pause.ClickedCh:
			t.mu.Lock()
			paused := t.paused
			t.mu.Unlock()
			if paused {
				call(a.Resume)
			} else {
				call(a.Pause)
			}
		case <-t.settings.ClickedCh:
			call(a.Settings)
		case <-t.openLog.ClickedCh:
			call(a.OpenLog)
		case <-t.quit.ClickedCh:
			call(a.Quit)
			systray.Quit()
			return
		}
	}
}
