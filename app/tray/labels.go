package tray

import (
	"fmt"
	"time"

	"mailsync/assets"
	"mailsync/storage"
	"mailsync/sync/engine"
)

// StatusLine is the first, disabled line of the tray menu: the state in a
// few words, e.g. "Last sync 10:42 · 3 emails copied today", "Syncing… 120 of 400",
// "Reconnect needed", "Not connected — open Settings to connect", "Paused",
// "Sync failed: <LastError>". Times are shown in now's location. When the
// agent runs against the built-in sandbox (mailsync demo) the line ends in
// " (sandbox)", so demo data is never taken for the real mailbox.
func StatusLine(s engine.Status, now time.Time) string {
	if s.Sandbox {
		return stateLine(s, now) + " (sandbox)"
	}
	return stateLine(s, now)
}

// stateLine is the status line without the sandbox marker.
func stateLine(s engine.Status, now time.Time) string {
	switch s.State {
	case engine.SignedOut:
		return "Not connected — open Settings to connect"
	case engine.Idle:
		if s.LastPass.IsZero() {
			return "Waiting for the first sync"
		}
		return "Last sync " + when(s.LastPass, now) + " · " + emailsToday(s.SyncedToday)
	case engine.Syncing:
		if p := s.Progress; p != nil && p.Total > 0 {
			return fmt.Sprintf("Syncing… %d of %d", p.Done, p.Total)
		}
		return "Syncing…"
	case engine.NeedsReconnect:
		return "Reconnect needed"
	case engine.Error:
		if s.LastError == "" {
			return "Sync failed"
		}
		return "Sync failed: " + s.Problem()
	case engine.Paused:
		return "Paused"
	case engine.CRMSignedOut:
		return "Sign in to ClientSuccess — open Settings"
	}
	return s.State.String()
}

// Tooltip is the text shown when the pointer rests on the tray icon: the
// product name with the connected mailbox, the status line and, when a pass
// is scheduled, when the next one runs. In the sandbox the first line says
// "Mail Sync (sandbox)"; the status line then goes without the marker.
func Tooltip(s engine.Status, now time.Time) string {
	t := "Mail Sync"
	if s.Sandbox {
		t += " (sandbox)"
	}
	if s.Account != nil && s.Account.Email != "" {
		t += " — " + s.Account.Email
	}
	t += "\n" + stateLine(s, now)
	if next := s.NextSync(); !next.IsZero() {
		t += "\nNext sync " + when(next, now)
	}
	if b := s.Backfill; b != nil && b.State == storage.BackfillRunning {
		t += fmt.Sprintf("\nCopying older mail: %d%% of %d days · %d read · %d copied",
			int(engine.BackfillShare(*b)*100+0.5), b.Days, b.Read, b.Emails)
	}
	return t
}

// MenuState is everything about the menu that depends on the status.
type MenuState struct {
	Status       string
	SyncEnabled  bool   // Sync now: only when a pass can run (engine.Status.Actions)
	PauseLabel   string // the Pause item toggles between pausing and resuming
	PauseEnabled bool   // Pause with a connected mailbox, Resume while paused
	Icon         string // an assets.Tray* name
}

// MenuFor is the menu for status s: its enabled items are the status's
// Actions, the same the window's buttons enable.
func MenuFor(s engine.Status, now time.Time) MenuState {
	act := s.Actions()
	m := MenuState{
		Status:       StatusLine(s, now),
		SyncEnabled:  act.SyncNow,
		PauseLabel:   LabelPause,
		PauseEnabled: act.Pause,
		Icon:         IconName(s.State),
	}
	if act.Resume {
		m.PauseLabel, m.PauseEnabled = LabelResume, true
	}
	return m
}

// IconName is the tray icon (an assets.Tray* name) of state st. An
// unknown state gets the error icon, so a mismatch shows rather than
// looking healthy.
func IconName(st engine.State) string {
	switch st {
	case engine.SignedOut:
		return assets.TraySignedOut
	case engine.Idle:
		return assets.TrayIdle
	case engine.Syncing:
		return assets.TraySyncing
	case engine.NeedsReconnect:
		return assets.TrayReconnect
	case engine.Paused:
		return assets.TrayPaused
	case engine.CRMSignedOut:
		return assets.TrayCRMSignedOut
	}
	return assets.TrayError
}

// when formats t relative to now's day: "10:42", "yesterday 10:42",
// "tomorrow 10:42" or "2 Jan 10:42".
func when(t, now time.Time) string {
	t = t.In(now.Location())
	clock := t.Format("15:04")
	y1, m1, d1 := t.Date()
	day := time.Date(y1, m1, d1, 0, 0, 0, 0, now.Location())
	y2, m2, d2 := now.Date()
	today := time.Date(y2, m2, d2, 0, 0, 0, 0, now.Location())
	switch {
	case day.Equal(today):
		return clock
	case day.Equal(today.AddDate(0, 0, -1)):
		return "yesterday " + clock
	case day.Equal(today.AddDate(0, 0, 1)):
		return "tomorrow " + clock
	}
	return t.Format("2 Jan 15:04")
}

func emailsToday(n int) string {
	switch n {
	case 0:
		return "no emails copied today"
	case 1:
		return "1 email copied today"
	}
	return fmt.Sprintf("%d emails copied today", n)
}
