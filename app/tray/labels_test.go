package tray

import (
	"testing"
	"time"

	"mailsync/assets"
	"mailsync/storage"
	"mailsync/sync/engine"
)

func TestStatusLine(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2025, 3, 14, 15, 30, 0, 0, loc)
	tests := []struct {
		name string
		s    engine.Status
		want string
	}{
		{"signed out", engine.Status{State: engine.SignedOut}, "Not connected — open Settings to connect"},
		{"idle today", engine.Status{State: engine.Idle, LastPass: time.Date(2025, 3, 14, 10, 42, 0, 0, loc), SyncedToday: 3}, "Last sync 10:42 · 3 emails copied today"},
		{"idle one email", engine.Status{State: engine.Idle, LastPass: time.Date(2025, 3, 14, 10, 42, 0, 0, loc), SyncedToday: 1}, "Last sync 10:42 · 1 email copied today"},
		{"idle none", engine.Status{State: engine.Idle, LastPass: time.Date(2025, 3, 14, 10, 42, 0, 0, loc)}, "Last sync 10:42 · no emails copied today"},
		{"idle shown in local time", engine.Status{State: engine.Idle, LastPass: time.Date(2025, 3, 14, 9, 42, 0, 0, time.UTC), SyncedToday: 2}, "Last sync 10:42 · 2 emails copied today"},
		{"idle yesterday", engine.Status{State: engine.Idle, LastPass: time.Date(2025, 3, 13, 23, 5, 0, 0, loc)}, "Last sync yesterday 23:05 · no emails copied today"},
		{"idle long ago", engine.Status{State: engine.Idle, LastPass: time.Date(2025, 3, 2, 8, 0, 0, 0, loc)}, "Last sync 2 Mar 08:00 · no emails copied today"},
		{"idle never synced", engine.Status{State: engine.Idle}, "Waiting for the first sync"},
		{"syncing with progress", engine.Status{State: engine.Syncing, Progress: &engine.Progress{Done: 120, Total: 400}}, "Syncing… 120 of 400"},
		{"syncing without total", engine.Status{State: engine.Syncing, Progress: &engine.Progress{}}, "Syncing…"},
		{"syncing no progress", engine.Status{State: engine.Syncing}, "Syncing…"},
		{"reconnect", engine.Status{State: engine.NeedsReconnect, LastError: "token refused"}, "Reconnect needed"},
		{"error with words", engine.Status{State: engine.Error, LastError: "ClientSuccess is under maintenance"}, "Sync failed: ClientSuccess is under maintenance"},
		{"error without words", engine.Status{State: engine.Error}, "Sync failed"},
		{"paused", engine.Status{State: engine.Paused}, "Paused"},
		{"unknown state", engine.Status{State: 42}, "Unknown"},
		{"sandbox idle", engine.Status{State: engine.Idle, Sandbox: true, LastPass: time.Date(2025, 3, 14, 10, 42, 0, 0, loc), SyncedToday: 3}, "Last sync 10:42 · 3 emails copied today (sandbox)"},
		{"sandbox signed out", engine.Status{State: engine.SignedOut, Sandbox: true}, "Not connected — open Settings to connect (sandbox)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StatusLine(tt.s, now); got != tt.want {
				t.Errorf("StatusLine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTooltip(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 30, 0, 0, time.UTC)
	acct := &engine.Account{Name: "Ann", Email: "ann@example.com"}
	tests := []struct {
		name string
		s    engine.Status
		want string
	}{
		{"signed out", engine.Status{State: engine.SignedOut}, "Mail Sync\nNot connected — open Settings to connect"},
		{"idle with next pass", engine.Status{State: engine.Idle, Account: acct, LastPass: now.Add(-30 * time.Minute), SyncedToday: 4, NextPass: now.Add(30 * time.Minute)},
			"Mail Sync — ann@example.com\nLast sync 15:00 · 4 emails copied today\nNext sync 16:00"},
		{"error retries tomorrow", engine.Status{State: engine.Error, Account: acct, LastError: "no network", NextPass: time.Date(2025, 3, 15, 0, 10, 0, 0, time.UTC)},
			"Mail Sync — ann@example.com\nSync failed: no network\nNext sync tomorrow 00:10"},
		{"paused hides next pass", engine.Status{State: engine.Paused, Account: acct, NextPass: now.Add(time.Hour)}, "Mail Sync — ann@example.com\nPaused"},
		{"sandbox", engine.Status{State: engine.Idle, Sandbox: true, Account: acct, LastPass: now.Add(-30 * time.Minute), SyncedToday: 4, NextPass: now.Add(30 * time.Minute)},
			"Mail Sync (sandbox) — ann@example.com\nLast sync 15:00 · 4 emails copied today\nNext sync 16:00"},
		{"sandbox signed out", engine.Status{State: engine.SignedOut, Sandbox: true}, "Mail Sync (sandbox)\nNot connected — open Settings to connect"},
		{"copying older mail", engine.Status{State: engine.Idle, Account: acct, LastPass: now.Add(-30 * time.Minute), SyncedToday: 4, NextPass: now.Add(30 * time.Minute),
			Backfill: &engine.Backfill{State: storage.BackfillRunning, Days: 30, From: now.Add(-30 * 24 * time.Hour), To: now, Reached: now.Add(-10 * 24 * time.Hour), Read: 210, Emails: 7}},
			"Mail Sync — ann@example.com\nLast sync 15:00 · 4 emails copied today\nNext sync 16:00\nCopying older mail: 33% of 30 days · 210 read · 7 copied"},
		{"older mail copied", engine.Status{State: engine.Idle, Account: acct, LastPass: now.Add(-30 * time.Minute), SyncedToday: 4, NextPass: now.Add(30 * time.Minute),
			Backfill: &engine.Backfill{State: storage.BackfillDone, Days: 30, Emails: 7}},
			"Mail Sync — ann@example.com\nLast sync 15:00 · 4 emails copied today\nNext sync 16:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Tooltip(tt.s, now); got != tt.want {
				t.Errorf("Tooltip = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMenuFor(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 30, 0, 0, time.UTC)
	acct := &engine.Account{Email: "ann@example.com"}
	tests := []struct {
		name         string
		facts        engine.Status
		syncEnabled  bool
		pauseLabel   string
		pauseEnabled bool
		icon         string
	}{
		{"signed out", engine.Status{}, false, LabelPause, false, assets.TraySignedOut},
		{"idle", engine.Status{Account: acct, CRMUser: "ann"}, true, LabelPause, true, assets.TrayIdle},
		{"syncing", engine.Status{Account: acct, CRMUser: "ann", Running: true}, false, LabelPause, true, assets.TraySyncing},
		{"reconnect", engine.Status{Account: acct, CRMUser: "ann", Reconnect: "revoked"}, false, LabelPause, true, assets.TrayReconnect},
		{"error", engine.Status{Account: acct, CRMUser: "ann", LastError: "down"}, true, LabelPause, true, assets.TrayError},
		{"paused", engine.Status{Account: acct, CRMUser: "ann", Paused: true}, false, LabelResume, true, assets.TrayPaused},
		{"crm signed out", engine.Status{Account: acct}, false, LabelPause, true, assets.TrayCRMSignedOut},
		{"paused while signed out", engine.Status{Paused: true}, false, LabelResume, true, assets.TraySignedOut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.facts
			s.State = engine.Derive(s)
			m := MenuFor(s, now)
			if m.SyncEnabled != tt.syncEnabled || m.PauseLabel != tt.pauseLabel || m.PauseEnabled != tt.pauseEnabled || m.Icon != tt.icon {
				t.Errorf("MenuFor(%v) = %+v, want sync enabled %v, pause %q enabled %v, icon %v",
					s.State, m, tt.syncEnabled, tt.pauseLabel, tt.pauseEnabled, tt.icon)
			}
			if m.Status != StatusLine(s, now) {
				t.Errorf("menu status %q differs from StatusLine %q", m.Status, StatusLine(s, now))
			}
		})
	}
}
