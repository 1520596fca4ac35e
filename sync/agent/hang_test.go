package agent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"
	"golang.org/x/oauth2"

	"mailsync/storage"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/sandbox"
)

// silentServer accepts every request and never answers it (a captive
// portal, a VPN that drops traffic) until the test ends. Each request that
// arrives is announced on arrived.
func silentServer(t *testing.T) (srv *httptest.Server, arrived <-chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	hits := make(chan struct{}, 64)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hits <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: the handlers return, then the server closes
	return srv, hits
}

// stuckKeyring is a keyring in memory that can be made to stop answering,
// as the Secret Service does while it waits for the person to unlock it:
// every call then blocks until unlock (or the end of the test).
type stuckKeyring struct {
	mu      sync.Mutex
	secrets map[string]string
	locked  chan struct{} // non-nil while locked; closed by unlock
	blocked chan struct{} // a call found the keyring locked
}

func newStuckKeyring(t *testing.T) *stuckKeyring {
	k := &stuckKeyring{secrets: map[string]string{}, blocked: make(chan struct{}, 64)}
	t.Cleanup(k.unlock)
	return k
}

func (k *stuckKeyring) lock() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.locked == nil {
		k.locked = make(chan struct{})
	}
}

func (k *stuckKeyring) unlock() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.locked != nil {
		close(k.locked)
		k.locked = nil
	}
}

// wait blocks while the keyring is locked.
func (k *stuckKeyring) wait() {
	k.mu.Lock()
	ch := k.locked
	k.mu.Unlock()
	if ch != nil {
		select {
		case k.blocked <- struct{}{}:
		default:
		}
		<-ch
	}
}

func (k *stuckKeyring) Get(service, user string) (string, error) {
	k.wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.secrets[service+"\x00"+user]
	if !ok {
		return "", gokeyring.ErrNotFound // what go-keyring answers
	}
	return v, nil
}

func (k *stuckKeyring) Set(service, user, password string) error {
	k.wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.secrets[service+"\x00"+user] = password
	return nil
}

func (k *stuckKeyring) Delete(service, user string) error {
	k.wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.secrets, service+"\x00"+user)
	return nil
}

func (k *stuckKeyring) DeleteAll(string) error { k.wait(); return nil }

