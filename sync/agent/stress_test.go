package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailsync/storage"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
)

// TestConcurrentAccountChangesNeverHang runs sign-ins (the end of a
// browser sign-in, where the board and the scheduler used to be locked in
// the opposite order to Pause), pauses, resumes, disconnects, ClientSuccess
// sign-outs and passes at the same time, thousands of times, and checks
// that none of them hangs and that the board ends showing the stored facts.
// Passes go through the real path (keyring, token source, engine) against
// a service that answers every request with 404, which no client retries,
// so each one is quick.
func TestConcurrentAccountChangesNeverHang(t *testing.T) {
	iterations := 2000
	if testing.Short() {
		iterations = 200
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(down.Close)
	a, err := Open(Config{
		DataDir:        t.TempDir(),
		Authority:      down.URL,
		GraphURL:       down.URL,
		CRMURL:         down.URL,
		ClientID:       "stress",
		KeyringService: "mailsync-stress-" + t.Name(),
	}, Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if _, err := a.store.SwitchCRMUser("ann"); err != nil {
		t.Fatal(err)
	}
	if err := a.secrets.Set(storage.CRMKey("ann"), "pw"); err != nil {
		t.Fatal(err)
	}
	// Written behind the loop's back: the loop reads it again.
	if err := a.do(context.Background(), func(s *loopState) error {
		err := s.reload()
		s.publish()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	a.sched.Interval, a.sched.StartDelay = time.Hour, time.Millisecond

	ctx, cancel := context.WithCancel(context.Background())
	schedDone := make(chan error, 1)
	go func() { schedDone <- a.Run(ctx) }()

	signIn := func(i int) error {
		return a.saveConnection(&graph.Result{
			Token:   &oauth2.Token{AccessToken: "at", RefreshToken: fmt.Sprintf("rt-%d", i)},
			Account: graph.Account{Name: "Ann", Email: "ann@example.com", TenantID: "t"},
		})
	}
	ops := []func(i int) error{
		signIn,
		func(int) error { return a.Pause(ctx) },
		func(int) error { return a.Resume(ctx) },
		func(int) error { return a.Disconnect(ctx) },
		func(int) error { a.sched.SyncNow(); return nil },
		func(int) error { _, err := a.PassNow(ctx); _ = err; return nil },
		func(int) error {
			// A sync call joins or asks for a pass; it may be refused (not
			// connected, paused) or fail (the service is down).
			sctx, scancel := context.WithTimeout(ctx, time.Minute)
			defer scancel()
			_, _ = a.Sync(sctx)
			return nil
		},
		func(int) error { _ = a.board.Get(); return nil },
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ops))
	for k, op := range ops {
		wg.Go(func() {
			for i := range iterations {
				if err := op(i); err != nil && k < 4 {
					errs <- fmt.Errorf("op %d, iteration %d: %w", k, i, err)
					return
				}
			}
		})
	}
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	// Only a deadlock reaches this limit; the goroutine dump shows where.
	select {
	case <-all:
	case <-time.After(10 * time.Minute):
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		t.Fatal("the agent hung: goroutines above")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cancel()
	if err := <-schedDone; err != nil {
		t.Errorf("scheduler: %v", err)
	}

	// Passes asked for while an account change holds them off return at
	// once and are not counted; many still run.
	if n := a.board.Get().Passes; n < iterations/10 {
		t.Errorf("%d passes ran, want at least %d: the test did not exercise passes", n, iterations/10)
	}
	t.Logf("%d passes ran", a.board.Get().Passes)

	// At rest, the board shows what is stored.
	if err := signIn(iterations); err != nil {
		t.Fatal(err)
	}
	if err := a.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := a.store.Meta()
	if err != nil {
		t.Fatal(err)
	}
	st := a.board.Get()
	if st.Running || st.Paused != m.Paused || (st.Account == nil) != (m.Account == nil) || st.CRMUser != m.CRMUser ||
		st.Reconnect != m.NeedsReconnect || st.State != engine.Derive(st) {
		t.Errorf("board %+v disagrees with the stored facts %+v", st, m)
	}
}
