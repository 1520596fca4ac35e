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
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsync/app/tray"
	"mailsync/assets"
	"mailsync/sync/engine"
)

const (
	watcherName = "org.kde.StatusNotifierWatcher"
	itemPath    = "/StatusNotifierItem"
	menuPath    = "/StatusNotifierItem/menu"
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

	if !hasOwner(t, conn, watcherName) {
		w := exec.Command(watcherBin)
		if err := w.Start(); err != nil {
			t.Fatalf("start status-notifier-watcher: %v", err)
		}
		t.Cleanup(func() { w.Process.Kill(); w.Wait() })
		eventually(t, "the watcher owns its name", func() bool { return hasOwner(t, conn, watcherName) })
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

	// The item registers with the watcher under the connection that owns
	// its well-known name.
	itemName := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", child.Process.Pid)
	var owner string
	eventually(t, "the item is registered with the watcher", func() bool {
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, itemName).Store(&owner); err != nil {
			return false
		}
		v, err := conn.Object(watcherName, "/StatusNotifierWatcher").GetProperty(watcherName + ".RegisteredStatusNotifierItems")
		if err != nil {
			return false
		}
		items, _ := v.Value().([]string)
		return slices.ContainsFunc(items, func(s string) bool {
			return s == owner || s == itemName || strings.HasPrefix(s, owner+"/") || strings.HasPrefix(s, itemName+"/")
		})
	})
	item := conn.Object(owner, itemPath)
	menu := conn.Object(owner, menuPath)

	// Before any status the tray shows "signed out".
	var first []menuItem
	eventually(t, "the initial menu is exported", func() bool {
		first = readMenu(t, menu)
		return len(first) == 6
	})
	wantLabels := []string{tray.StatusLine(engine.Status{}, time.Now()), tray.LabelSyncNow, tray.LabelPause, tray.LabelSettings, tray.LabelOpenLog, tray.LabelQuit}
	if got := labels(first); !slices.Equal(got, wantLabels) {
		t.Fatalf("menu labels = %q, want %q", got, wantLabels)
	}
	if first[0].enabled {
		t.Errorf("status line item is enabled; it should be informational only")
	}
	if byLabel(t, first, tray.LabelSyncNow).enabled {
		t.Errorf("Sync now is enabled while signed out")
	}
	checkIcon(t, item, engine.SignedOut)

	send := func(s engine.Status) {
		t.Helper()
		b, _ := json.Marshal(s)
		if _, err := stdin.Write(append(b, '\n')); err != nil {
			t.Fatalf("send status: %v", err)
		}
	}
	// A pass starts: status line, icon and tooltip follow.
	syncing := engine.Status{State: engine.Syncing, Account: &engine.Account{Email: "ann@example.com"}, Progress: &engine.Progress{Done: 120, Total: 400}}
	send(syncing)
	waitStatus(t, menu, "Syncing… 120 of 400")
	checkIcon(t, item, engine.Syncing)
	checkTooltip(t, item, tray.Tooltip(syncing, time.Now()))

	// The pass ends.
	idle := engine.Status{State: engine.Idle, Account: syncing.Account, LastPass: time.Now(), SyncedToday: 3}
	send(idle)
	m := waitStatus(t, menu, tray.StatusLine(idle, time.Now()))
	checkIcon(t, item, engine.Idle)
	if !byLabel(t, m, tray.LabelSyncNow).enabled {
		t.Errorf("Sync now is disabled while idle")
	}

	// Clicking Sync now runs Actions.SyncNow in the tray's process.
	click(t, menu, byLabel(t, m, tray.LabelSyncNow).id)
	expectLine(t, lines, "action SyncNow")

	// Paused: the toggle offers Resume, and clicking it resumes.
	send(engine.Status{State: engine.Paused})
	m = waitStatus(t, menu, "Paused")
	checkIcon(t, item, engine.Paused)
	click(t, menu, byLabel(t, m, tray.LabelResume).id)
	expectLine(t, lines, "action Resume")

	// Reconnect needed: Sync now is disabled again.
	send(engine.Status{State: engine.NeedsReconnect})
	m = waitStatus(t, menu, "Reconnect needed")
	checkIcon(t, item, engine.NeedsReconnect)
	if byLabel(t, m, tray.LabelSyncNow).enabled {
		t.Errorf("Sync now is enabled while a reconnect is needed")
	}

	// Quit runs Actions.Quit and ends Run.
	click(t, menu, byLabel(t, m, tray.LabelQuit).id)
	expectLine(t, lines, "action Quit")
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("tray process after Quit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("tray process still running 10 s after Quit")
	}
}

type menuItem struct {
	id      int32
	label   string
	enabled bool
}

// readMenu reads the top level of the menu through com.canonical.dbusmenu,
// skipping separators.
func readMenu(t *testing.T, menu dbus.BusObject) []menuItem {
	t.Helper()
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		t.Logf("GetLayout: %v", err)
		return nil
	}
	var items []menuItem
	for _, c := range root.Children {
		f, ok := c.Value().([]any)
		if !ok || len(f) < 2 {
			t.Fatalf("menu child is %T, want a (ia{sv}av) struct", c.Value())
		}
		props, _ := f[1].(map[string]dbus.Variant)
		if ty, _ := props["type"].Value().(string); ty == "separator" {
			continue
		}
		it := menuItem{id: f[0].(int32), enabled: true}
		if v, ok := props["label"]; ok {
			it.label, _ = v.Value().(string)
		}
		if v, ok := props["enabled"]; ok {
			it.enabled, _ = v.Value().(bool)
		}
		if v, ok := props["visible"]; ok {
			if vis, _ := v.Value().(bool); !vis {
				continue
			}
		}
		items = append(items, it)
	}
	return items
}

func labels(m []menuItem) []string {
	var l []string
	for _, it := range m {
		l = append(l, it.label)
	}
	return l
}

func byLabel(t *testing.T, m []menuItem, label string) menuItem {
	t.Helper()
	for _, it := range m {
		if it.label == label {
			return it
		}
	}
	t.Fatalf("no menu item %q in %q", label, labels(m))
	return menuItem{}
}

func waitStatus(t *testing.T, menu dbus.BusObject, want string) []menuItem {
	t.Helper()
	var m []menuItem
	eventually(t, fmt.Sprintf("status line %q", want), func() bool {
		m = readMenu(t, menu)
		return len(m) > 0 && m[0].label == want
	})
	return m
}

func click(t *testing.T, menu dbus.BusObject, id int32) {
	t.Helper()
	err := menu.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(time.Now().Unix())).Err
	if err != nil {
		t.Fatalf("click menu item %d: %v", id, err)
	}
}

// checkIcon asserts the item's IconPixmap is the state's icon from assets:
// same size, same alpha everywhere and the same colour (ARGB byte order of
// the StatusNotifierItem spec) wherever the icon is opaque. Colours of
// antialiased edge pixels are not compared: systray v1.12 converts them from
// premultiplied values, which would make an exact match test that quirk.
func checkIcon(t *testing.T, item dbus.BusObject, s engine.State) {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(assets.TrayIcon(s)))
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
	eventually(t, fmt.Sprintf("the %v icon", s), func() bool {
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
	eventually(t, fmt.Sprintf("tooltip %q", want), func() bool {
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
	deadline := time.After(10 * time.Second)
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
			t.Fatalf("tray process did not print %q within 10 s", want)
		}
	}
}

// eventually polls cond every 20 ms for up to 10 s: D-Bus updates are
// asynchronous, and polling ends as soon as the condition holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); ; {
		if cond() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
