package main

// End-to-end tests of the built binary against the sandbox services, run in
// the real desktop parts of .ci/desktop-session (gnome-keyring's Secret
// Service, headless Chromium). They skip with the reason when those parts
// are missing.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailsync/app"
	"mailsync/app/clitest"
	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/graphtest/chromium"
	"mailsync/sync/sandbox"
)

// binary is the mailsync built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "mailsync-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "mailsync")
		if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build mailsync: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

func needRealKeyring(t *testing.T) {
	t.Helper()
	if os.Getenv("MAILSYNC_REAL_KEYRING") != "1" {
		t.Skip("needs a real Secret Service: run under .ci/desktop-session (MAILSYNC_REAL_KEYRING=1)")
	}
}

// e2e is one installation of Mail Sync on the sandbox services: its own
// data directory, keyring service and config home.
type e2e struct {
	clitest.Program
	svc     *sandbox.Services
	home    string // MAILSYNC_HOME
	service string // MAILSYNC_KEYRING_SERVICE
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	// The world's "now" is a few minutes ahead (whole seconds, as Graph
	// filters), so that its message received exactly 24 h before connect
	// is still inside the window when the test connects a moment later.
	w := sandbox.Demo(time.Now().Add(10 * time.Minute).Truncate(time.Second))
	svc := sandbox.Start(w)
	t.Cleanup(svc.Close)
	e := &e2e{
		Program: clitest.Program{Argv: []string{binary}},
		svc:     svc,
		home:    filepath.Join(t.TempDir(), "data"),
		service: fmt.Sprintf("mailsync-e2e-%s-%d", t.Name(), time.Now().UnixNano()),
	}
	e.Env = clitest.Environ(func(kv string) bool {
		return !strings.HasPrefix(kv, "MAILSYNC_") || strings.HasPrefix(kv, "MAILSYNC_REAL_KEYRING=")
	})
	e.Env = append(e.Env, svc.Env()...)
	e.Env = append(e.Env,
		"MAILSYNC_HOME="+e.home,
		"MAILSYNC_KEYRING_SERVICE="+e.service,
		"MAILSYNC_BROWSER=none",
		// Start at login turns on at the agent's first run: keep the
		// login item out of the real config directory.
		"XDG_CONFIG_HOME="+t.TempDir(),
	)
	t.Cleanup(func() {
		s := e.secrets()
		_ = s.Delete(storage.MicrosoftKey(w.Me.Mail))
		_ = s.Delete(storage.CRMKey(sandbox.CRMUser))
	})
	return e
}

func (e *e2e) secrets() storage.Secrets { return storage.Secrets{Service: e.service} }

type result = clitest.Result

// crmLogin signs in to the sandbox ClientSuccess with the command line.
func (e *e2e) crmLogin(t *testing.T) {
	t.Helper()
	r := e.MustRun(t, []string{"MAILSYNC_CRM_PASSWORD=" + sandbox.CRMPassword}, "crm", "login", "--username", sandbox.CRMUser)
	if want := "Signed in to ClientSuccess as " + sandbox.CRMUser; !strings.Contains(r.Stdout, want) {
		t.Fatalf("crm login printed %q, want %q", r.Stdout, want)
	}
}

// setBlocklist sets the blocklist the sandbox labels assume.
func (e *e2e) setBlocklist(t *testing.T) {
	t.Helper()
	clitest.SetBlocklist(t, agent.Config{DataDir: e.home, KeyringService: e.service})
}

// connect runs `mailsync connect --no-browser`, hands the sign-in URL it
// prints to answer, and returns the command's outcome.
func (e *e2e) connect(t *testing.T, answer func(url string) error) result {
	t.Helper()
	r, url := e.Connect(t, answer)
	if !strings.HasPrefix(url, e.svc.Identity.Authority()+"/oauth2/v2.0/authorize?") {
		t.Errorf("sign-in URL %q is not the identity platform's authorize endpoint", url)
	}
	return r
}

