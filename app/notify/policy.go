package notify

import (
	"time"

	"mailsync/sync/engine"
	"mailsync/sync/printable"
)

// FailureGrace is how long passes may keep failing before the person is
// told: an hourly schedule rides out short outages (Wi-Fi, maintenance)
// without bothering anyone.
const FailureGrace = 3 * time.Hour

// Notice is one notification to show.
type Notice struct {
	Title, Body string
}

// Policy decides which statuses deserve a notification, so the person hears
// about a problem once rather than once per pass:
//   - when the state becomes NeedsReconnect, once, and again only after it
//     has left that state and come back;
//   - when passes have been failing for more than FailureGrace, once, and
//     again only after a pass has succeeded (state Idle).
//
// Time spent paused or signed out (of either service) does not count as failing. The zero
// Policy is ready to use; it is not safe for concurrent use.
type Policy struct {
	inReconnect     bool
	failingSince    time.Time // zero while passes succeed
	failureNotified bool      // the failure notice was shown for this run of failures
}

// Next takes each status the engine publishes, in order, with the time it
// was received, and returns the notice to show, if any.
func (p *Policy) Next(s engine.Status, now time.Time) (Notice, bool) {
	if s.State != engine.NeedsReconnect {
		p.inReconnect = false
	}
	switch s.State {
	case engine.NeedsReconnect:
		if p.inReconnect {
			return Notice{}, false
		}
		p.inReconnect = true
		return Notice{
			Title: reconnectTitle,
			Body:  reconnectBody,
		}, true
	case engine.Idle, engine.SignedOut, engine.CRMSignedOut:
		p.failingSince, p.failureNotified = time.Time{}, false
	case engine.Paused:
		p.failingSince = time.Time{}
	case engine.Error:
		if p.failingSince.IsZero() {
			p.failingSince = now
		}
		if p.failureNotified || now.Sub(p.failingSince) <= FailureGrace {
			return Notice{}, false
		}
		p.failureNotified = true
		body := failingBody
		// The problem carries a service's words; whatever way the status
		// came here, the desktop shows them printable.
		if p := printable.Text(s.Problem()); p != "" {
			body = p + ". " + body
		}
		return Notice{Title: failingTitle, Body: body}, true
	}
	return Notice{}, false
}
