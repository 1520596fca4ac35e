package agent_test

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/match"
	"mailsync/sync/remote"
	"mailsync/sync/sandbox"
)

func TestMain(m *testing.M) {
	// The keyring of these tests is go-keyring's in-memory one; the real
	// Secret Service is exercised by the command-line tests in package main.
	keyring.MockInit()
	// A token endpoint that is down is retried a few times inside a pass;
	// keep those waits short so the tests do not sleep.
	graph.TokenRetry = remote.Policy{MaxAttempts: 2, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}
	os.Exit(m.Run())
}

// fixture is an agent in a fresh data directory, pointed at the sandbox
// services, whose browser is an HTTP GET (the identity fake auto-approves,
// so the GET follows the redirect to the agent's loopback callback).
type fixture struct {
	svc     *sandbox.Services
	ag      *agent.Agent
	cfg     agent.Config
	secrets storage.Secrets
	opened  chan error // outcome of each "browser" visit
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	// The world's "now" lies a few minutes ahead (whole seconds, as Graph
	// filters), so that its message received exactly 24 h before connect
	// is still inside the window when the test connects a moment later.
	w := sandbox.Demo(time.Now().Add(5 * time.Minute).Truncate(time.Second))
	svc := sandbox.Start(w)
	t.Cleanup(svc.Close)
	svc.Identity.AutoApprove(true)
	f := &fixture{svc: svc, opened: make(chan error, 8)}
	f.cfg = agent.Config{
		DataDir:        t.TempDir(),
		Authority:      svc.Identity.Authority(),
		GraphURL:       svc.Graph.URL,
		CRMURL:         svc.CRM.URL,
		ClientID:       svc.Identity.ClientID(),
		KeyringService: "mailsync-agent-test-" + t.Name(),
	}
	f.secrets = storage.Secrets{Service: f.cfg.KeyringService}
	f.open(t)
	return f
}

// open (re)opens the agent on the fixture's data directory.
func (f *fixture) open(t *testing.T) {
	t.Helper()
	ag, err := agent.Open(f.cfg, agent.Hooks{OpenURL: f.browse}, nil)
	if err != nil {
		t.Fatalf("open agent: %v", err)
	}
	f.ag = ag
	t.Cleanup(func() { ag.Close() })
}

