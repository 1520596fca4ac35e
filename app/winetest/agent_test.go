package winetest

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mailsync/app"
	"mailsync/app/clitest"
	"mailsync/app/logs"
	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/sandbox"
)

// wine is one Windows user of Mail Sync in the session's Wine prefix.
type wine struct {
	clitest.Program
	exe string
}

func newWine(t *testing.T, svc *sandbox.Services) *wine {
	t.Helper()
	exe := windowsExe(t)
	if os.Getenv("WINEPREFIX") == "" {
		t.Fatal("WINEPREFIX is unset: run inside .ci/wine-session (make test-windows)")
	}
	if _, err := exec.LookPath("wine"); err != nil {
		t.Fatalf("wine: %v", err)
	}
	w := &wine{Program: clitest.Program{Argv: []string{"wine", exe}, Timeout: 3 * time.Minute}, exe: exe}
	w.Env = clitest.Environ(func(kv string) bool { return !strings.HasPrefix(kv, "MAILSYNC_") })
	// No MAILSYNC_HOME: the state goes where a real installation's does.
	w.Env = append(w.Env, svc.Env()...)
	w.Env = append(w.Env, "MAILSYNC_BROWSER=none")
	return w
}

// localAppData is %LOCALAPPDATA% of the prefix's user, as a Linux path.
func localAppData(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(os.Getenv("WINEPREFIX"), "drive_c", "users", u.Username, "AppData", "Local")
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestAgentUnderWine installs Mail Sync in a fresh Wine prefix as a person
// would and drives it from the command line: ClientSuccess sign-in into the
// Credential Manager, Office 365 sign-in, then the agent (tray icon, named
// pipe) running while `sync` and `status --json` talk to it. One pass must
// copy exactly the sandbox's expected mail.
func TestAgentUnderWine(t *testing.T) {
	world := sandbox.Demo(time.Now().Add(10 * time.Minute).Truncate(time.Second))
	svc := sandbox.Start(world)
	defer svc.Close()
	svc.Identity.AutoApprove(true)
	w := newWine(t, svc)
	home := filepath.Join(localAppData(t), "Mail Sync")

	r := w.MustRun(t, []string{"MAILSYNC_CRM_PASSWORD=" + sandbox.CRMPassword}, "crm", "login", "--username", sandbox.CRMUser)
	if want := "Signed in to ClientSuccess as " + sandbox.CRMUser; !strings.Contains(r.Stdout, want) {
		t.Fatalf("crm login printed %q, want %q", r.Stdout, want)
	}
	if _, err := os.Stat(filepath.Join(home, storage.FileName)); err != nil {
		t.Fatalf("the state is not under %%LOCALAPPDATA%%\\Mail Sync: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(localAppData(t)), "Roaming", "Mail Sync")); err == nil {
		t.Error("a Mail Sync directory appeared under the roaming %APPDATA%")
	}
	clitest.SetBlocklist(t, agent.Config{DataDir: home, KeyringService: "mailsync-winetest-unused"})

	connect(t, w)

	// The agent, as the login item starts it (the window is not opened:
	// signed in already, and MAILSYNC_NO_WINDOW as the window's own start).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ag := exec.CommandContext(ctx, "wine", w.exe)
	ag.Env = append(slices.Clone(w.Env), "MAILSYNC_NO_WINDOW=1")
	var agOut bytes.Buffer
	ag.Stdout, ag.Stderr = &agOut, &agOut
	if err := ag.Start(); err != nil {
		t.Fatal(err)
	}
	agentDone := make(chan struct{})
	go func() { _ = ag.Wait(); close(agentDone) }()
	defer func() {
		cancel()
		<-agentDone
	}()
	logPath := logs.Path(home)
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	waitFor(t, "the agent to start (its log says so)", func() bool {
		select {
		case <-agentDone:
			t.Fatalf("the agent exited\noutput: %s\nlog: %s", agOut.String(), readLog())
		default:
		}
		return strings.Contains(readLog(), `msg="agent started"`)
	})

	// The agent holds the state's lock, so these can only succeed by
	// asking it over the pipe.
	r = w.MustRun(t, nil, "sync", "--json")
	var sum app.SyncSummary
	if err := json.Unmarshal([]byte(r.Stdout), &sum); err != nil {
		t.Fatalf("sync --json printed %q: %v", r.Stdout, err)
	}
	if sum.Synced == 0 {
		t.Errorf("sync reported nothing synced: %+v", sum)
	}
	if got, want := svc.CRM.MessageIDs(), world.Expected(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ClientSuccess after one pass:\n got %v\nwant %v", got, want)
	}
	r = w.MustRun(t, nil, "status", "--json")
	var st struct {
		StateName string `json:"stateName"`
		Account   *struct {
			Email string `json:"email"`
		} `json:"account"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("status --json printed %q: %v", r.Stdout, err)
	}
	if st.Account == nil || st.Account.Email != world.Me.Mail || st.StateName != "Up to date" {
		t.Errorf("status --json = %s", r.Stdout)
	}

	// The tray shows the state's icon, loaded from ICO data.
	waitFor(t, "the tray's up-to-date icon", func() bool {
		return strings.Contains(readLog(), `tray: icon \"idle\" loaded from ICO`)
	})
	for _, l := range strings.Split(readLog(), "\n") {
		if strings.Contains(l, "systray error") || strings.Contains(l, "tray: icon") && !strings.Contains(l, "loaded from ICO") {
			t.Errorf("the tray reported an error: %s", l)
		}
	}

	// The settings window follows the agent over the pipe: starting Mail
	// Sync again asks it forward, and it closes when the agent goes.
	win := exec.CommandContext(ctx, "wine", w.exe, "settings")
	win.Env = w.Env
	var winOut bytes.Buffer
	win.Stdout, win.Stderr = &winOut, &winOut
	if err := win.Start(); err != nil {
		t.Fatal(err)
	}
	windowDone := make(chan struct{})
	go func() { _ = win.Wait(); close(windowDone) }()
	waitFor(t, "the settings window to follow the agent", func() bool {
		return strings.Contains(readLog(), "a settings window follows the agent")
	})
	r = w.MustRun(t, nil)
	if !strings.Contains(r.Stdout, "already running") {
		t.Errorf("a second start printed %q, want that Mail Sync is already running", r.Stdout)
	}
	waitFor(t, "the agent to ask its window forward", func() bool {
		return strings.Contains(readLog(), "asked the settings window to come forward")
	})
	select {
	case <-windowDone:
		t.Fatalf("the settings window ended while its agent ran\noutput: %s", winOut.String())
	default:
	}
	if err := ag.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-windowDone:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the settings window stayed open after the agent went\noutput: %s", winOut.String())
	}
	t.Logf("agent log:\n%s", readLog())
}

// connect runs `mailsync.exe connect --no-browser` and answers the sign-in
// URL it prints as a browser would under the identity fake's AutoApprove.
func connect(t *testing.T, w *wine) {
	t.Helper()
	r, _ := w.Connect(t, clitest.AutoApprove)
	if r.Code != 0 {
		t.Fatalf("connect: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stdout, "Connected as") {
		t.Fatalf("connect printed %q", r.Stdout)
	}
}
