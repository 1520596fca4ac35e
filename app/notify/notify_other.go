//go:build darwin || windows

package notify

import "errors"

// openDesktop: on macOS and Windows notifications are logged only; the
// native services need the app to be a signed bundle / registered AUMID.
func openDesktop() (desktop, error) {
	return nil, errors.New("no notification service on this system")
}
