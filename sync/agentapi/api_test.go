package agentapi

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

	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/match"
	"mailsync/sync/setup"
)

// fakeAPI is an agent backend in memory: it records each call, serves its
// status from a Board, and fails every command with failWith when set.
type fakeAPI struct {
	board *engine.Board

	mu        sync.Mutex
	calls     []string
	username  string
	password  string
	settings  Settings
	setup     Setup
	setupSet  map[string]string
	decisions []Decision
	query     string
	limit     int
	failWith  string
	unsure    []engine.UnsureUpload
	decided   []string // "id copy" or "id leave"
	fixes     *activityCalls
}

func (f *fakeAPI) fake() *fakeAPI { return f }

func (f *fakeAPI) Unsure(context.Context) ([]engine.UnsureUpload, error) {
	if err := f.record("unsure"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.unsure), nil
}

func (f *fakeAPI) DecideUnsure(_ context.Context, id string, copyAgain bool) error {
	if err := f.record("decide unsure"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	what := "leave"
	if copyAgain {
		what = "copy"
	}
	f.decided = append(f.decided, id+" "+what)
	return nil
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{
		board:    engine.NewBoard(engine.Status{Account: &engine.Account{Name: "Ann Lee", Email: "ann@contoso.com"}, CRMUser: "ann"}),
		settings: Settings{Rules: match.DefaultSettings()},
		decisions: []Decision{
			{MessageID: "<1@x>", Subject: "Renewal", Counterpart: "Bob <bob@acme.com>", Synced: true, Clients: []string{"Acme"}},
			{MessageID: "<2@x>", Subject: "Lunch", Counterpart: "Eve <eve@other.com>", Reason: "no contact"},
		},
	}
}

func (f *fakeAPI) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if f.failWith != "" {
		return errors.New(f.failWith)
	}
	return nil
}

func (f *fakeAPI) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeAPI) Status(context.Context) (engine.Status, error) {
	if err := f.record("status"); err != nil {
		return engine.Status{}, err
	}
	return f.board.Get(), nil
}

func (f *fakeAPI) Watch(ctx context.Context) (<-chan engine.Status, error) {
	if err := f.record("watch"); err != nil {
		return nil, err
	}
	ch, stop := f.board.Subscribe()
	context.AfterFunc(ctx, stop)
	return ch, nil
}

func (f *fakeAPI) SyncNow(context.Context) error { return f.record("sync") }
func (f *fakeAPI) Sync(context.Context) (PassResult, error) {
	return PassResult{Counts: engine.PassCounts{Synced: 3}}, f.record("pass")
}
func (f *fakeAPI) Pause(context.Context) error         { return f.record("pause") }
func (f *fakeAPI) Resume(context.Context) error        { return f.record("resume") }
func (f *fakeAPI) CancelConnect(context.Context) error { return f.record("cancel connect") }
func (f *fakeAPI) Disconnect(context.Context) error    { return f.record("disconnect") }
func (f *fakeAPI) CRMLogout(context.Context) error     { return f.record("crm logout") }
func (f *fakeAPI) ShowWindow(context.Context) error    { return f.record("window") }

func (f *fakeAPI) Connect(_ context.Context, openBrowser bool) (string, error) {
	if !openBrowser {
		return "", errors.New("this fake only takes sign-ins that open the browser")
	}
	if err := f.record("connect"); err != nil {
		return "", err
	}
	return "https://login.example/authorize?state=abc&code_challenge=xyz", nil
}

// doctorReport is what the fake's Doctor answers: one of each outcome.
var doctorReport = doctor.Report{Results: []doctor.Result{
	{Check: doctor.CheckMicrosoftSignIn, Outcome: doctor.Passed},
	{Check: doctor.CheckContactSearch, Outcome: doctor.Failed, Detail: "answered HTTP 404, object{userMessage:string}: not available to this account"},
	{Check: doctor.CheckInteractions, Outcome: doctor.Skipped, Detail: "no contact found to take a client from"},
}}

func (f *fakeAPI) Doctor(context.Context) (doctor.Report, error) {
	if err := f.record("doctor"); err != nil {
		return doctor.Report{}, err
	}
	return doctorReport, nil
}

