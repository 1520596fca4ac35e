//go:build darwin

package notify

import "errors"

// openDesktop: on macOS notifications are logged only; the native service
// needs the app to be a signed bundle.
func openDesktop() (desktop, error) {
	return nil, errors.New("no notification service on this system")
}
