//go:build !windows

package app

// End-to-end test of the agent process: the built mailsync run as the
// resident agent on the sandbox services, driven through its local API and
// through its tray menu over D-Bus, as a desktop panel does. It needs the
// parts of .ci/desktop-session (a session bus with a StatusNotifier watcher,
// a Secret Service, an X server) and skips without them. The Windows agent
// is driven end to end under Wine by app/winetest.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"mailsync/app/tray"
	"mailsync/app/tray/traytest"
	"mailsync/storage"
	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
	"mailsync/sync/graphtest"
	"mailsync/sync/sandbox"
)

func TestAgentProcessTrayAndSingleInstance(t *testing.T) {
	if os.Getenv("MAILSYNC_TRAY_HOST") != "1" || os.Getenv("MAILSYNC_REAL_KEYRING") != "1" {
		t.Skip("needs a tray host and a Secret Service: run under .ci/desktop-session (MAILSYNC_TRAY_HOST=1, MAILSYNC_REAL_KEYRING=1)")
	}
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		t.Skip("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset)")
	}
	bin := filepath.Join(t.TempDir(), "mailsync")
	if out, err := exec.Command("go", "build", "-o", bin, "mailsync").CombinedOutput(); err != nil {
		t.Fatalf("build mailsync: %v\n%s", err, out)
	}

	w := sandbox.Demo(time.Now().Add(10 * time.Minute).Truncate(time.Second))
	svc := sandbox.Start(w)
	t.Cleanup(svc.Close)
	svc.Identity.AutoApprove(true)
	// A little latency so that a pass lasts long enough to be seen.
	svc.Graph.SetLatency(30 * time.Millisecond)

	home := filepath.Join(t.TempDir(), "data")
	secrets := storage.Secrets{Service: fmt.Sprintf("mailsync-agent-e2e-%d", time.Now().UnixNano())}
	t.Cleanup(func() {
		_ = secrets.Delete(storage.MicrosoftKey(w.Me.Mail))
		_ = secrets.Delete(storage.CRMKey(w.CRMUser))
	})
	env := append(os.Environ(), svc.Env()...)
	env = append(env,
		"MAILSYNC_HOME="+home,
		"MAILSYNC_KEYRING_SERVICE="+secrets.Service,
		"MAILSYNC_BROWSER=none",
		"MAILSYNC_NO_WINDOW=1",
		"XDG_CONFIG_HOME="+t.TempDir(), // the login item turns on at the agent's first run
	)

	agentCmd := exec.Command(bin)
	agentCmd.Env = env
	var agentOut syncBuffer
	agentCmd.Stdout, agentCmd.Stderr = &agentOut, &agentOut
	release, err := StartTied(agentCmd)
	if err != nil {
		t.Fatalf("start the agent: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- agentCmd.Wait() }()
	t.Cleanup(func() {
		// The children first: once the agent is gone they belong to init
		// and no longer name it as their parent.
		killChildren(agentCmd.Process.Pid)
		select {
		case <-exited:
		default:
			_ = agentCmd.Process.Kill()
			<-exited
		}
		release()
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var api *agentapi.Client
	traytest.Eventually(t, "the agent serves its local API", func() bool {
		c, err := agentapi.Dial(home)
		if err != nil {
			return false
		}
		api = c
		return true
	})
	t.Cleanup(func() { api.Close() })

	// The socket is the API's only door: owner-only.
	fi, err := os.Stat(agentapi.SocketPath(home))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket %s has mode %v, want a socket with 0600", agentapi.SocketPath(home), fi.Mode())
	}

	// Find the tray item and its menu.
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to the session bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	item := traytest.Find(t, conn, agentCmd.Process.Pid)
	item.WaitStatusLine(t, func(l string) bool { return l == tray.StatusLine(engine.Status{State: engine.SignedOut}, time.Now()) })

	// Sign in to ClientSuccess, set the blocklist and connect, all through
	// the local API; the identity fake approves the GET of the sign-in URL.
	if err := api.CRMLogin(ctx, w.CRMUser, w.CRMPassword); err != nil {
		t.Fatalf("CRMLogin: %v", err)
	}
	if err := api.SetSettings(ctx, agentapi.Settings{Rules: sandbox.Settings()}); err != nil {
		t.Fatalf("SetSettings: %v", err)
	}
	u, err := api.Connect(ctx, true)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if _, _, err := graphtest.Browse(u); err != nil {
		t.Fatalf("visit the sign-in URL: %v", err)
	}
	// Connecting starts a pass by itself; wait for it to end.
	var st engine.Status
	traytest.Eventually(t, "connected and the first pass done", func() bool {
		st, err = api.Status(ctx)
		return err == nil && st.Account != nil && st.State == engine.Idle && !st.LastPass.IsZero()
	})
	if st.Account.Email != w.Me.Mail {
		t.Errorf("connected as %q, want %q", st.Account.Email, w.Me.Mail)
	}

	m := item.WaitStatusLine(t, func(l string) bool { return strings.HasPrefix(l, "Last sync ") })
	wantLabels := []string{m[0].Label, tray.LabelSyncNow, tray.LabelPause, tray.LabelSettings, tray.LabelOpenLog, tray.LabelQuit}
	if got := m.Labels(); !slices.Equal(got, wantLabels) {
		t.Errorf("menu labels = %q, want %q", got, wantLabels)
	}

	// Sync now from the menu: the fake Graph sees a pass, and the status
	// line shows it running and then done.
	listed := svc.Graph.Stats().ByRoute["GET /me/messages"]
	lastPass := st.LastPass
	item.Click(t, m.ByLabel(t, tray.LabelSyncNow).ID)
	item.WaitStatusLine(t, func(l string) bool { return strings.HasPrefix(l, "Syncing") })
	traytest.Eventually(t, "the pass asked for by Sync now ends", func() bool {
		st, err = api.Status(ctx)
		return err == nil && st.State == engine.Idle && st.LastPass.After(lastPass)
	})
	if n := svc.Graph.Stats().ByRoute["GET /me/messages"]; n <= listed {
		t.Errorf("Sync now: Graph saw %d message listings, before %d", n, listed)
	}
	item.WaitStatusLine(t, func(l string) bool { return strings.HasPrefix(l, "Last sync ") })

	// A second mailsync exits 0 and makes the first open its window: the
	// agent starts `mailsync settings` as its child.
	second := exec.Command(bin)
	second.Env = env
	out, err := second.CombinedOutput()
	if err != nil {
		t.Errorf("second mailsync: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "already running") {
		t.Errorf("second mailsync printed %q, want it to say Mail Sync is already running", out)
	}
	traytest.Eventually(t, "the agent starts its settings window", func() bool {
		return len(childrenWithArgs(agentCmd.Process.Pid, bin, "settings")) > 0
	})

	// Quit from the menu ends the agent (and its window).
	item.Click(t, item.ReadMenu(t).ByLabel(t, tray.LabelQuit).ID)
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("agent after Quit: %v\n%s", err, agentOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("agent still running 15 s after Quit")
	}
	traytest.Eventually(t, "the settings window ends with the agent", func() bool {
		return len(childrenWithArgs(agentCmd.Process.Pid, bin, "settings")) == 0
	})
}

// syncBuffer is a bytes.Buffer safe for the child's writers and the test.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func (s *syncBuffer) lock() {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.lock()
	defer func() { <-s.mu }()
	return s.b.String()
}

// childrenWithArgs returns the pids of processes whose parent is ppid and
// whose command line is exe followed by args.
func childrenWithArgs(ppid int, exe string, args ...string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses.
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(ppid) || f[0] == "Z" {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if slices.Equal(strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"), append([]string{exe}, args...)) {
			out = append(out, pid)
		}
	}
	return out
}

// killChildren ends any child the agent left behind.
func killChildren(ppid int) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := os.Open(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		i := strings.LastIndexByte(line, ')')
		if i < 0 {
			continue
		}
		if fs := strings.Fields(line[i+1:]); len(fs) > 1 && fs[1] == strconv.Itoa(ppid) {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
	}
}
