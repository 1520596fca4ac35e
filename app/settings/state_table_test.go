package settings

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"mailsync/app/tray"
	"mailsync/assets"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
)

// TestEveryStateAgrees drives a real agent, served over its local API,
// through every combination of its facts, and checks that the state the
// agent derives, the tray's icon and enabled entries, the window's header
// and buttons, and `mailsync status --json` all say the same thing. The
// expected values are written out here from the product's rules, not
// computed by the code under test.
func TestEveryStateAgrees(t *testing.T) {
	dir := t.TempDir()
	ag, err := agent.Open(agent.Config{DataDir: dir, KeyringService: "mailsync-table-" + t.Name()}, agent.Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l, err := agentapi.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- agentapi.Serve(ctx, l, ag, nil) }()
	client, err := agentapi.Dial(dir)
	if err != nil {
		t.Fatal(err)
	}

	a := test.NewTempApp(t)
	queue := make(chan func(), 256)
	done := make(chan struct{})
	w := newWindow(a, client, options{
		now: func() time.Time { return testNow },
		do: func(f func()) {
			select {
			case queue <- f:
			case <-done:
			}
		},
		callTimeout: waitLimit, backoffMin: time.Millisecond, backoffMax: 10 * time.Millisecond, debounce: time.Millisecond,
	})
	t.Cleanup(func() {
		w.stop()
		close(done)
		client.Close()
		cancel()
		<-served
		ag.Close()
	})
	pump := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(waitLimit)
		for !cond() {
			select {
			case f := <-queue:
				f()
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	acct := &engine.Account{Name: "Dana Whitfield", Email: "dana@contoso.com"}
	for mask := range 1 << 6 {
		connected, crm, reconnect, running, paused, failed := mask&1 != 0, mask&2 != 0, mask&4 != 0, mask&8 != 0, mask&16 != 0, mask&32 != 0
		name := fmt.Sprintf("connected=%v crm=%v reconnect=%v running=%v paused=%v failed=%v", connected, crm, reconnect, running, paused, failed)

		// The product's rules, written out.
		var want engine.State
		var header, icon string
		switch {
		case !connected:
			want, header, icon = engine.SignedOut, "Not connected", assets.TraySignedOut
		case reconnect:
			want, header, icon = engine.NeedsReconnect, "Reconnect needed", assets.TrayReconnect
		case running:
			want, header, icon = engine.Syncing, "Syncing", assets.TraySyncing
		case paused:
			want, header, icon = engine.Paused, "Paused", assets.TrayPaused
		case !crm:
			want, header, icon = engine.CRMSignedOut, "Sign in to ClientSuccess to start syncing", assets.TrayCRMSignedOut
		case failed:
			want, header, icon = engine.Error, "Sync failed", assets.TrayError
		default:
			want, header, icon = engine.Idle, "Up to date", assets.TrayIdle
		}
		wantSync := want == engine.Idle || want == engine.Error // a pass can start now
		wantPause := connected || paused                        // Pause with a mailbox; Resume while paused
		wantLabel := "Pause syncing"
		if paused {
			wantLabel = "Resume"
		}

		ag.Board().Update(func(s *engine.Status) {
			*s = engine.Status{}
			if connected {
				s.Account = acct
			}
			if crm {
				s.CRMUser = "dana@contoso.com"
			}
			if reconnect {
				s.Reconnect = "Microsoft ended the sign-in"
			}
			s.Running, s.Paused = running, paused
			if failed {
				s.LastError = "ClientSuccess is down for maintenance"
			}
		})
		st := ag.Board().Get()
		pump(name, func() bool { return w.online && statusEqual(w.status, st) && w.status.Running == st.Running })

		if st.State != want {
			t.Errorf("%s: agent derived %v, want %v", name, st.State, want)
		}
		m := tray.MenuFor(st, testNow)
		if m.Icon != icon {
			t.Errorf("%s: tray icon %q, want %q", name, m.Icon, icon)
		}
		if m.SyncEnabled != wantSync || m.PauseEnabled != wantPause || m.PauseLabel != wantLabel {
			t.Errorf("%s: tray Sync now %v, %q %v; want %v, %q %v", name, m.SyncEnabled, m.PauseLabel, m.PauseEnabled, wantSync, wantLabel, wantPause)
		}
		if got := w.header.Text; got != header {
			t.Errorf("%s: window header %q, want %q", name, got, header)
		}
		if got := !w.sync.syncBtn.Disabled(); got != wantSync {
			t.Errorf("%s: window Sync now enabled %v, want %v", name, got, wantSync)
		}
		if got, on := w.sync.pauseBtn.Text, !w.sync.pauseBtn.Disabled(); got != wantLabel || on != wantPause {
			t.Errorf("%s: window %q enabled %v, want %q enabled %v", name, got, on, wantLabel, wantPause)
		}
		shown := ""
		if w.sync.errText.Visible() {
			shown = w.sync.errText.Text
		}
		if wantShown := map[bool]string{true: "ClientSuccess is down for maintenance"}[want == engine.Error]; shown != wantShown {
			t.Errorf("%s: window error %q, want %q", name, shown, wantShown)
		}

		// `mailsync status --json` with the agent running.
		cst, err := client.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(agentapi.Report(cst, true))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			State     engine.State `json:"state"`
			StateName string       `json:"stateName"`
			Actions   struct {
				SyncNow, Pause, Resume bool
			} `json:"actions"`
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		if out.State != want || out.StateName != want.String() || out.Actions.SyncNow != wantSync ||
			out.Actions.Pause != (connected && !paused) || out.Actions.Resume != paused {
			t.Errorf("%s: status --json %s; want state %v, Sync now %v", name, b, want, wantSync)
		}
	}
}
