package tray_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsync/app/tray"
	"mailsync/app/tray/traytest"
	"mailsync/assets"
	"mailsync/sync/engine"
)

// TestTrayOverDBus runs the tray in a child process (traydemo) against a
// real StatusNotifierWatcher and drives it the way a desktop panel does.
// Run it inside `dbus-run-session`; it starts the watcher itself when the
// bus has none.
func TestTrayOverDBus(t *testing.T) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		t.Skip("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset): run under dbus-run-session")
	}
	watcherBin, err := exec.LookPath("status-notifier-watcher")
	if err != nil {
		t.Skip("status-notifier-watcher not on PATH (Debian: haskell-status-notifier-item-utils)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH, needed to build the tray demo")
	}
	// Connect, never SessionBus: the test must not autolaunch a bus.
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to session bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })

	if !hasOwner(t, conn, traytest.WatcherName) {
		w := exec.Command(watcherBin)
		if err := w.Start(); err != nil {
			t.Fatalf("start status-notifier-watcher: %v", err)
		}
		t.Cleanup(func() { w.Process.Kill(); w.Wait() })
		traytest.Eventually(t, "the watcher owns its name", func() bool { return hasOwner(t, conn, traytest.WatcherName) })
	}

	demo := filepath.Join(t.TempDir(), "traydemo")
	if out, err := exec.Command(goBin, "build", "-o", demo, "mailsync/app/tray/internal/traydemo").CombinedOutput(); err != nil {
		t.Fatalf("build traydemo: %v\n%s", err, out)
	}
	child := exec.Command(demo)
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatalf("start traydemo: %v", err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		child.Process.Kill()
		<-exited
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- child.Wait()
	}()
	expectLine(t, lines, "ready")

	item := traytest.Find(t, conn, child.Process.Pid)

	// Before any status the tray shows "signed out".
	var first traytest.Menu
	traytest.Eventually(t, "the initial menu is exported", func() bool {
		first = item.ReadMenu(t)
		return len(first) == 6
	})
	wantLabels := []string{tray.StatusLine(engine.Status{}, time.Now()), tray.LabelSyncNow, tray.LabelPause, tray.LabelSettings, tray.LabelOpenLog, tray.LabelQuit}
	if got := first.Labels(); !slices.Equal(got, wantLabels) {
		t.Fatalf("menu labels = %q, want %q", got, wantLabels)
	}
	if first[0].Enabled {
		t.Errorf("status line item is enabled; it should be informational only")
	}
	if first.ByLabel(t, tray.LabelSyncNow).Enabled {
		t.Errorf("Sync now is enabled while signed out")
	}
	checkIcon(t, item.Icon, engine.SignedOut)

	send := func(s engine.Status) engine.Status {
		t.Helper()
		s.State = engine.Derive(s)
		b, _ := json.Marshal(s)
		if _, err := stdin.Write(append(b, '\n')); err != nil {
			t.Fatalf("send status: %v", err)
		}
		return s
	}
	acct := &engine.Account{Email: "ann@example.com"}
	// A pass starts: status line, icon and tooltip follow.
	syncing := send(engine.Status{Account: acct, CRMUser: "ann", Running: true, Progress: &engine.Progress{Done: 120, Total: 400}})
	m := waitMenu(t, item, syncing)
	checkIcon(t, item.Icon, engine.Syncing)
	checkTooltip(t, item.Icon, tray.Tooltip(syncing, time.Now()))
	if m.ByLabel(t, tray.LabelSyncNow).Enabled {
		t.Errorf("Sync now is enabled while a pass runs")
	}

	// The pass ends.
	idle := send(engine.Status{Account: acct, CRMUser: "ann", LastPass: time.Now(), SyncedToday: 3})
	m = waitMenu(t, item, idle)
	checkIcon(t, item.Icon, engine.Idle)
	if !m.ByLabel(t, tray.LabelSyncNow).Enabled {
		t.Errorf("Sync now is disabled while idle")
	}

	// Clicking Sync now runs Actions.SyncNow in the tray's process.
	item.Click(t, m.ByLabel(t, tray.LabelSyncNow).ID)
	expectLine(t, lines, "action SyncNow")

	// Paused: the toggle offers Resume, and clicking it resumes.
	m = waitMenu(t, item, send(engine.Status{Account: acct, CRMUser: "ann", Paused: true}))
	checkIcon(t, item.Icon, engine.Paused)
	item.Click(t, m.ByLabel(t, tray.LabelResume).ID)
	expectLine(t, lines, "action Resume")

	// Signed out of ClientSuccess: its own icon, nothing to sync.
	m = waitMenu(t, item, send(engine.Status{Account: acct}))
	checkIcon(t, item.Icon, engine.CRMSignedOut)
	if m.ByLabel(t, tray.LabelSyncNow).Enabled {
		t.Errorf("Sync now is enabled while signed out of ClientSuccess")
	}

	// Reconnect needed: Sync now is disabled again.
	m = waitMenu(t, item, send(engine.Status{Account: acct, CRMUser: "ann", Reconnect: "revoked"}))
	checkIcon(t, item.Icon, engine.NeedsReconnect)
	if m.ByLabel(t, tray.LabelSyncNow).Enabled {
		t.Errorf("Sync now is enabled while a reconnect is needed")
	}

	// Quit runs Actions.Quit and ends Run.
	item.Click(t, m.ByLabel(t, tray.LabelQuit).ID)
	expectLine(t, lines, "action Quit")
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("tray process after Quit: %v", err)
		}
	case <-time.After(traytest.Timeout):
		t.Fatalf("tray process still running %v after Quit", traytest.Timeout)
	}
}