func (f *fakeAPI) CRMLogin(_ context.Context, username, password string) error {
	if err := f.record("crm login"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.username, f.password = username, password
	return nil
}

func (f *fakeAPI) Settings(context.Context) (Settings, error) {
	if err := f.record("settings"); err != nil {
		return Settings{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings, nil
}

func (f *fakeAPI) SetSettings(_ context.Context, s Settings) error {
	if err := f.record("set settings"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settings = s
	return nil
}

func (f *fakeAPI) Setup(context.Context) (Setup, error) {
	if err := f.record("setup"); err != nil {
		return Setup{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.setup, nil
}

func (f *fakeAPI) SetSetup(_ context.Context, values map[string]string) error {
	if err := f.record("set setup"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setupSet = values
	return nil
}

func (f *fakeAPI) Decisions(_ context.Context, query string, limit int) ([]Decision, error) {
	if err := f.record("decisions"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.query, f.limit = query, limit
	var out []Decision
	for _, d := range f.decisions {
		if strings.Contains(strings.ToLower(d.Subject+" "+d.Counterpart), strings.ToLower(query)) {
			out = append(out, d)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

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
	api    *fakeAPI
	logs   *logBuffer
	stop   func() // stops the server and waits for Serve to return
	client *Client
}

func startAgent(t *testing.T) *agent {
	t.Helper()
	return startAgentWith(t, newFakeAPI())
}

// startAgentWith serves api, a fake API or one that embeds it.
func startAgentWith(t *testing.T, api interface {
	API
	fake() *fakeAPI
}) *agent {
	t.Helper()
	a := &agent{dir: shortDir(t), api: api.fake(), logs: &logBuffer{}}
	l, err := Listen(a.dir)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { done <- Serve(ctx, l, api, log) }()
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
	a.client, err = Dial(a.dir)
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
	if want := f.board.Get(); !reflect.DeepEqual(st, want) {
		t.Fatalf("Status = %+v, want %+v", st, want)
	}
	for name, call := range map[string]func(context.Context) error{
		"sync": c.SyncNow, "pause": c.Pause, "resume": c.Resume,
		"cancel connect": c.CancelConnect, "disconnect": c.Disconnect,
		"crm logout": c.CRMLogout, "window": c.ShowWindow,
	} {
		before := len(f.called())
		if err := call(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := f.called()[before:]; !slices.Equal(got, []string{name}) {
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
	f.mu.Lock()
	user, pass := f.username, f.password
	f.mu.Unlock()
	if user != "ann@contoso.com" || pass != "s3cret pass\"word" {
		t.Fatalf("CRMLogin reached the agent as %q / %q", user, pass)
	}
	if strings.Contains(a.logs.String(), "s3cret") {
		t.Fatal("the password appears in the agent's log")
	}

	s, err := c.Settings(ctx)
	if err != nil || !reflect.DeepEqual(s, Settings{Rules: match.DefaultSettings()}) {
		t.Fatalf("Settings = %+v, %v", s, err)
	}
	want := Settings{
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
	withPolicy := Settings{Rules: match.DefaultSettings(), Policy: &PolicyRules{IgnoreInternal: &lock, Blocklist: []string{"@rival.com"}}}
	if err := c.SetSettings(ctx, withPolicy); err != nil {
		t.Fatalf("SetSettings: %v", err)
	}
	if got, err := c.Settings(ctx); err != nil || !reflect.DeepEqual(got, withPolicy) {
		t.Fatalf("Settings with a policy = %+v, %v; want %+v", got, err, withPolicy)
	}

	f.mu.Lock()
	f.setup = Setup{Fields: []setup.Field{{Key: setup.KeyClientID, Value: "0f0e0d0c-0b0a-0908-0706-050403020100", Source: setup.FromPolicy},
		{Key: setup.KeyTenant, Value: "contoso.com", Source: setup.FromPerson}}, ClientIDBuiltIn: true,
		PolicyProblems: []string{"The policy's crmUrl is ignored."}, Version: "1.2.3"}
	f.mu.Unlock()
	if got, err := c.Setup(ctx); err != nil || !reflect.DeepEqual(got, f.setup) || !got.Ready() {
		t.Fatalf("Setup = %+v, %v; want %+v", got, err, f.setup)
	}
	change := map[string]string{setup.KeyTenant: "fabrikam.com", setup.KeyCRMURL: ""}
	if err := c.SetSetup(ctx, change); err != nil {
		t.Fatalf("SetSetup: %v", err)
	}
	f.mu.Lock()
	gotSet := f.setupSet
	f.mu.Unlock()
	if !reflect.DeepEqual(gotSet, change) {
		t.Fatalf("SetSetup reached the agent as %v, want %v", gotSet, change)
	}

	ds, err := c.Decisions(ctx, "acme & co?", 7)
	if err != nil {
		t.Fatalf("Decisions: %v", err)
	}
	f.mu.Lock()
	q, limit := f.query, f.limit
	f.mu.Unlock()
	if q != "acme & co?" || limit != 7 {
		t.Fatalf("Decisions reached the agent as q=%q limit=%d", q, limit)
	}
	if len(ds) != 0 {
		t.Fatalf("Decisions(%q) = %v, want none", q, ds)
	}
	ds, err = c.Decisions(ctx, "BOB", 0)
	if err != nil || len(ds) != 1 || !reflect.DeepEqual(ds[0], f.decisions[0]) {
		t.Fatalf("Decisions(BOB) = %+v, %v; want the Renewal decision", ds, err)
	}

	f.mu.Lock()
	f.unsure = []engine.UnsureUpload{{ID: "0a1b-7", Subject: "Renewal", Client: "ACME", Why: "the same page came twice",
		Since: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}}
	f.mu.Unlock()
	us, err := c.Unsure(ctx)
	if err != nil || len(us) != 1 || !reflect.DeepEqual(us[0], f.unsure[0]) {
		t.Fatalf("Unsure = %+v, %v", us, err)
	}
	if err := c.DecideUnsure(ctx, "0a1b-7", true); err != nil {
		t.Fatalf("DecideUnsure: %v", err)
	}
	if err := c.DecideUnsure(ctx, "0a1b-7", false); err != nil {
		t.Fatalf("DecideUnsure: %v", err)
	}
	f.mu.Lock()
	decided := slices.Clone(f.decided)
	f.mu.Unlock()
	if !slices.Equal(decided, []string{"0a1b-7 copy", "0a1b-7 leave"}) {
		t.Fatalf("DecideUnsure reached the agent as %q", decided)
	}

	rep, err := c.Doctor(ctx)
	if err != nil || !reflect.DeepEqual(rep, doctorReport) {
		t.Fatalf("Doctor = %+v, %v; want %+v", rep, err, doctorReport)
	}
}

func TestAgentErrorWordsComeThroughUnchanged(t *testing.T) {
	a := startAgent(t)
	const words = `ClientSuccess refused the user name or password ("ann")`
	a.api.mu.Lock()
	a.api.failWith = words
	a.api.mu.Unlock()
	ctx := context.Background()
	calls := map[string]func() error{
		"status":     func() error { _, err := a.client.Status(ctx); return err },
		"watch":      func() error { _, err := a.client.Watch(ctx); return err },
		"sync":       func() error { return a.client.SyncNow(ctx) },
		"connect":    func() error { _, err := a.client.Connect(ctx, true); return err },
		"crm login":  func() error { return a.client.CRMLogin(ctx, "ann", "pw") },
		"settings":   func() error { _, err := a.client.Settings(ctx); return err },
		"set":        func() error { return a.client.SetSettings(ctx, Settings{}) },
		"decisions":  func() error { _, err := a.client.Decisions(ctx, "", 0); return err },
		"disconnect": func() error { return a.client.Disconnect(ctx) },
	}
	for name, call := range calls {
		err := call()
		if err == nil || err.Error() != words {
			t.Errorf("%s: error %v, want %q", name, err, words)
		}
		if errors.Is(err, ErrNoAgent) {
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
	a.api.board.Update(func(s *engine.Status) {
		s.Running = true
		s.Progress = &engine.Progress{Done: 120, Total: 400}
	})
	if st := next(); st.State != engine.Syncing || st.Progress == nil || st.Progress.Done != 120 {
		t.Fatalf("status after the change %+v, want Syncing 120 of 400", st)
	}
	a.api.board.Update(func(s *engine.Status) { s.Running = false; s.Progress = nil; s.SyncedToday = 3 })
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
	l, err := Listen(a.dir)
	if !errors.Is(err, ErrAgentRunning) {
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
	c, err := Dial(dir)
	if !errors.Is(err, ErrNoAgent) {
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
	if !errors.Is(err, ErrNoAgent) || err.Error() != "Mail Sync is not running" {
		t.Fatalf("Status after the agent stopped = %v, want %q", err, ErrNoAgent)
	}
	if _, err := a.client.Watch(context.Background()); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("Watch after the agent stopped = %v, want %q", err, ErrNoAgent)
	}
	if err := a.client.SyncNow(context.Background()); !errors.Is(err, ErrNoAgent) {
		t.Fatalf("SyncNow after the agent stopped = %v, want %q", err, ErrNoAgent)
	}
}

func TestRefusesRequestsNotOnSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, l, api, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	defer func() { cancel(); <-done }()

	resp, err := http.Post("http://"+l.Addr().String()+"/v1/sync", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d for a TCP request, want 403", resp.StatusCode)
	}
	if calls := api.called(); len(calls) != 0 {
		t.Fatalf("a TCP request reached the API: %v", calls)
	}
}

// TestConnectCarriesTheBrowserChoice: "do not open the browser" reaches the
// agent (the fake refuses it, and its words come back).
func TestConnectCarriesTheBrowserChoice(t *testing.T) {
	a := startAgent(t)
	ctx := context.Background()
	if _, err := a.client.Connect(ctx, false); err == nil || !strings.Contains(err.Error(), "only takes sign-ins that open the browser") {
		t.Fatalf("Connect(openBrowser=false) = %v; the choice did not reach the agent", err)
	}
}
