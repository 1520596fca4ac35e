package agentapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/match"
	"mailsync/sync/setup"
)

// newFake returns the fake agent these tests serve: signed in to both
// services, with two decisions, a pass result and a doctor report.
func newFake() *agentapitest.Fake {
	st := engine.Status{Account: &engine.Account{Name: "Ann Lee", Email: "ann@contoso.com"}, CRMUser: "ann"}
	st.State = engine.Derive(st)
	return agentapitest.NewWith(agentapitest.State{
		Status:   st,
		Settings: agentapi.Settings{Rules: match.DefaultSettings()},
		Decisions: []agentapi.Decision{
			{MessageID: "<1@x>", Subject: "Renewal", Counterpart: "Bob <bob@acme.com>", Synced: true, Clients: []string{"Acme"}},
			{MessageID: "<2@x>", Subject: "Lunch", Counterpart: "Eve <eve@other.com>", Reason: "no contact"},
		},
		SignInURL: "https://login.example/authorize?state=abc&code_challenge=xyz",
		Pass:      agentapi.PassResult{Counts: engine.PassCounts{Synced: 3}},
		Report:    doctorReport,
	})
}

// doctorReport is what the fake's Doctor answers: one of each outcome.
var doctorReport = doctor.Report{Results: []doctor.Result{
	{Check: doctor.CheckMicrosoftSignIn, Outcome: doctor.Passed},
	{Check: doctor.CheckContactSearch, Outcome: doctor.Failed, Detail: "answered HTTP 404, object{userMessage:string}: not available to this account"},
	{Check: doctor.CheckInteractions, Outcome: doctor.Skipped, Detail: "no contact found to take a client from"},
}}

// shortDir returns a fresh directory with a short path: socket paths are
// limited to about 104–108 bytes and t.TempDir paths can exceed that.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// logBuffer is a slog destination that tests read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// agent is a served fake API.
type agent struct {
	dir    string
	api    *agentapitest.Fake
	logs   *logBuffer
	stop   func() // stops the server and waits for Serve to return
	client *agentapi.Client
}

func startAgent(t *testing.T) *agent {
	t.Helper()
	f := newFake()
	return startAgentWith(t, f, f)
}

// startAgentWith serves api: fake, or an API that embeds it.
func startAgentWith(t *testing.T, api agentapi.API, fake *agentapitest.Fake) *agent {
	t.Helper()
	a := &agent{dir: shortDir(t), api: fake, logs: &logBuffer{}}
	l, err := agentapi.Listen(a.dir)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { done <- agentapi.Serve(ctx, l, api, log) }()
	var once sync.Once
	a.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Serve did not return after its context ended")
			}
		})
	}
	t.Cleanup(a.stop)
	a.client, err = agentapi.Dial(a.dir)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { a.client.Close() })
	return a
}

