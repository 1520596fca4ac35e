// Package notify shows desktop notifications for the agent, and decides
// (Policy) which engine statuses deserve one.
//
// On Windows notifications are toasts. On Linux and other freedesktop
// systems they go to the org.freedesktop.Notifications service on the
// session bus. Where there is
// no such service (no session bus, no notification daemon, or another OS)
// a Notifier logs the notification instead, so callers never need to care.
package notify

import (
	"log/slog"
)

// Notifier shows notifications. Its methods are safe for concurrent use.
type Notifier struct {
	log     *slog.Logger
	desktop desktop // nil when notifications are only logged
}

// desktop is the platform's notification service.
type desktop interface {
	notify(title, body string) error
	close() error
}

// New returns a Notifier using the desktop's notification service when one
// is available, logging to log otherwise (and always when log is nil, to
// slog.Default()).
func New(log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	d, err := openDesktop()
	if err != nil {
		log.Info("desktop notifications unavailable; notifications go to the log", "reason", err)
		d = nil
	}
	return &Notifier{log: log, desktop: d}
}

// Desktop reports whether notifications reach the desktop rather than the log.
func (n *Notifier) Desktop() bool { return n.desktop != nil }

// Notify shows a notification with a title and a body. Without a
// notification service it logs them and returns nil.
func (n *Notifier) Notify(title, body string) error {
	n.log.Info("notification", "title", title, "body", body)
	if n.desktop == nil {
		return nil
	}
	return n.desktop.notify(title, body)
}

// Close releases the connection to the notification service.
func (n *Notifier) Close() error {
	if n.desktop == nil {
		return nil
	}
	return n.desktop.close()
}
