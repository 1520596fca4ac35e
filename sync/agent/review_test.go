package agent_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
	"mailsync/sync/sandbox"
)

// TestStartAtLoginIsWhatIsInstalled: the Options box shows the login item
// as it is at every moment. Nothing is installed before the agent's first
// run, and the box says so; the first run installs it (on by default); a
// person who turns it off keeps it off, through later runs and connects.
func TestStartAtLoginIsWhatIsInstalled(t *testing.T) {
	f := newFixture(t)
	f.ag.Close()
	installed := false
	ag, err := agent.Open(f.cfg, agent.Hooks{
		OpenURL:      f.browse,
		SetAutostart: func(on bool) error { installed = on; return nil },
		Autostart:    func() (bool, error) { return installed, nil },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.ag = ag
	t.Cleanup(func() { ag.Close() })
	ctx := ctxFor(t)
	shows := func(when string, want bool) {
		t.Helper()
		set, err := f.ag.Settings(ctx)
		if err != nil || set.StartAtLogin != want || installed != want {
			t.Fatalf("%s: box shows %v (%v), installed %v; want both %v", when, set.StartAtLogin, err, installed, want)
		}
	}
	shows("before the first run", false)
	if err := f.ag.StartAtLoginOnFirstRun(); err != nil {
		t.Fatal(err)
	}
	shows("after the first run", true)

	set, _ := f.ag.Settings(ctx)
	set.StartAtLogin = false
	if err := f.ag.SetSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	shows("turned off", false)
	if err := f.ag.StartAtLoginOnFirstRun(); err != nil {
		t.Fatal(err)
	}
	shows("the next run", false)
	f.connect(t)
	shows("after connecting", false)
}

// TestSyncNowNeedsClientSuccess: asking for a pass without a ClientSuccess
// sign-in is refused at once in words, rather than starting a pass that
// can only fail.
func TestSyncNowNeedsClientSuccess(t *testing.T) {
	f := newFixture(t)
	f.connect(t)
	if err := f.ag.SyncNow(ctxFor(t)); !errors.Is(err, agent.ErrCRMSignedOut) {
		t.Fatalf("SyncNow without ClientSuccess = %v, want ErrCRMSignedOut", err)
	}
}

// TestEveryPassAttemptIsCounted: a pass that fails before it starts still
// moves Status.Passes, which is what `mailsync sync` waits for.
func TestEveryPassAttemptIsCounted(t *testing.T) {
	f := newFixture(t)
	f.connect(t)
	before := f.ag.Board().Get().Passes
	if _, err := f.ag.PassNow(ctxFor(t)); !errors.Is(err, agent.ErrCRMSignedOut) {
		t.Fatalf("PassNow = %v, want ErrCRMSignedOut", err)
	}
	// Not signed in to ClientSuccess is a state of its own, not an error.
	st := f.ag.Board().Get()
	if st.Passes != before+1 || st.State != engine.CRMSignedOut || st.LastError != "" {
		t.Fatalf("after a failed attempt: passes %d→%d, state %v %q", before, st.Passes, st.State, st.LastError)
	}
}

// TestDisconnectStopsThePassAndKeepsTokensOut: a disconnect during a pass
// ends the pass, and no token the pass renews reaches the keyring again.
func TestDisconnectStopsThePassAndKeepsTokensOut(t *testing.T) {
	f := newFixture(t)
	f.ready(t)
	acct := f.connect(t)
	f.svc.Graph.SetLatency(200 * time.Millisecond)
	f.svc.Identity.SetAccessTokenLifetime(time.Second) // renewals during the pass

	done := make(chan error, 1)
	go func() { _, err := f.ag.PassNow(context.Background()); done <- err }()
	waitFor(t, "the pass to start", func() bool { return f.ag.Board().Get().State == engine.Syncing })
	if err := f.ag.Disconnect(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the pass finished as if nothing happened")
		}
	case <-time.After(90 * time.Second):
		t.Fatal("the pass did not stop after Disconnect")
	}
	uploads := len(f.svc.CRM.AllInteractions())
	time.Sleep(500 * time.Millisecond)
	if n := len(f.svc.CRM.AllInteractions()); n != uploads {
		t.Errorf("%d uploads after Disconnect returned", n-uploads)
	}
	if _, err := f.secrets.Get(storage.MicrosoftKey(acct.Email)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the keyring holds a Microsoft token after Disconnect: %v", err)
	}
	st := f.ag.Board().Get()
	if st.State != engine.SignedOut || st.Account != nil {
		t.Errorf("status after Disconnect = %v, account %v", st.State, st.Account)
	}
}

// TestResumeShowsWhatChangedWhilePaused: connecting while paused, then
// resuming, shows the connected state, not the one from before the pause.
func TestResumeShowsWhatChangedWhilePaused(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	if err := f.ag.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	f.connect(t)
	if st := f.ag.Board().Get(); st.State != engine.Paused {
		t.Fatalf("connect while paused shows %v, want Paused", st.State)
	}
	if err := f.ag.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if st := f.ag.Board().Get(); st.State != engine.CRMSignedOut || st.Account == nil {
		t.Fatalf("after Resume: %v, account %v; want Sign in to ClientSuccess with the account", st.State, st.Account)
	}
}

// TestNewConnectionReadsTheMailboxAnew: the cached profile and folder ids
// of the previous connection are not used for the next one.
func TestNewConnectionReadsTheMailboxAnew(t *testing.T) {
	f := newFixture(t)
	f.ready(t)
	f.connect(t)
	if _, err := f.ag.PassNow(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if err := f.ag.Disconnect(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	f.connect(t)
	f.svc.Graph.ResetStats()
	if _, err := f.ag.PassNow(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if n := f.svc.Graph.Stats().ByRoute["GET /me"]; n != 1 {
		t.Errorf("the pass after a new connection read /me %d times, want 1 (a stale profile was used)", n)
	}
}

// TestSwitchingClientSuccessUserForgetsItsContacts: contacts and client ids
// learnt from one ClientSuccess account are not used for another.
func TestSwitchingClientSuccessUserForgetsItsContacts(t *testing.T) {
	f := newFixture(t)
	f.ready(t)
	f.connect(t)
	if _, err := f.ag.PassNow(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, c := range sandbox.Demo(time.Now()).Contacts {
		addrs = append(addrs, strings.ToLower(c.Email))
	}
	cached, err := f.ag.Store().LookupContacts(addrs)
	if err != nil || len(cached) == 0 {
		t.Fatalf("the pass kept none of the world's contacts (%v); the check below would prove nothing", err)
	}
	f.svc.CRM.AddUser("other@contoso.example", "other-password")
	if err := f.ag.CRMLogin(ctxFor(t), "other@contoso.example", "other-password"); err != nil {
		t.Fatal(err)
	}
	if cached, err := f.ag.Store().LookupContacts(addrs); err != nil || len(cached) != 0 {
		t.Errorf("%d contacts of the previous ClientSuccess user kept (%v)", len(cached), err)
	}
	if n, err := f.ag.Store().DirectorySize(); err != nil || n != 0 {
		t.Errorf("%d directory contacts of the previous ClientSuccess user kept (%v)", n, err)
	}
	if st, err := f.ag.Store().DirectoryState(); err != nil || st != (storage.DirectoryState{}) {
		t.Errorf("directory state of the previous ClientSuccess user kept: %+v (%v)", st, err)
	}
	if _, err := f.secrets.Get(storage.CRMKey(sandbox.CRMUser)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the previous user's password is still in the keyring: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConnectWithoutBrowser: `mailsync connect --no-browser` against a
// running agent: the agent shows the URL and does not open a browser.
func TestConnectWithoutBrowser(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	u, err := f.ag.Connect(ctx, false)
	if err != nil || u == "" {
		t.Fatalf("Connect = %q, %v", u, err)
	}
	select {
	case <-f.opened:
		t.Fatal("the agent opened a browser although asked not to")
	case <-time.After(200 * time.Millisecond):
	}
	if err := f.ag.CancelConnect(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ag.WaitConnected(ctx); err == nil {
		t.Fatal("a cancelled sign-in connected")
	}
}

// TestPassesKeepTheClientSuccessSignIn: the agent keeps its ClientSuccess
// client from pass to pass, so a pass does not sign in again while the
// 12-hour token lasts; signing in anew in Settings starts a fresh client.
func TestPassesKeepTheClientSuccessSignIn(t *testing.T) {
	f := newFixture(t)
	f.ready(t)
	f.connect(t)
	if _, err := f.ag.PassNow(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	after1 := f.svc.CRM.Stats().Auths
	if _, err := f.ag.PassNow(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if n := f.svc.CRM.Stats().Auths - after1; n != 0 {
		t.Errorf("the second pass signed in to ClientSuccess %d times, want 0", n)
	}
	if err := f.ag.CRMLogin(ctxFor(t), sandbox.CRMUser, sandbox.CRMPassword); err != nil {
		t.Fatal(err)
	}
	before := f.svc.CRM.Stats().Auths
	if _, err := f.ag.PassNow(ctxFor(t)); err != nil {
		t.Fatal(err)
	}
	if n := f.svc.CRM.Stats().Auths - before; n != 1 {
		t.Errorf("the pass after signing in again signed in %d times, want 1 (a fresh client)", n)
	}
}

// TestCancelledPassLeavesNoError: a pass stopped before it finished (a
// shutdown, a change of account) did not fail: no error shows or is
// stored, and the state is what it was.
func TestCancelledPassLeavesNoError(t *testing.T) {
	f := newFixture(t)
	f.ready(t)
	f.connect(t)
	f.svc.Graph.SetLatency(200 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := f.ag.PassNow(ctx); done <- err }()
	waitFor(t, "the pass to start", func() bool { return f.ag.Board().Get().State == engine.Syncing })
	cancel()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("the pass did not stop when cancelled")
	}
	st := f.ag.Board().Get()
	if st.State != engine.Idle || st.LastError != "" || st.Running {
		t.Errorf("after a cancelled pass: state %v, error %q, running %v; want Idle, no error", st.State, st.LastError, st.Running)
	}
	if m, _ := f.ag.Store().Meta(); m.LastError != "" {
		t.Errorf("a cancelled pass stored the error %q", m.LastError)
	}
}

// gateLog is a slog handler that holds the agent's "connected" record
// until release is closed, and reports each "pass starting" of the
// scheduler on started: with it a test puts a pass in flight between the
// moment the board shows a new connection and the moment the sign-in ends.
type gateLog struct {
	release <-chan struct{}
	started chan<- struct{}
}

func (h gateLog) Enabled(context.Context, slog.Level) bool { return true }
func (h gateLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h gateLog) WithGroup(string) slog.Handler            { return h }
func (h gateLog) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case "connected":
		<-h.release
	case "pass starting":
		h.started <- struct{}{}
	}
	return nil
}

// TestSyncReturnsItsPass: Sync runs exactly one pass and returns that
// pass's summary, window start included; a Sync during a pass joins it.
// The first Sync comes as soon as the board shows the connection, and the
// pass it gets is in flight before the sign-in has finished: the pass the
// connection asked for is that one, so none follows it (the connection
// used to ask for its pass only after showing itself, which queued a
// second pass behind a Sync that had started one).
func TestSyncReturnsItsPass(t *testing.T) {
	f := newFixture(t)
	f.ag.Close()
	release := make(chan struct{})
	started := make(chan struct{}, 100)
	ag, err := agent.Open(f.cfg, agent.Hooks{OpenURL: f.browse}, slog.New(gateLog{release: release, started: started}))
	if err != nil {
		t.Fatalf("open agent: %v", err)
	}
	f.ag = ag
	t.Cleanup(func() { ag.Close() })
	f.ready(t)
	f.connect(t) // returns once the board shows the account
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- f.ag.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-runDone })

	synced := make(chan agentapi.PassResult, 1)
	go func() {
		res, err := f.ag.Sync(ctxFor(t))
		if err != nil {
			t.Errorf("Sync: %v", err)
		}
		synced <- res
	}()
	waitPassStart(t, started)
	close(release) // the sign-in ends while the pass is in flight
	res := <-synced
	if res.WindowStart.IsZero() || res.End.Before(res.Start) || res.Counts.Listed == 0 || res.Counts.Synced == 0 {
		t.Errorf("first Sync = %+v; want a pass that listed and copied emails", res)
	}
	if st := f.ag.Board().Get(); st.Passes != 1 || st.LastCounts.Synced != res.Counts.Synced || st.State != engine.Idle {
		t.Errorf("board after Sync: %d passes, %v, %d copied; want 1 pass, Idle and the pass's %d copied",
			st.Passes, st.State, st.LastCounts.Synced, res.Counts.Synced)
	}

	// A quiet pass lists the whole day again: every copied message, the
	// one marked read since among them, counts as already copied.
	var copied string
	for _, it := range f.svc.World.Messages {
		if it.Why == sandbox.WhyFrom {
			copied = it.Msg.ID
		}
	}
	if !f.svc.Graph.SetRead(copied, true) {
		t.Fatalf("the demo world has no message from a contact to mark read")
	}
	again, err := f.ag.Sync(ctxFor(t))
	if err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	waitPassStart(t, started)
	if again.Joined || again.Counts.Synced != 0 || again.Counts.Already != res.Counts.Synced+res.Counts.Already || again.WindowStart.IsZero() {
		t.Errorf("second Sync = %+v; want a pass of its own that copied nothing and found the %d copied messages already copied", again, res.Counts.Synced+res.Counts.Already)
	}
	if st := f.ag.Board().Get(); st.Passes != 2 || st.State != engine.Idle {
		t.Errorf("board after the second Sync: %d passes, %v; want 2, Idle", st.Passes, st.State)
	}
	select {
	case <-started:
		t.Errorf("a pass started that no Sync asked for")
	default:
	}

	// A Sync while a pass runs joins that pass.
	f.svc.Graph.SetLatency(100 * time.Millisecond)
	first := make(chan error, 1)
	go func() { _, err := f.ag.Sync(ctxFor(t)); first <- err }()
	waitFor(t, "the pass to start", func() bool { return f.ag.Board().Get().State == engine.Syncing })
	joined, err := f.ag.Sync(ctxFor(t))
	if err != nil {
		t.Fatalf("joined Sync: %v", err)
	}
	if !joined.Joined {
		t.Errorf("Sync during a pass = %+v, want it joined", joined)
	}
	if err := <-first; err != nil {
		t.Errorf("the Sync that started the pass: %v", err)
	}
	if st := f.ag.Board().Get(); st.Passes != 3 {
		t.Errorf("after a Sync joined another's pass: %d passes, want 3", st.Passes)
	}
}

// waitPassStart waits for the scheduler's next "pass starting".
func waitPassStart(t *testing.T, started <-chan struct{}) {
	t.Helper()
	select {
	case <-started:
	case <-time.After(90 * time.Second):
		t.Fatal("timed out waiting for a pass to start")
	}
}