// browse is the agent's OpenURL: it visits the sign-in URL in the
// background, as a browser would, while the agent waits for the callback.
func (f *fixture) browse(u string) error {
	go func() {
		status, _, err := graphtest.Browse(u)
		if err == nil && status != http.StatusOK {
			err = errors.New("loopback answered " + http.StatusText(status))
		}
		f.opened <- err
	}()
	return nil
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect runs the sign-in to its end and returns the account.
func (f *fixture) connect(t *testing.T) *engine.Account {
	t.Helper()
	ctx := ctxFor(t)
	u, err := f.ag.Connect(ctx, true)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if !strings.HasPrefix(u, f.svc.Identity.Authority()+"/oauth2/v2.0/authorize?") {
		t.Fatalf("sign-in URL %q is not the identity platform's authorize endpoint", u)
	}
	acct, err := f.ag.WaitConnected(ctx)
	if err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
	if err := <-f.opened; err != nil {
		t.Fatalf("visiting the sign-in URL: %v", err)
	}
	return acct
}

// ready signs in to ClientSuccess and sets the blocklist the sandbox's
// labels assume.
func (f *fixture) ready(t *testing.T) {
	t.Helper()
	ctx := ctxFor(t)
	if err := f.ag.CRMLogin(ctx, sandbox.CRMUser, sandbox.CRMPassword); err != nil {
		t.Fatalf("CRMLogin: %v", err)
	}
	if err := f.ag.SetSettings(ctx, agentapi.Settings{Rules: sandbox.Settings()}); err != nil {
		t.Fatalf("SetSettings: %v", err)
	}
}

func total(m map[int64][]string) int {
	n := 0
	for _, ids := range m {
		n += len(ids)
	}
	return n
}

func TestConnectSyncDisconnectKeepsLedger(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	if st, _ := f.ag.Status(ctx); st.State != engine.SignedOut || st.Account != nil {
		t.Fatalf("fresh agent: state %v, account %v; want signed out", st.State, st.Account)
	}

	acct := f.connect(t)
	me := f.svc.World.Me
	if acct.Email != me.Mail || acct.Name != me.DisplayName {
		t.Errorf("connected as %s <%s>, want %s <%s>", acct.Name, acct.Email, me.DisplayName, me.Mail)
	}
	st, _ := f.ag.Status(ctx)
	if st.Account == nil || st.Account.Email != me.Mail || st.Connecting || st.SignInURL != "" || st.State != engine.CRMSignedOut {
		t.Errorf("status after connect = %+v; want sign in to ClientSuccess, account %s, not connecting", st, me.Mail)
	}
	rt, err := f.secrets.Get(storage.MicrosoftKey(me.Mail))
	if err != nil {
		t.Fatalf("refresh token in the keyring: %v", err)
	}
	if !slices.Contains(f.svc.Identity.Issued(), rt) {
		t.Errorf("the keyring holds a value the identity platform never issued")
	}

	f.ready(t)
	sum, err := f.ag.PassNow(ctx)
	if err != nil {
		t.Fatalf("first pass: %v", err)
	}
	want := f.svc.World.Expected()
	got := f.svc.CRM.MessageIDs()
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("ClientSuccess after the first pass:\n got %v\nwant %v", got, want)
	}
	if sum.Counts.Uploads != total(want) {
		t.Errorf("pass reported %d uploads, ClientSuccess expected %d", sum.Counts.Uploads, total(want))
	}

	if err := f.ag.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	if _, err := f.secrets.Get(storage.MicrosoftKey(me.Mail)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refresh token after Disconnect: err = %v, want ErrNotFound", err)
	}
	if st, _ := f.ag.Status(ctx); st.State != engine.SignedOut || st.Account != nil {
		t.Errorf("status after Disconnect: state %v, account %v; want signed out", st.State, st.Account)
	}
	if _, err := f.ag.PassNow(ctx); !errors.Is(err, agent.ErrNotConnected) {
		t.Errorf("pass while disconnected: err = %v, want ErrNotConnected", err)
	}

	// Connecting again (in a new agent process, so nothing is cached in
	// memory) must not upload anything twice: the ledger stayed.
	f.ag.Close()
	f.open(t)
	f.connect(t)
	sum, err = f.ag.PassNow(ctx)
	if err != nil {
		t.Fatalf("pass after reconnecting: %v", err)
	}
	if sum.Counts.Uploads != 0 {
		t.Errorf("pass after reconnecting uploaded %d interactions, want 0", sum.Counts.Uploads)
	}
	if sum.Counts.Already == 0 {
		t.Errorf("pass after reconnecting found nothing already synced; the ledger was lost")
	}
	if got := f.svc.CRM.MessageIDs(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ClientSuccess after reconnecting changed:\n got %v\nwant %v", got, want)
	}
}

func TestCRMLoginRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	noPassword := func(when string) {
		t.Helper()
		if _, err := f.secrets.Get(storage.CRMKey(sandbox.CRMUser)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: keyring entry for the ClientSuccess password: err = %v, want ErrNotFound", when, err)
		}
		if st, _ := f.ag.Status(ctx); st.CRMUser != "" {
			t.Errorf("%s: status shows ClientSuccess user %q", when, st.CRMUser)
		}
	}

	err := f.ag.CRMLogin(ctx, sandbox.CRMUser, "not-the-password")
	if err == nil || err.Error() != "ClientSuccess rejected the username or password" {
		t.Errorf("wrong password: err = %v", err)
	}
	noPassword("after a wrong password")

	f.svc.CRM.SetMaintenance(true)
	err = f.ag.CRMLogin(ctx, sandbox.CRMUser, sandbox.CRMPassword)
	if err == nil || err.Error() != "ClientSuccess is down for maintenance" {
		t.Errorf("maintenance: err = %v", err)
	}
	noPassword("during maintenance")

	f.svc.CRM.SetMaintenance(false)
	if err := f.ag.CRMLogin(ctx, sandbox.CRMUser, sandbox.CRMPassword); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if pw, err := f.secrets.Get(storage.CRMKey(sandbox.CRMUser)); err != nil || pw != sandbox.CRMPassword {
		t.Errorf("password in the keyring after signing in: err = %v, matches = %v", err, pw == sandbox.CRMPassword)
	}
	if st, _ := f.ag.Status(ctx); st.CRMUser != sandbox.CRMUser {
		t.Errorf("status ClientSuccess user = %q, want %q", st.CRMUser, sandbox.CRMUser)
	}
	if err := f.ag.CRMLogout(ctx); err != nil {
		t.Fatalf("CRMLogout: %v", err)
	}
	noPassword("after signing out")
}

