package tray

import (
	"fmt"
	"time"

	"mailsync/sync/engine"
)

// StatusLine is the first, disabled line of the tray menu: the state in a
// few words, e.g. "Synced 10:42 · 3 emails today", "Syncing… 120 of 400",
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
		return "Synced " + when(s.LastPass, now) + " · " + emailsToday(s.SyncedToday)
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
		return "Sync failed: " + s.LastError
	case engine.Paused:
		return "Paused"
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
	if !s.NextPass.IsZero() && (s.State == engine.Idle || s.State == engine.Error) {
		t += "\nNext sync " + when(s.NextPass, now)
	}
	return t
}

// menuState is everything about the menu that depends on the status.
type menuState struct {
	status      string
	syncEnabled bool   // Sync now makes no sense without a usable account
	pauseLabel  string // the Pause item toggles between pausing and resuming
	icon        engine.State
}

func menuFor(s engine.Status, now time.Time) menuState {
	m := menuState{
		status:      StatusLine(s, now),
		syncEnabled: s.State != engine.SignedOut && s.State != engine.NeedsReconnect,
		pauseLabel:  LabelPause,
		icon:        s.State,
	}
	if s.State == engine.Paused {
		m.pauseLabel = LabelResume
	}
	return m
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
		return "no emails today"
	case 1:
		return "1 email today"
	}
	return fmt.Sprintf("%d emails today", n)
}