// waitMenu waits until the whole menu shows s: the status line, the
// toggle's label and which items are enabled (the tray sets them one
// after the other, so the status line alone does not say the rest is
// there yet).
func waitMenu(t *testing.T, item traytest.Item, s engine.Status) traytest.Menu {
	t.Helper()
	want := tray.MenuFor(s, time.Now())
	var m traytest.Menu
	traytest.Eventually(t, fmt.Sprintf("the menu of %+v", want), func() bool {
		m = item.ReadMenu(t)
		if len(m) != 6 || m[0].Label != want.Status {
			return false
		}
		var sync, pause *traytest.Entry
		for i := range m {
			switch m[i].Label {
			case tray.LabelSyncNow:
				sync = &m[i]
			case want.PauseLabel:
				pause = &m[i]
			}
		}
		return sync != nil && pause != nil && sync.Enabled == want.SyncEnabled && pause.Enabled == want.PauseEnabled
	})
	return m
}

// checkIcon asserts the item's IconPixmap is the state's icon from assets:
// same size, same alpha everywhere and the same colour (ARGB byte order of
// the StatusNotifierItem spec) wherever the icon is opaque. Colours of
// antialiased edge pixels are not compared: systray v1.12 converts them from
// premultiplied values, which would make an exact match test that quirk.
func checkIcon(t *testing.T, item dbus.BusObject, s engine.State) {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(assets.TrayIcon(tray.IconName(s))))
	if err != nil {
		t.Fatalf("decode %v icon: %v", s, err)
	}
	b := img.Bounds()
	matches := func(pix []byte) bool {
		if len(pix) != b.Dx()*b.Dy()*4 {
			return false
		}
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				if pix[i] != c.A || c.A == 0xff && !bytes.Equal(pix[i+1:i+4], []byte{c.R, c.G, c.B}) {
					return false
				}
				i += 4
			}
		}
		return true
	}
	var got []struct {
		W, H int32
		Pix  []byte
	}
	traytest.Eventually(t, fmt.Sprintf("the %v icon", s), func() bool {
		v, err := item.GetProperty("org.kde.StatusNotifierItem.IconPixmap")
		if err != nil {
			return false
		}
		if err := dbus.Store([]any{v.Value()}, &got); err != nil {
			t.Fatalf("IconPixmap is %T: %v", v.Value(), err)
		}
		return len(got) == 1 && int(got[0].W) == b.Dx() && int(got[0].H) == b.Dy() && matches(got[0].Pix)
	})
}

func checkTooltip(t *testing.T, item dbus.BusObject, want string) {
	t.Helper()
	var title string
	traytest.Eventually(t, fmt.Sprintf("tooltip %q", want), func() bool {
		v, err := item.GetProperty("org.kde.StatusNotifierItem.ToolTip")
		if err != nil {
			return false
		}
		f, ok := v.Value().([]any)
		if !ok || len(f) < 3 {
			t.Fatalf("ToolTip is %T, want (sa(iiay)ss)", v.Value())
		}
		title, _ = f[2].(string)
		return title == want
	})
}

func hasOwner(t *testing.T, conn *dbus.Conn, name string) bool {
	t.Helper()
	var has bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err != nil {
		t.Fatalf("NameHasOwner %s: %v", name, err)
	}
	return has
}

func expectLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	deadline := time.After(traytest.Timeout)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("tray process ended before printing %q", want)
			}
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("tray process did not print %q within %v", want, traytest.Timeout)
		}
	}
}
