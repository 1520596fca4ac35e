//go:build !darwin && !windows

package notify

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/godbus/dbus/v5"
)

const (
	service = "org.freedesktop.Notifications"
	objPath = "/org/freedesktop/Notifications"
)

type freedesktop struct{ conn *dbus.Conn }

// openDesktop connects to the session bus named by DBUS_SESSION_BUS_ADDRESS
// (never autolaunching one) and checks that a notification service runs
// there or can be activated.
func openDesktop() (desktop, error) {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		return nil, errors.New("no session bus (DBUS_SESSION_BUS_ADDRESS unset)")
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("notify: connect to session bus: %w", err)
	}
	var running bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, service).Store(&running); err != nil {
		conn.Close()
		return nil, fmt.Errorf("notify: look for %s: %w", service, err)
	}
	if !running {
		var activatable []string
		if err := conn.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&activatable); err != nil || !slices.Contains(activatable, service) {
			conn.Close()
			return nil, fmt.Errorf("notify: no %s service on the session bus", service)
		}
	}
	return &freedesktop{conn: conn}, nil
}

func (f *freedesktop) notify(title, body string) error {
	var id uint32
	err := f.conn.Object(service, objPath).Call(service+".Notify", 0,
		"Mail Sync",               // app_name
		uint32(0),                 // replaces_id: a new notification
		"mailsync",                // app_icon, from the icon theme
		title,                     // summary
		body,                      // body
		[]string{},                // actions
		map[string]dbus.Variant{}, // hints
		int32(-1),                 // expire_timeout: the server's default
	).Store(&id)
	if err != nil {
		return fmt.Errorf("notify: show %q: %w", title, err)
	}
	return nil
}

func (f *freedesktop) close() error { return f.conn.Close() }