// assertNoSecretsInFiles fails if any file under dir holds a token the
// identity platform issued or the ClientSuccess password.
func assertNoSecretsInFiles(t *testing.T, dir string, secrets []string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret (%d bytes, starting %.6q)", p, len(s), s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	if files < 2 {
		t.Fatalf("only %d files in %s; expected at least the state and the log", files, dir)
	}
}

func TestConnectInChromiumThenSync(t *testing.T) {
	needRealKeyring(t)
	if !chromium.Available() {
		t.Skip("needs Chromium at " + chromium.Path)
	}
	e := newE2E(t)
	w := e.svc.World
	e.crmLogin(t)
	e.setBlocklist(t)

	var page string
	r := e.connect(t, func(u string) (err error) {
		page, err = chromium.ClickInBrowser(context.Background(), u, "accept")
		return err
	})
	if r.Code != 0 {
		t.Fatalf("connect: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(page, "Connected") {
		t.Errorf("the browser showed %q after Accept, want the Connected page", page)
	}
	if want := fmt.Sprintf("Connected as %s <%s>\n", w.Me.DisplayName, w.Me.Mail); !strings.Contains(r.Stdout, want) {
		t.Errorf("connect printed %q, want %q", r.Stdout, want)
	}
	if strings.Contains(r.Stderr, "Connecting again") {
		t.Errorf("a first connect says it continues: %q", r.Stderr)
	}

	// The refresh token is in the Secret Service (read back both through
	// the keyring library and with secret-tool) and nowhere in the files.
	rt, err := e.secrets().Get(storage.MicrosoftKey(w.Me.Mail))
	if err != nil {
		t.Fatalf("refresh token in the Secret Service: %v", err)
	}
	if !slices.Contains(e.svc.Identity.Issued(), rt) {
		t.Errorf("the keyring holds a value the identity platform never issued")
	}
	if st, err := exec.LookPath("secret-tool"); err == nil {
		out, err := exec.Command(st, "search", "--all", "service", e.service).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte(rt)) {
			t.Errorf("secret-tool does not find the refresh token under service %q (err %v)", e.service, err)
		}
	}

	r = e.MustRun(t, nil, "sync", "--json")
	var sum app.SyncSummary
	if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil {
		t.Fatalf("sync --json printed %q: %v", r.Stdout, err)
	}
	want := w.Expected()
	if sum.Synced == 0 {
		t.Errorf("sync reported nothing synced: %+v", sum)
	}
	if got := e.svc.CRM.MessageIDs(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ClientSuccess after sync:\n got %v\nwant %v", got, want)
	}

	r = e.MustRun(t, nil, "status", "--json")
	var st struct {
		State     string `json:"state"`
		StateName string `json:"stateName"`
		Account   *struct {
			Name  string `json:"name"`
			Email string `json:"email"`
		} `json:"account"`
		CRMUser string `json:"crmUser"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("status --json printed %q: %v", r.Stdout, err)
	}
	if st.Account == nil || st.Account.Email != w.Me.Mail || st.CRMUser != sandbox.CRMUser || st.State != "idle" || st.StateName != "Up to date" {
		t.Errorf("status --json = %s", r.Stdout)
	}
	// A second sync finds nothing new: status still shows what the first
	// copied, and the second as a check.
	e.MustRun(t, nil, "sync")
	r = e.MustRun(t, nil, "status")
	if !strings.Contains(r.Stdout, engine.Emails(sum.Synced)+" copied") || !strings.Contains(r.Stdout, ", nothing new to copy") {
		t.Errorf("status after a sync that found nothing new:\n%s", r.Stdout)
	}

	// Cancel: a second sign-in declined in the browser changes nothing.
	before, _ := e.secrets().Get(storage.MicrosoftKey(w.Me.Mail))
	issued := len(e.svc.Identity.Issued())
	r = e.connect(t, func(u string) error {
		_, err := chromium.ClickInBrowser(context.Background(), u, "cancel")
		return err
	})
	if r.Code == 0 {
		t.Errorf("connect declined in the browser exited 0\nstdout: %s", r.Stdout)
	}
	if !strings.Contains(r.Stderr, "Connecting again as "+w.Me.Mail+" continues from ") {
		t.Errorf("connecting the same mailbox again does not say it continues: %q", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "Sign-in was cancelled in the browser") {
		t.Errorf("declined connect: stderr %q, want it to say the sign-in was cancelled", r.Stderr)
	}
	if strings.Contains(r.Stdout, "Connected as") {
		t.Errorf("declined connect printed %q", r.Stdout)
	}
	if n := len(e.svc.Identity.Issued()); n != issued {
		t.Errorf("the declined sign-in got %d new tokens issued", n-issued)
	}
	if after, err := e.secrets().Get(storage.MicrosoftKey(w.Me.Mail)); err != nil || after != before {
		t.Errorf("the keyring entry changed with a declined sign-in (err %v)", err)
	}
	r = e.MustRun(t, nil, "status", "--json")
	if !strings.Contains(r.Stdout, w.Me.Mail) {
		t.Errorf("status after a declined sign-in lost the account: %s", r.Stdout)
	}

	assertNoSecretsInFiles(t, e.home, append(e.svc.Identity.Issued(), sandbox.CRMPassword))
}

// TestSyncSurvivesSIGKILL is the crash proof: `mailsync sync` killed at
// random moments of its pass, again and again, then let finish, leaves
// every expected interaction in ClientSuccess exactly once.
func TestSyncSurvivesSIGKILL(t *testing.T) {
	needRealKeyring(t)
	if testing.Short() {
		t.Skip("kills 20 passes; skipped in -short")
	}
	const latency = 25 * time.Millisecond
	// setup is a connected installation whose mailbox holds the demo
	// messages plus a batch of ordinary ones, so that a pass spends most of
	// its time uploading.
	setup := func() (*e2e, map[int64][]string) {
		e := newE2E(t)
		w := e.svc.World
		extra := sandbox.CatchUp(w.Now.Add(-20*time.Hour), w.Now.Add(-2*time.Hour), 60, 1)
		sandbox.LoadItems(e.svc.Graph, slices.Values(extra))
		want := w.Expected()
		for c, ids := range sandbox.ExpectedFrom(slices.Values(extra)) {
			want[c] = append(want[c], ids...)
			slices.Sort(want[c])
		}
		e.crmLogin(t)
		e.setBlocklist(t)
		e.svc.Identity.AutoApprove(true)
		if r := e.connect(t, clitest.AutoApprove); r.Code != 0 {
			t.Fatalf("connect: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
		}
		e.svc.Graph.SetLatency(latency)
		e.svc.CRM.SetLatency(latency)
		return e, want
	}

	// How long one whole pass takes, on a twin installation.
	twin, _ := setup()
	start := time.Now()
	twin.MustRun(t, nil, "sync")
	full := time.Since(start)
	t.Logf("one whole pass takes %v (%d interactions)", full.Round(time.Millisecond), len(twin.svc.CRM.AllInteractions()))

	e, want := setup()
	rt := func() string { v, _ := e.secrets().Get(storage.MicrosoftKey(e.svc.World.Me.Mail)); return v }
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	// Each run gets a little new mail as well, so that every run has
	// uploads to be interrupted in, not only the first few. The kill falls
	// anywhere within the length of a whole pass: at first the twin's, then
	// that of the latest run that got to finish.
	span := full
	kills := 0
	for attempt := 1; kills < 20 && attempt <= 80; attempt++ {
		// Received in the last half hour, as new mail is: a pass after a
		// successful one lists only what arrived since (less an hour).
		fresh := sandbox.CatchUp(e.svc.World.Now.Add(-30*time.Minute), e.svc.World.Now.Add(-time.Minute), 3, 1+attempt)
		sandbox.LoadItems(e.svc.Graph, slices.Values(fresh))
		for c, ids := range sandbox.ExpectedFrom(slices.Values(fresh)) {
			want[c] = append(want[c], ids...)
			slices.Sort(want[c])
		}
		delay := time.Duration(rng.Int64N(int64(span)))
		cmd := exec.Command(binary, "sync")
		cmd.Env = e.Env
		var errb bytes.Buffer
		cmd.Stderr = &errb
		began := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d ended by itself with %v before the kill at %v:\n%s", attempt, err, delay, errb.String())
			}
			span = time.Since(began)
			continue // finished before the kill: not counted
		case <-time.After(delay):
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := <-done
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			continue // it finished in the instant before the signal
		}
		kills++
		// A new refresh token is issued at the start of every run and saved
		// before it is used; whatever the kill interrupted, the keyring
		// must hold one the identity platform still accepts.
		if !e.svc.Identity.ValidRefreshToken(rt()) {
			t.Fatalf("kill %d at %v: the keyring holds no refresh token Microsoft would accept; the sign-in was lost", kills, delay)
		}
		t.Logf("kill %2d at %5v of %5v: %d interactions so far", kills, delay.Round(time.Millisecond), span.Round(time.Millisecond), len(e.svc.CRM.AllInteractions()))
	}
	if kills < 20 {
		t.Fatalf("only %d runs were killed mid-pass", kills)
	}

	r := e.MustRun(t, nil, "sync", "--json")
	got := e.svc.CRM.MessageIDs()
	if !maps.EqualFunc(got, want, slices.Equal) {
		for c := range maps.Keys(want) {
			for _, id := range want[c] {
				if n := countOf(got[c], id); n != 1 {
					t.Errorf("client %d holds %s %d times, want once", c, id, n)
				}
			}
		}
		for c, ids := range got {
			for _, id := range ids {
				if !slices.Contains(want[c], id) {
					t.Errorf("client %d holds %s, which must not be uploaded", c, id)
				}
			}
		}
		t.Fatalf("ClientSuccess after %d kills differs from the expected state (final sync: %s)", kills, r.Stdout)
	}
	r = e.MustRun(t, nil, "sync", "--json")
	var sum app.SyncSummary
	if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil {
		t.Fatalf("sync --json printed %q: %v", r.Stdout, err)
	}
	if sum.Uploads != 0 {
		t.Errorf("a pass after everything was synced uploaded %d interactions", sum.Uploads)
	}
}

func countOf(ids []string, id string) int {
	n := 0
	for _, x := range ids {
		if x == id {
			n++
		}
	}
	return n
}

// TestConnectNeedsApprovalPrintsLink: when the organization must approve
// Mail Sync (the identity fake answers AADSTS90094), `mailsync connect`
// says so in words, prints the admin-consent link for the configured app
// and directory on stdout, and exits non-zero. No keyring entry is made.
func TestConnectNeedsApprovalPrintsLink(t *testing.T) {
	e := newE2E(t)
	e.svc.Identity.AutoApprove(true)
	e.svc.Identity.RequireApproval(&graphtest.ApprovalRefusal{Code: "AADSTS90094"})
	r := e.connect(t, clitest.AutoApprove)
	if r.Code == 0 {
		t.Fatalf("connect exited 0\nstdout: %s\nstderr: %s", r.Stdout, r.Stderr)
	}
	want, ok := graph.AdminConsentURL(e.svc.Identity.Authority(), e.svc.Identity.ClientID(), e.svc.Graph.URL, "")
	if !ok || !slices.Contains(strings.Split(r.Stdout, "\n"), want) {
		t.Errorf("stdout lacks the approval link %q:\n%s", want, r.Stdout)
	}
	for _, w := range []string{"allows only administrators to approve apps like Mail Sync", "Copy the approval link for your IT admin:"} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "AADSTS") {
		t.Errorf("stderr shows Microsoft's code:\n%s", r.Stderr)
	}
}
