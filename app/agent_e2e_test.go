package app

// End-to-end test of the agent process: the built mailsync run as the
// resident agent on the sandbox services, driven through its local API and
// through its tray menu over D-Bus, as a desktop panel does. It needs the
// parts of .ci/desktop-session (a session bus with a StatusNotifier watcher,
// a Secret Service, an X server) and skips without them.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
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
	"mailsync/storage"
	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
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
		"XDG_CONFIG_HOME="+t.TempDir(), // the login item turns on at the first connect
	)

	agentCmd := exec.Command(bin)
	agentCmd.Env = env
	var agentOut syncBuffer
	agentCmd.Stdout, agentCmd.Stderr = &agentOut, &agentOut
	if err := agentCmd.Start(); err != nil {
		t.Fatalf("start the agent: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- agentCmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = agentCmd.Process.Kill()
			<-exited
		}
		killChildren(agentCmd.Process.Pid)
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var api *agentapi.Client
	eventually(t, "the agent serves its local API", func() bool {
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
	itemName := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", agentCmd.Process.Pid)
	var owner string
	eventually(t, "the agent's tray item is registered with the watcher", func() bool {
		if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, itemName).Store(&owner); err != nil {
			return false
		}
		v, err := conn.Object("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher").GetProperty("org.kde.StatusNotifierWatcher.RegisteredStatusNotifierItems")
		if err != nil {
			return false
		}
		items, _ := v.Value().([]string)
		return slices.ContainsFunc(items, func(s string) bool { return strings.HasPrefix(s, owner) || strings.HasPrefix(s, itemName) })
	})
	menu := conn.Object(owner, "/StatusNotifierItem/menu")
	waitStatusLine(t, menu, func(l string) bool { return l == tray.StatusLine(engine.Status{State: engine.SignedOut}, time.Now()) })

	// Sign in to ClientSuccess, set the blocklist and connect, all through
	// the local API; the identity fake approves the GET of the sign-in URL.
	if err := api.CRMLogin(ctx, w.CRMUser, w.CRMPassword); err != nil {
		t.Fatalf("CRMLogin: %v", err)
	}
	if err := api.SetSettings(ctx, agentapi.Settings{Rules: sandbox.Settings()}); err != nil {
		t.Fatalf("SetSettings: %v", err)
	}
	u, err := api.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("visit the sign-in URL: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// Connecting starts a pass by itself; wait for it to end.
	var st engine.Status
	eventually(t, "connected and the first pass done", func() bool {
		st, err = api.Status(ctx)
		return err == nil && st.Account != nil && st.State == engine.Idle && !st.LastPass.IsZero()
	})
	if st.Account.Email != w.Me.Mail {
		t.Errorf("connected as %q, want %q", st.Account.Email, w.Me.Mail)
	}

	m := waitStatusLine(t, menu, func(l string) bool { return strings.HasPrefix(l, "Synced ") })
	wantLabels := []string{m[0].label, tray.LabelSyncNow, tray.LabelPause, tray.LabelSettings, tray.LabelOpenLog, tray.LabelQuit}
	if got := labelsOf(m); !slices.Equal(got, wantLabels) {
		t.Errorf("menu labels = %q, want %q", got, wantLabels)
	}

	// Sync now from the menu: the fake Graph sees a pass, and the status
	// line shows it running and then done.
	listed := svc.Graph.Stats().ByRoute["GET /me/messages"]
	lastPass := st.LastPass
	click(t, menu, byLabel(t, m, tray.LabelSyncNow).id)
	waitStatusLine(t, menu, func(l string) bool { return strings.HasPrefix(l, "Syncing") })
	eventually(t, "the pass asked for by Sync now ends", func() bool {
		st, err = api.Status(ctx)
		return err == nil && st.State == engine.Idle && st.LastPass.After(lastPass)
	})
	if n := svc.Graph.Stats().ByRoute["GET /me/messages"]; n <= listed {
		t.Errorf("Sync now: Graph saw %d message listings, before %d", n, listed)
	}
	waitStatusLine(t, menu, func(l string) bool { return strings.HasPrefix(l, "Synced ") })

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
	eventually(t, "the agent starts its settings window", func() bool {
		return len(childrenWithArgs(agentCmd.Process.Pid, bin, "settings")) > 0
	})

	// Quit from the menu ends the agent (and its window).
	click(t, menu, byLabel(t, readMenu(t, menu), tray.LabelQuit).id)
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("agent after Quit: %v\n%s", err, agentOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("agent still running 15 s after Quit")
	}
	eventually(t, "the settings window ends with the agent", func() bool {
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

type menuItem struct {
	id      int32
	label   string
	enabled bool
}

// readMenu reads the visible top-level items of the tray menu through
// com.canonical.dbusmenu.GetLayout, skipping separators.
func readMenu(t *testing.T, menu dbus.BusObject) []menuItem {
	t.Helper()
	var rev uint32
	var root struct {
		ID       int32
		Props    map[string]dbus.Variant
		Children []dbus.Variant
	}
	if err := menu.Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{}).Store(&rev, &root); err != nil {
		return nil
	}
	var items []menuItem
	for _, c := range root.Children {
		f, ok := c.Value().([]any)
		if !ok || len(f) < 2 {
			t.Fatalf("menu child is %T, want a (ia{sv}av) struct", c.Value())
		}
		props, _ := f[1].(map[string]dbus.Variant)
		if ty, _ := props["type"].Value().(string); ty == "separator" {
			continue
		}
		if v, ok := props["visible"]; ok {
			if vis, _ := v.Value().(bool); !vis {
				continue
			}
		}
		it := menuItem{id: f[0].(int32), enabled: true}
		if v, ok := props["label"]; ok {
			it.label, _ = v.Value().(string)
		}
		if v, ok := props["enabled"]; ok {
			it.enabled, _ = v.Value().(bool)
		}
		items = append(items, it)
	}
	return items
}

func labelsOf(m []menuItem) []string {
	var l []string
	for _, it := range m {
		l = append(l, it.label)
	}
	return l
}

func byLabel(t *testing.T, m []menuItem, label string) menuItem {
	t.Helper()
	for _, it := range m {
		if it.label == label {
			return it
		}
	}
	t.Fatalf("no menu item %q in %q", label, labelsOf(m))
	return menuItem{}
}

// waitStatusLine polls the menu until its status line satisfies ok.
func waitStatusLine(t *testing.T, menu dbus.BusObject, ok func(string) bool) []menuItem {
	t.Helper()
	var m []menuItem
	var last string
	for end := time.Now().Add(15 * time.Second); ; {
		m = readMenu(t, menu)
		if len(m) > 0 {
			last = m[0].label
			if ok(last) {
				return m
			}
		}
		if time.Now().After(end) {
			t.Fatalf("status line still %q after 15 s", last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func click(t *testing.T, menu dbus.BusObject, id int32) {
	t.Helper()
	err := menu.Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(int32(0)), uint32(time.Now().Unix())).Err
	if err != nil {
		t.Fatalf("click menu item %d: %v", id, err)
	}
}

// eventually polls cond every 20 ms for up to 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(15 * time.Second); ; {
		if cond() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
