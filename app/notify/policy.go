package notify

import (
	"context"
	"fmt"
	"time"

	"mailsync/sync/engine"
	"mailsync/sync/printable"
)

// FailureGrace is how long passes may keep failing before the person is
// told: an hourly schedule rides out short outages (Wi-Fi, maintenance)
// without bothering anyone.
const FailureGrace = 3 * time.Hour

// ReconnectRepeat is how often the reconnect notice is shown again while
// Microsoft keeps refusing the sign-in: mail waits meanwhile.
const ReconnectRepeat = 24 * time.Hour

// Notice is one notification to show.
type Notice struct {
	Title, Body string
}

// Policy decides which statuses deserve a notification, so the person hears
// about a problem once rather than once per pass:
//   - when the state becomes NeedsReconnect, at once, and again every
//     ReconnectRepeat while it stays (Wake says when), with since when mail
//     is waiting;
//   - when passes have been failing for more than FailureGrace, once, and
//     again only after a pass has succeeded (state Idle).
//
// Time spent paused or signed out (of either service) does not count as failing. The zero
// Policy is ready to use; it is not safe for concurrent use.
type Policy struct {
	inReconnect     bool
	reconnectShown  time.Time // when the reconnect notice was last shown
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
		if p.inReconnect && now.Sub(p.reconnectShown) < ReconnectRepeat {
			return Notice{}, false
		}
		p.inReconnect, p.reconnectShown = true, now
		return reconnectNotice(s, now), true
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

// Wake is when Next should be asked again with the last status, even if no
// new one comes: when the reconnect notice is due again; the zero time
// when nothing is due.
func (p *Policy) Wake() time.Time {
	if !p.inReconnect {
		return time.Time{}
	}
	return p.reconnectShown.Add(ReconnectRepeat)
}

// reconnectNotice says that Microsoft refused the sign-in, and since when
// mail is waiting: since the start of the last sync that finished, from
// which connecting the same mailbox again continues.
func reconnectNotice(s engine.Status, now time.Time) Notice {
	body := reconnectBody
	if since := s.LastSuccess; !since.IsZero() {
		body += fmt.Sprintf(reconnectWaiting, since.In(now.Location()).Format("Mon 2 Jan 15:04"))
	}
	body += reconnectAction
	return Notice{Title: reconnectTitle, Body: body}
}

// Follow shows, through show, the notices Policy gives for each status
// received on statuses, and the daily reconnect notice when it is due
// although no status came (Policy.Wake, timed on clock), until ctx ends
// or statuses is closed.
func Follow(ctx context.Context, statuses <-chan engine.Status, clock engine.Clock, show func(Notice)) {
	var (
		p     Policy
		last  engine.Status
		timer engine.Timer
		armed time.Time
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		var wake <-chan time.Time
		if timer != nil {
			wake = timer.C()
		}
		select {
		case <-ctx.Done():
			return
		case s, ok := <-statuses:
			if !ok {
				return
			}
			last = s
		case <-wake:
			timer, armed = nil, time.Time{}
		}
		if n, ok := p.Next(last, clock.Now()); ok {
			show(n)
		}
		if at := p.Wake(); !at.Equal(armed) {
			if timer != nil {
				timer.Stop()
				timer = nil
			}
			if armed = at; !at.IsZero() {
				timer = clock.NewTimer(at.Sub(clock.Now()))
			}
		}
	}
}