// hangAgent is an agent whose ClientSuccess is the sandbox's and whose
// token endpoint and Graph are given; its keyring is kr.
func hangAgent(t *testing.T, authority, graphURL, clientID string, kr *stuckKeyring) (*Agent, *sandbox.Services) {
	t.Helper()
	svc := sandbox.Start(sandbox.Demo(time.Now().Add(5 * time.Minute).Truncate(time.Second)))
	t.Cleanup(svc.Close)
	svc.Identity.AutoApprove(true)
	if authority == "" {
		authority, clientID = svc.Identity.Authority(), svc.Identity.ClientID()
	}
	if graphURL == "" {
		graphURL = svc.Graph.URL
	}
	a, err := Open(Config{
		DataDir:        t.TempDir(),
		Authority:      authority,
		GraphURL:       graphURL,
		CRMURL:         svc.CRM.URL,
		ClientID:       clientID,
		KeyringService: "mailsync-hang-" + t.Name(),
	}, Hooks{OpenURL: func(u string) error {
		go graphtest.Browse(u)
		return nil
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.keys.secrets.Keyring = kr
	a.sched.StartDelay = time.Millisecond
	t.Cleanup(func() { a.Close() })
	return a, svc
}

// bounded runs f with a generous context and fails the test when it has
// not returned within limit: an upper bound for a hang, not a speed target.
func bounded(t *testing.T, what string, limit time.Duration, f func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		t.Fatalf("%s did not answer within %v: goroutines above", what, limit)
		return nil
	}
}

// waitState waits for the board to show what cond looks for.
func waitState(t *testing.T, a *Agent, what string, cond func(engine.Status) bool) engine.Status {
	t.Helper()
	ch, stop := a.board.Subscribe()
	defer stop()
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case st := <-ch:
			if cond(st) {
				return st
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s; status %+v", what, a.board.Get())
		}
	}
}

func waitArrived(t *testing.T, what string, arrived <-chan struct{}) {
	t.Helper()
	select {
	case <-arrived:
	case <-time.After(2 * time.Minute):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// stayResponsive checks the done-when bounds on a running agent (its
// scheduler's context is stop, its Run ends on runDone): status under 2 s,
// pause under 5 s, disconnect under 10 s, then Quit (the scheduler stops,
// Close) without error. It returns Disconnect's error.
func stayResponsive(t *testing.T, a *Agent, stop context.CancelFunc, runDone <-chan error) error {
	t.Helper()
	bounded(t, "status", 2*time.Second, func(ctx context.Context) error {
		_, err := a.Status(ctx)
		return err
	})
	if err := bounded(t, "pause", 5*time.Second, a.Pause); err != nil {
		t.Errorf("Pause: %v", err)
	}
	if !a.board.Get().Paused {
		t.Errorf("the status does not show the pause")
	}
	disconnectErr := bounded(t, "disconnect", 10*time.Second, a.Disconnect)
	bounded(t, "quit", 10*time.Second, func(context.Context) error {
		stop()
		if err := <-runDone; err != nil {
			t.Errorf("scheduler: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		return nil
	})
	return disconnectErr
}

// run starts the agent's scheduler.
func run(a *Agent) (stop context.CancelFunc, done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- a.Run(ctx) }()
	return cancel, ch
}

// connectWith records a connection whose refresh token is rt.
func connectWith(t *testing.T, a *Agent, rt string) {
	t.Helper()
	err := a.saveConnection(&graph.Result{
		Token:   &oauth2.Token{AccessToken: "at", RefreshToken: rt},
		Account: graph.Account{Name: "Ann", Email: "ann@example.com", TenantID: "t"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func signInCRM(t *testing.T, a *Agent) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.CRMLogin(ctx, sandbox.CRMUser, sandbox.CRMPassword); err != nil {
		t.Fatalf("CRMLogin: %v", err)
	}
}

// With a token endpoint that accepts and never answers, a pass hangs in
// the renewal of the access token: the agent still answers, and
// Disconnect and Quit end the renewal instead of waiting for it.
func TestSilentTokenEndpointNeverHangsTheAgent(t *testing.T) {
	silent, arrived := silentServer(t)
	a, _ := hangAgent(t, silent.URL, silent.URL, "hang", newStuckKeyring(t))
	signInCRM(t, a)
	connectWith(t, a, "rt")
	stop, runDone := run(a)
	waitArrived(t, "a token renewal", arrived)
	waitState(t, a, "the pass", func(s engine.Status) bool { return s.Running })

	if err := stayResponsive(t, a, stop, runDone); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	if _, err := a.keys.secrets.Get(storage.MicrosoftKey("ann@example.com")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the refresh token after Disconnect: err = %v, want ErrNotFound", err)
	}
}

// With a Graph that accepts and never answers (the token endpoint works),
// a pass hangs in a Graph request: the same.
func TestSilentGraphNeverHangsTheAgent(t *testing.T) {
	silent, arrived := silentServer(t)
	a, _ := hangAgent(t, "", silent.URL, "", newStuckKeyring(t))
	signInCRM(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := a.Connect(ctx, true); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if _, err := a.WaitConnected(ctx); err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
	stop, runDone := run(a)
	waitArrived(t, "a Graph request", arrived)

	if err := stayResponsive(t, a, stop, runDone); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
}

// With a keyring that never answers (the Secret Service waits for the
// person to unlock it), the agent still answers, the state says to unlock
// the keyring, and Disconnect says so too instead of waiting.
func TestSilentKeyringNeverHangsTheAgent(t *testing.T) {
	kr := newStuckKeyring(t)
	a, _ := hangAgent(t, "", "", "", kr)
	signInCRM(t, a)
	connectWith(t, a, "rt")
	kr.lock()
	stop, runDone := run(a)
	st := waitState(t, a, "the keyring's silence on the board", func(s engine.Status) bool { return s.Keyring != "" })
	if st.State != engine.Error || !strings.HasPrefix(st.Problem(), "Unlock your keyring") {
		t.Errorf("state %v, problem %q; want an error that says to unlock the keyring", st.State, st.Problem())
	}

	err := stayResponsive(t, a, stop, runDone)
	if err == nil || !strings.HasPrefix(Words(err), "Unlock your keyring") {
		t.Errorf("Disconnect with the keyring silent: %v; want the words to unlock it", err)
	}
}

// Once the keyring answers, the state no longer asks to unlock it, and the
// pass that could not run follows.
func TestKeyringAnswerClearsTheState(t *testing.T) {
	kr := newStuckKeyring(t)
	a, _ := hangAgent(t, "", "", "", kr)
	signInCRM(t, a)
	connectWith(t, a, "rt")
	kr.lock()
	stop, runDone := run(a)
	defer func() { stop(); <-runDone }()
	st := waitState(t, a, "the keyring's silence on the board", func(s engine.Status) bool { return s.Keyring != "" && !s.Running })
	passes := st.Passes
	kr.unlock()
	waitState(t, a, "the keyring's answer and a pass after it", func(s engine.Status) bool {
		return s.Keyring == "" && s.Passes > passes
	})
}

// A renewal that hangs also yields to a change of ClientSuccess user (which
// stops the pass in flight) and to Quit without a disconnect first.
func TestSilentTokenEndpointYieldsToAccountSwitchAndQuit(t *testing.T) {
	silent, arrived := silentServer(t)
	a, svc := hangAgent(t, silent.URL, silent.URL, "hang", newStuckKeyring(t))
	signInCRM(t, a)
	connectWith(t, a, "rt")
	stop, runDone := run(a)
	waitArrived(t, "a token renewal", arrived)

	svc.CRM.AddUser("bob@example.com", "bobs password")
	if err := bounded(t, "a ClientSuccess sign-in as another user", 10*time.Second, func(ctx context.Context) error {
		return a.CRMLogin(ctx, "bob@example.com", "bobs password")
	}); err != nil {
		t.Fatalf("CRMLogin as another user: %v", err)
	}
	if st := a.board.Get(); st.CRMUser != "bob@example.com" {
		t.Errorf("ClientSuccess user after the switch = %q", st.CRMUser)
	}
	// The pass the switch asks for renews again, and hangs again.
	waitArrived(t, "the next pass's token renewal", arrived)
	bounded(t, "quit", 10*time.Second, func(context.Context) error {
		stop()
		if err := <-runDone; err != nil {
			t.Errorf("scheduler: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		return nil
	})
}

// A renewal whose rotated refresh token cannot be saved (the keyring went
// silent between two passes) holds no lock of the agent: Disconnect ends
// the save's wait and answers.
func TestTokenSaveIntoASilentKeyringNeverHangsTheAgent(t *testing.T) {
	kr := newStuckKeyring(t)
	a, _ := hangAgent(t, "", "", "", kr)
	signInCRM(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := a.Connect(ctx, true); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if _, err := a.WaitConnected(ctx); err != nil {
		t.Fatalf("WaitConnected: %v", err)
	}
	if _, err := a.PassNow(ctx); err != nil {
		t.Fatalf("first pass: %v", err)
	}
	var ts *graph.TokenSource
	if err := a.do(ctx, func(s *loopState) error { ts = s.tokens; return nil }); err != nil || ts == nil {
		t.Fatalf("no token source after a pass (%v)", err)
	}
	ts.Invalidate() // the next pass renews, and saves the rotated token
	kr.lock()
	passDone := make(chan error, 1)
	go func() { _, err := a.PassNow(context.Background()); passDone <- err }()
	waitArrived(t, "the save of the rotated refresh token", kr.blocked)

	err := bounded(t, "disconnect", 10*time.Second, a.Disconnect)
	if err == nil || !strings.HasPrefix(Words(err), "Unlock your keyring") {
		t.Errorf("Disconnect with the keyring silent: %v; want the words to unlock it", err)
	}
	if err := bounded(t, "the pass", 10*time.Second, func(context.Context) error { return <-passDone }); err == nil {
		t.Error("the pass whose token could not be saved succeeded")
	}
	bounded(t, "Close", 10*time.Second, func(context.Context) error { return a.Close() })
}
