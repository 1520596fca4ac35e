package agent

import (
	"context"
	"time"

	"mailsync/sync/doctor"
)

// DoctorTimeout bounds one doctor run, so that a service that hangs makes a
// check fail instead of keeping the person waiting.
const DoctorTimeout = 2 * time.Minute

// Doctor implements agentapi.API: it runs the read-only checks of package
// doctor with the connected account and the ClientSuccess sign-in, through
// the same clients a pass uses. It does not touch the status: what a check
// finds is reported to the caller, not shown as the sync's state.
//
// The checks run on the caller's goroutine with the loop's facts: they
// change none, and their context ends at Quit as well.
func (a *Agent) Doctor(ctx context.Context) (doctor.Report, error) {
	m, err := a.meta(ctx)
	if err != nil {
		return doctor.Report{}, err
	}
	ctx, stop := within(ctx, a.life)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, DoctorTimeout)
	defer cancel()
	r := a.resolved()
	cfg := doctor.Config{
		GraphURL:  a.cfg.GraphURL,
		Authority: r.Authority,
		CRMURL:    r.CRMBase,
	}
	switch {
	case m.Account == nil && r.ClientID == "":
		// Connecting cannot start without it: that is the first thing to do.
		cfg.NotConnected = ErrNoClientID.Error()
	case m.Account == nil:
		cfg.NotConnected = ErrNotConnected.Error()
	case m.NeedsReconnect != "":
		cfg.NotConnected = m.NeedsReconnect
	default:
		ts, err := a.tokenSource(ctx, m.Account.Email)
		if err != nil {
			cfg.NotConnected = err.Error()
		} else {
			cfg.Microsoft = ts
		}
	}
	if m.CRMUser == "" {
		cfg.CRMSignedOut = ErrCRMSignedOut.Error()
	} else {
		user := m.CRMUser
		cfg.CRMUser = user
		cfg.CRMPassword = func() (string, error) { return a.crmPassword(ctx, user) }
	}
	return doctor.Run(ctx, cfg), nil
}