func TestSetSettingsRefusesBadBlocklistLine(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	before, err := f.ag.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := agentapi.Settings{Rules: match.DefaultSettings(), StartAtLogin: !before.StartAtLogin}
	bad.Rules.Blocklist = []string{"@blocked.example", "offers at spam dot example", "ann@acme.example"}
	err = f.ag.SetSettings(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "offers at spam dot example") {
		t.Fatalf("SetSettings with a bad line: err = %v, want an error naming the line", err)
	}
	if strings.Contains(err.Error(), "ann@acme.example") || strings.Contains(err.Error(), "@blocked.example") {
		t.Errorf("the error names good lines too: %v", err)
	}
	after, err := f.ag.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after.Rules.Blocklist, before.Rules.Blocklist) || after.StartAtLogin != before.StartAtLogin {
		t.Errorf("settings changed although refused: before %+v, after %+v", before, after)
	}

	good := bad
	good.Rules.Blocklist = []string{" @Blocked.Example ", "ann@acme.example", "", "@blocked.example"}
	if err := f.ag.SetSettings(ctx, good); err != nil {
		t.Fatalf("SetSettings with good lines: %v", err)
	}
	after, _ = f.ag.Settings(ctx)
	if want := []string{"@blocked.example", "ann@acme.example"}; !slices.Equal(after.Rules.Blocklist, want) {
		t.Errorf("saved blocklist = %q, want %q", after.Rules.Blocklist, want)
	}
}

func TestRevokedSignInNeedsReconnectWithoutRetryStorm(t *testing.T) {
	f := newFixture(t)
	f.connect(t)
	f.ready(t)
	ctx := ctxFor(t)
	if _, err := f.ag.PassNow(ctx); err != nil {
		t.Fatalf("first pass: %v", err)
	}

	f.svc.Identity.Revoke("AADSTS50173")
	_, err := f.ag.PassNow(ctx)
	if err == nil {
		t.Fatal("pass after the sign-in was revoked succeeded")
	}
	if !remote.IsNeedsReconnect(err) && !errors.As(err, new(agent.ErrNeedsReconnect)) {
		t.Errorf("pass error %v is not a needs-reconnect error", err)
	}
	st, _ := f.ag.Status(ctx)
	if st.State != engine.NeedsReconnect {
		t.Fatalf("state after revocation = %v, want %v", st.State, engine.NeedsReconnect)
	}
	if !strings.Contains(st.LastError, "revoked") || strings.Contains(st.LastError, "AADSTS") || strings.Contains(st.LastError, "invalid_grant") {
		t.Errorf("LastError = %q, want the reason in words (revoked), without protocol codes", st.LastError)
	}

	tokenRequests := f.svc.Identity.Stats().TokenRequests
	listed := f.svc.Graph.Stats().ByRoute["GET /me/messages"]
	for range 3 {
		if _, err := f.ag.PassNow(ctx); err == nil {
			t.Fatal("a later pass succeeded without a new sign-in")
		}
	}
	if n := f.svc.Identity.Stats().TokenRequests; n != tokenRequests {
		t.Errorf("later passes made %d token requests, want none", n-tokenRequests)
	}
	if n := f.svc.Graph.Stats().ByRoute["GET /me/messages"]; n != listed {
		t.Errorf("later passes listed the mailbox %d times, want none", n-listed)
	}
	if err := f.ag.SyncNow(ctx); err == nil {
		t.Errorf("SyncNow while a reconnect is needed: no error")
	}
	if st, _ := f.ag.Status(ctx); st.State != engine.NeedsReconnect {
		t.Errorf("state after later passes = %v, want %v", st.State, engine.NeedsReconnect)
	}

	// A new sign-in cures it.
	f.connect(t)
	if _, err := f.ag.PassNow(ctx); err != nil {
		t.Fatalf("pass after connecting again: %v", err)
	}
	if st, _ := f.ag.Status(ctx); st.State != engine.Idle {
		t.Errorf("state after connecting again and a pass = %v, want %v", st.State, engine.Idle)
	}
}