func TestEveryMethodRoundTrips(t *testing.T) {
	a := startAgent(t)
	c, f := a.client, a.api
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if want := f.Snapshot().Status; !reflect.DeepEqual(st, want) {
		t.Fatalf("Status = %+v, want %+v", st, want)
	}
	for name, call := range map[string]func(context.Context) error{
		"SyncNow": c.SyncNow, "Pause": c.Pause, "Resume": c.Resume,
		"CancelConnect": c.CancelConnect, "Disconnect": c.Disconnect,
		"CRMLogout": c.CRMLogout, "ShowWindow": c.ShowWindow,
	} {
		before := len(f.Calls())
		if err := call(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := f.Calls()[before:]; !slices.Equal(got, []string{name}) {
			t.Fatalf("%s reached the agent as %v", name, got)
		}
	}

	url, err := c.Connect(ctx, true)
	if err != nil || url != "https://login.example/authorize?state=abc&code_challenge=xyz" {
		t.Fatalf("Connect = %q, %v", url, err)
	}

	if err := c.CRMLogin(ctx, "ann@contoso.com", "s3cret pass\"word"); err != nil {
		t.Fatalf("CRMLogin: %v", err)
	}
	logins := f.Snapshot().Logins
	if len(logins) != 1 {
		t.Fatalf("CRMLogin reached the agent %d times", len(logins))
	}
	user, pass := logins[0][0], logins[0][1]
	if user != "ann@contoso.com" || pass != "s3cret pass\"word" {
		t.Fatalf("CRMLogin reached the agent as %q / %q", user, pass)
	}
	if strings.Contains(a.logs.String(), "s3cret") {
		t.Fatal("the password appears in the agent's log")
	}

	s, err := c.Settings(ctx)
	if err != nil || !reflect.DeepEqual(s, agentapi.Settings{Rules: match.DefaultSettings()}) {
		t.Fatalf("Settings = %+v, %v", s, err)
	}
	want := agentapi.Settings{
		Rules:        match.Settings{IgnoreInternal: false, Blocklist: []string{"@spam.com", "x@y.com"}, SkipPrivate: true, PrivateCategory: "Privé"},
		StartAtLogin: true,
	}
	if err := c.SetSettings(ctx, want); err != nil {
		t.Fatalf("SetSettings: %v", err)
	}
	if got, err := c.Settings(ctx); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Settings after SetSettings = %+v, %v; want %+v", got, err, want)
	}

	lock := true
	withPolicy := agentapi.Settings{Rules: match.DefaultSettings(), Policy: &agentapi.PolicyRules{IgnoreInternal: &lock, Blocklist: []string{"@rival.com"}}}
	if err := c.SetSettings(ctx, withPolicy); err != nil {
		t.Fatalf("SetSettings: %v", err)
	}
	if got, err := c.Settings(ctx); err != nil || !reflect.DeepEqual(got, withPolicy) {
		t.Fatalf("Settings with a policy = %+v, %v; want %+v", got, err, withPolicy)
	}

	wantSetup := agentapi.Setup{Fields: []setup.Field{{Key: setup.KeyClientID, Value: "0f0e0d0c-0b0a-0908-0706-050403020100", Source: setup.FromPolicy},
		{Key: setup.KeyTenant, Value: "contoso.com", Source: setup.FromPerson}}, ClientIDBuiltIn: true,
		PolicyProblems: []string{"The policy's crmUrl is ignored."}, Version: "1.2.3"}
	f.Do(func(s *agentapitest.State) { s.Setup = wantSetup })
	if got, err := c.Setup(ctx); err != nil || !reflect.DeepEqual(got, wantSetup) || !got.Ready() {
		t.Fatalf("Setup = %+v, %v; want %+v", got, err, wantSetup)
	}
	change := map[string]string{setup.KeyTenant: "fabrikam.com", setup.KeyCRMURL: ""}
	if err := c.SetSetup(ctx, change); err != nil {
		t.Fatalf("SetSetup: %v", err)
	}
	if saved := f.Snapshot().SetupSaved; len(saved) != 1 || !reflect.DeepEqual(saved[0], change) {
		t.Fatalf("SetSetup reached the agent as %v, want %v", saved, change)
	}

	ds, err := c.Decisions(ctx, "acme & co?", 7)
	if err != nil {
		t.Fatalf("Decisions: %v", err)
	}
	queries := f.Snapshot().Queries
	q, limit := queries[len(queries)-1].Text, queries[len(queries)-1].Limit
	if q != "acme & co?" || limit != 7 {
		t.Fatalf("Decisions reached the agent as q=%q limit=%d", q, limit)
	}
	if len(ds) != 0 {
		t.Fatalf("Decisions(%q) = %v, want none", q, ds)
	}
	ds, err = c.Decisions(ctx, "BOB", 0)
	if err != nil || len(ds) != 1 || !reflect.DeepEqual(ds[0], f.Snapshot().Decisions[0]) {
		t.Fatalf("Decisions(BOB) = %+v, %v; want the Renewal decision", ds, err)
	}

	unsure := engine.UnsureUpload{ID: "0a1b-7", Subject: "Renewal", Client: "ACME", Why: "the same page came twice",
		Since: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	f.Do(func(s *agentapitest.State) { s.Unsure = []engine.UnsureUpload{unsure} })
	us, err := c.Unsure(ctx)
	if err != nil || len(us) != 1 || !reflect.DeepEqual(us[0], unsure) {
		t.Fatalf("Unsure = %+v, %v", us, err)
	}
	if err := c.DecideUnsure(ctx, "0a1b-7", true); err != nil {
		t.Fatalf("DecideUnsure: %v", err)
	}
	if err := c.DecideUnsure(ctx, "0a1b-7", false); err != nil {
		t.Fatalf("DecideUnsure: %v", err)
	}
	if decided := f.Snapshot().UnsureTaken; !slices.Equal(decided, []string{"0a1b-7 copy", "0a1b-7 leave"}) {
		t.Fatalf("DecideUnsure reached the agent as %q", decided)
	}

	rep, err := c.Doctor(ctx)
	if err != nil || !reflect.DeepEqual(rep, doctorReport) {
		t.Fatalf("Doctor = %+v, %v; want %+v", rep, err, doctorReport)
	}

	f.Do(func(s *agentapitest.State) { s.Backfill = backfillRecord })
	wantBackfill := backfillRecord
	wantBackfill.Days = 90
	if b, err := c.PreviewBackfill(ctx, 90); err != nil || !reflect.DeepEqual(b, wantBackfill) {
		t.Fatalf("PreviewBackfill = %+v, %v; want %+v", b, err, wantBackfill)
	}
	wantBackfill.Days = 7
	if b, err := c.Backfill(ctx, 7); err != nil || !reflect.DeepEqual(b, wantBackfill) {
		t.Fatalf("Backfill = %+v, %v; want %+v", b, err, wantBackfill)
	}
	if err := c.StartBackfill(ctx, 30); err != nil {
		t.Fatalf("StartBackfill: %v", err)
	}
	if err := c.CancelBackfill(ctx); err != nil {
		t.Fatalf("CancelBackfill: %v", err)
	}
	calls := f.Calls()
	if got := calls[len(calls)-4:]; !slices.Equal(got, []string{"PreviewBackfill", "Backfill", "StartBackfill", "CancelBackfill"}) {
		t.Fatalf("backfill commands reached the agent as %q", got)
	}
	if got := f.Snapshot().Backfills; !slices.Equal(got, []int{30}) {
		t.Fatalf("StartBackfill reached the agent with days %v, want [30]", got)
	}
}

// backfillRecord is what the fake's backfill commands answer.
var backfillRecord = engine.Backfill{Days: 30, Read: 412, Emails: 9, State: storage.BackfillDone,
	From: time.Date(2026, 10, 21, 9, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC),
	Clients: []storage.BackfillClient{{ID: 7, Name: "ACME", Emails: 6}, {ID: 9, Name: "Globex", Emails: 3}}}

func TestAgentErrorWordsComeThroughUnchanged(t *testing.T) {
	a := startAgent(t)
	const words = `ClientSuccess refused the user name or password ("ann")`
	a.api.Do(func(s *agentapitest.State) { s.Err = errors.New(words) })
	ctx := context.Background()
	calls := map[string]func() error{
		"status":     func() error { _, err := a.client.Status(ctx); return err },
		"watch":      func() error { _, err := a.client.Watch(ctx); return err },
		"sync":       func() error { return a.client.SyncNow(ctx) },
		"connect":    func() error { _, err := a.client.Connect(ctx, true); return err },
		"crm login":  func() error { return a.client.CRMLogin(ctx, "ann", "pw") },
		"settings":   func() error { _, err := a.client.Settings(ctx); return err },
		"set":        func() error { return a.client.SetSettings(ctx, agentapi.Settings{}) },
		"decisions":  func() error { _, err := a.client.Decisions(ctx, "", 0); return err },
		"disconnect": func() error { return a.client.Disconnect(ctx) },
	}
	for name, call := range calls {
		err := call()
		if err == nil || err.Error() != words {
			t.Errorf("%s: error %v, want %q", name, err, words)
		}
		if errors.Is(err, agentapi.ErrNoAgent) {
			t.Errorf("%s: an agent's refusal matches ErrNoAgent", name)
		}
	}
}

func TestWatchStreamsChangesAndEndsWithServer(t *testing.T) {
	a := startAgent(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := a.client.Watch(ctx)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	next := func() engine.Status {
		t.Helper()
		select {
		case st, ok := <-ch:
			if !ok {
				t.Fatal("watch channel closed early")
			}
			return st
		case <-time.After(5 * time.Second):
			t.Fatal("no status on the watch channel")
		}
		return engine.Status{}
	}
	if st := next(); st.State != engine.Idle || st.Account == nil || st.Account.Email != "ann@contoso.com" {
		t.Fatalf("first status %+v, want the current one", st)
	}
	a.api.Update(func(s *engine.Status) {
		s.Running = true
		s.Progress = &engine.Progress{Done: 120, Total: 400}
	})
	if st := next(); st.State != engine.Syncing || st.Progress == nil || st.Progress.Done != 120 {
		t.Fatalf("status after the change %+v, want Syncing 120 of 400", st)
	}
	a.api.Update(func(s *engine.Status) { s.Running = false; s.Progress = nil; s.SyncedToday = 3 })
	if st := next(); st.State != engine.Idle || st.SyncedToday != 3 {
		t.Fatalf("status after the pass %+v, want Idle with 3 today", st)
	}

	a.stop()
	select {
	case _, ok := <-ch:
		if ok {
			// A last update may still be in the buffer; the close follows.
			if _, ok := <-ch; ok {
				t.Fatal("watch channel still open after the server stopped")
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch channel not closed after the server stopped")
	}
}

func TestWatchEndsWhenCallerCancels(t *testing.T) {
	a := startAgent(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := a.client.Watch(ctx)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	<-ch
	cancel()
	select {
	case <-drained(ch):
	case <-time.After(5 * time.Second):
		t.Fatal("watch channel not closed after cancel")
	}
}

func TestWatchEndsWhenClientCloses(t *testing.T) {
	a := startAgent(t)
	ch, err := a.client.Watch(context.Background())
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	<-ch
	a.client.Close()
	select {
	case <-drained(ch):
	case <-time.After(5 * time.Second):
		t.Fatal("watch channel not closed after Close")
	}
}

// drained returns a channel closed once ch is closed.
func drained(ch <-chan engine.Status) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for range ch {
		}
		close(done)
	}()
	return done
}

func TestListenRefusesWhenAgentRuns(t *testing.T) {
	a := startAgent(t)
	l, err := agentapi.Listen(a.dir)
	if !errors.Is(err, agentapi.ErrAgentRunning) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("Listen while an agent serves = %v, want ErrAgentRunning", err)
	}
	if _, err := a.client.Status(context.Background()); err != nil {
		t.Fatalf("the running agent stopped answering: %v", err)
	}
}

func TestDialWithoutAgentFailsFast(t *testing.T) {
	dir := shortDir(t)
	start := time.Now()
	c, err := agentapi.Dial(dir)
	if !errors.Is(err, agentapi.ErrNoAgent) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("Dial with no agent = %v, want ErrNoAgent", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Dial took %v, want under 1 s", took)
	}
	if err.Error() != "Mail Sync is not running" {
		t.Fatalf("error words %q", err)
	}
}

func TestCallsAfterAgentStopsSayNotRunning(t *testing.T) {
	a := startAgent(t)
	a.stop()
	_, err := a.client.Status(context.Background())
	if !errors.Is(err, agentapi.ErrNoAgent) || err.Error() != "Mail Sync is not running" {
		t.Fatalf("Status after the agent stopped = %v, want %q", err, agentapi.ErrNoAgent)
	}
	if _, err := a.client.Watch(context.Background()); !errors.Is(err, agentapi.ErrNoAgent) {
		t.Fatalf("Watch after the agent stopped = %v, want %q", err, agentapi.ErrNoAgent)
	}
	if err := a.client.SyncNow(context.Background()); !errors.Is(err, agentapi.ErrNoAgent) {
		t.Fatalf("SyncNow after the agent stopped = %v, want %q", err, agentapi.ErrNoAgent)
	}
}

func TestRefusesRequestsNotOnSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agentapi.Serve(ctx, l, api, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() { cancel(); <-done }()

	resp, err := http.Post("http://"+l.Addr().String()+"/v1/sync", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d for a TCP request, want 403", resp.StatusCode)
	}
	if calls := api.Calls(); len(calls) != 0 {
		t.Fatalf("a TCP request reached the API: %v", calls)
	}
}

// TestConnectCarriesTheBrowserChoice: "open the browser" and "do not"
// both reach the agent as asked.
func TestConnectCarriesTheBrowserChoice(t *testing.T) {
	a := startAgent(t)
	ctx := context.Background()
	for _, open := range []bool{false, true} {
		if _, err := a.client.Connect(ctx, open); err != nil {
			t.Fatalf("Connect(openBrowser=%v): %v", open, err)
		}
	}
	if got := a.api.Snapshot().Connects; !slices.Equal(got, []bool{false, true}) {
		t.Fatalf("the agent was asked to open the browser %v, want [false true]", got)
	}
}
