//go:build !darwin && !windows

package notify

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
)

// fakeServer is a notification daemon on the test's session bus: it answers
// Notify with increasing ids, as the real service does, and records calls.
type fakeServer struct {
	mu    sync.Mutex
	calls [][]any
	next  uint32
}

func (f *fakeServer) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, []any{app, replaces, icon, summary, body, timeout})
	f.next++
	return f.next, nil
}

func TestNotifyThroughSessionBus(t *testing.T) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		t.Skip("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset): run under dbus-run-session")
	}
	srv, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer srv.Close()
	fake := &fakeServer{}
	if err := srv.Export(fake, objPath, service); err != nil {
		t.Fatal(err)
	}
	reply, err := srv.RequestName(service, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Skipf("cannot own %s on this bus (another notification daemon runs?): %v %v", service, reply, err)
	}
	defer srv.ReleaseName(service)

	var logged bytes.Buffer
	n := New(slog.New(slog.NewTextHandler(&logged, nil)))
	defer n.Close()
	if !n.Desktop() {
		t.Fatalf("Notifier did not find the notification service; log:\n%s", logged.String())
	}
	if err := n.Notify("Mail Sync: reconnect needed", "Open Settings and connect again."); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.calls) != 1 {
		t.Fatalf("service got %d Notify calls, want 1", len(fake.calls))
	}
	got := fake.calls[0]
	if got[0] != "Mail Sync" || got[1] != uint32(0) || got[3] != "Mail Sync: reconnect needed" || got[4] != "Open Settings and connect again." || got[5] != int32(-1) {
		t.Errorf("Notify(app, replaces, icon, summary, body, timeout) = %q", got)
	}
}

func TestNotifyFallsBackToLog(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	var logged bytes.Buffer
	n := New(slog.New(slog.NewTextHandler(&logged, nil)))
	defer n.Close()
	if n.Desktop() {
		t.Fatal("Notifier claims a desktop service without a session bus")
	}
	if err := n.Notify("Mail Sync has not synced for over 3 hours", "No network."); err != nil {
		t.Fatalf("Notify without a service: %v", err)
	}
	if !strings.Contains(logged.String(), `title="Mail Sync has not synced for over 3 hours"`) || !strings.Contains(logged.String(), `body="No network."`) {
		t.Errorf("notification not in the log:\n%s", logged.String())
	}
}
