// Package traytest reads and drives Mail Sync's tray over the D-Bus session
// bus the way a desktop panel does: it finds the StatusNotifierItem a
// process registered with the StatusNotifierWatcher, reads the item's
// com.canonical.dbusmenu menu and clicks its entries. The tray's own test
// and the agent process's end-to-end test share it.
package traytest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// WatcherName is the well-known bus name of the StatusNotifierWatcher, the
// panel's registry of tray items.
const WatcherName = "org.kde.StatusNotifierWatcher"

// Timeout bounds every wait of this package: D-Bus updates are
// asynchronous, so conditions are polled until they hold or it runs out.
const Timeout = 90 * time.Second

// Item is one process's tray item on the session bus.
type Item struct {
	Icon dbus.BusObject // the org.kde.StatusNotifierItem object
	Menu dbus.BusObject // its com.canonical.dbusmenu object
}

// Find waits until the process pid has registered its tray item with the
// watcher, under the connection that owns the item's well-known name, and
// returns the item. It fails t after Timeout.
func Find(t testing.TB, conn *dbus.Conn, pid int) Item {
	t.Helper()
	itemName := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid)
	var owner string
	Eventually(t, "the tray item of process "+fmt.Sprint(pid)+" is registered with the watcher", func() bool {
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, itemName).Store(&owner); err != nil {
			return false
		}
		v, err := conn.Object(WatcherName, "/StatusNotifierWatcher").GetProperty(WatcherName + ".RegisteredStatusNotifierItems")
		if err != nil {
			return false
		}
		items, _ := v.Value().([]string)
		return slices.ContainsFunc(items, func(s string) bool {
			return s == owner || s == itemName || strings.HasPrefix(s, owner+"/") || strings.HasPrefix(s, itemName+"/")
		})
	})
	return Item{
		Icon: conn.Object(owner, "/StatusNotifierItem"),
		Menu: conn.Object(owner, "/StatusNotifierItem/menu"),
	}
}

// Entry is one visible top-level entry of the tray menu.
type Entry struct {
	ID      int32 // the dbusmenu id, which Click takes
	Label   string
	Enabled bool
}

// Menu is the visible top-level entries of the tray menu, in order; the
// first is the status line.
type Menu []Entry

// Labels returns the entries' labels in order.
func (m Menu) Labels() []string {
	l := make([]string, 0, len(m))
	for _, e := range m {
		l = append(l, e.Label)
	}
	return l
}

// ByLabel returns the entry labelled label; it fails t when there is none.
func (m Menu) ByLabel(t testing.TB, label string) Entry {
	t.Helper()
	for _, e := range m {
		if e.Label == label {
			return e
		}
	}
	t.Fatalf("no menu entry %q in %q", label, m.Labels())
	return Entry{}
}

// ReadMenu reads the visible top-level entries through
// com.canonical.dbusmenu.GetLayout, skipping separators. It returns nil
// while the menu cannot be read (not exported yet) and fails t when the
// layout is not shaped as the spec says.
func (it Item) ReadMenu(t testing.TB) Menu {
	t.Helper()
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := it.Menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		return nil
	}
	var m Menu
	for _, c := range root.Children {
		f, ok := c.Value().([]any)
		if !ok || len(f) < 2 {
			t.Fatalf("menu child is %T, want a (ia{sv}av) struct", c.Value())
		}
		props, _ := f[1].(map[string]dbus.Variant)
		if ty, _ := props["type"].Value().(string); ty == "separator" {
			continue
		}
		if v, ok := props["visible"]; ok {
			if vis, _ := v.Value().(bool); !vis {
				continue
			}
		}
		e := Entry{ID: f[0].(int32), Enabled: true}
		if v, ok := props["label"]; ok {
			e.Label, _ = v.Value().(string)
		}
		if v, ok := props["enabled"]; ok {
			e.Enabled, _ = v.Value().(bool)
		}
		m = append(m, e)
	}
	return m
}

// WaitStatusLine polls the menu until its status line (the first entry)
// satisfies ok and returns that menu; it fails t after Timeout.
func (it Item) WaitStatusLine(t testing.TB, ok func(line string) bool) Menu {
	t.Helper()
	var last string
	for end := time.Now().Add(Timeout); ; {
		if m := it.ReadMenu(t); len(m) > 0 {
			last = m[0].Label
			if ok(last) {
				return m
			}
		}
		if time.Now().After(end) {
			t.Fatalf("tray status line still %q after %v", last, Timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Click sends the menu entry id the "clicked" event, as a panel does when
// the person picks it.
func (it Item) Click(t testing.TB, id int32) {
	t.Helper()
	err := it.Menu.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(time.Now().Unix())).Err
	if err != nil {
		t.Fatalf("click menu entry %d: %v", id, err)
	}
}

// Eventually polls cond every 20 ms until it holds, and fails t with what
// it was waiting for after Timeout.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(Timeout); ; {
		if cond() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