func TestTokenEndpointDownIsAnErrorNotReconnect(t *testing.T) {
	f := newFixture(t)
	f.connect(t)
	f.ready(t)
	ctx := ctxFor(t)

	// The agent holds no access token yet, so the pass must renew one.
	f.svc.Identity.SetTokenFailure(http.StatusServiceUnavailable, 100)
	if _, err := f.ag.PassNow(ctx); err == nil {
		t.Fatal("pass with the token endpoint down succeeded")
	}
	st, _ := f.ag.Status(ctx)
	if st.State != engine.Error {
		t.Fatalf("state with the token endpoint down = %v, want %v", st.State, engine.Error)
	}
	if st.LastError == "" || strings.Contains(st.LastError, "AADSTS") {
		t.Errorf("LastError = %q, want words", st.LastError)
	}
	if n := len(f.svc.CRM.AllInteractions()); n != 0 {
		t.Errorf("%d interactions uploaded without a Graph token", n)
	}

	// Once it is back, the next pass works with the same sign-in.
	f.svc.Identity.SetTokenFailure(0, 0)
	if _, err := f.ag.PassNow(ctx); err != nil {
		t.Fatalf("pass after the token endpoint came back: %v", err)
	}
	if st, _ := f.ag.Status(ctx); st.State != engine.Idle {
		t.Errorf("state after recovery = %v, want %v", st.State, engine.Idle)
	}
	if got, want := f.svc.CRM.MessageIDs(), f.svc.World.Expected(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ClientSuccess after recovery:\n got %v\nwant %v", got, want)
	}
}

// TestUnsureUploadAskedAndDecided: an upload whose client's timeline could
// not be read for a day is offered to the person; leaving it out drops it.
func TestUnsureUploadAskedAndDecided(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	f.ag.Close()
	s, err := storage.Open(f.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	job := storage.PendingJob{Key: storage.LedgerKey("<seeded@x.example>"), ClientID: 7, Subject: "Seeded",
		UnsureSince: time.Now().Add(-engine.UnsureAfter - time.Hour), Unsure: "ClientSuccess did not give the whole list"}
	fresh := storage.PendingJob{Key: storage.LedgerKey("<fresh@x.example>"), ClientID: 7, Subject: "Fresh",
		UnsureSince: time.Now().Add(-time.Hour), Unsure: "ClientSuccess did not give the whole list"}
	if err := s.StartUploads([]storage.PendingJob{job, fresh}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	f.open(t)

	us, err := f.ag.Unsure(ctx)
	if err != nil || len(us) != 1 || us[0].ID != job.ID() || !strings.Contains(us[0].Words(), "Seeded") {
		t.Fatalf("Unsure = %+v, %v; want the one unsure for more than a day", us, err)
	}
	if err := f.ag.DecideUnsure(ctx, job.ID(), false); err != nil {
		t.Fatalf("DecideUnsure: %v", err)
	}
	if us, err := f.ag.Unsure(ctx); err != nil || len(us) != 0 {
		t.Errorf("after leaving it out: %+v, %v", us, err)
	}
	if err := f.ag.DecideUnsure(ctx, job.ID(), true); err != nil {
		t.Errorf("deciding about an upload no longer pending: %v", err)
	}
	f.ag.Close()
	s, err = storage.Open(f.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if pend, err := s.PendingJobs(); err != nil || len(pend) != 1 || pend[0].ID() != fresh.ID() {
		t.Errorf("pending = %+v, %v; want only the fresh one", pend, err)
	}
}

// A ClientSuccess sign-in with no network, or against a service that
// never answers, ends within the agent's bound in words that say
// ClientSuccess could not be reached, not in the caller's timeout.
func TestCRMLoginUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	silent := "http://" + ln.Addr().String() // accepts, never answers
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + closed.Addr().String()
	closed.Close()

	for _, crmURL := range []string{refused, silent} {
		f := newFixture(t)
		f.ag.Close()
		f.cfg.CRMURL = crmURL
		f.open(t)
		// The caller waits longer than the agent's bound, as the window does.
		ctx, cancel := context.WithTimeout(context.Background(), agent.CRMSignInTimeout+time.Minute)
		err := f.ag.CRMLogin(ctx, "dana@contoso.com", "pw")
		cancel()
		if err == nil || err.Error() != agent.CRMUnreachable {
			t.Errorf("%s: CRMLogin = %v, want %q", crmURL, err, agent.CRMUnreachable)
		}
	}
}
