//go:build linux

package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"mailsync/app"
	"mailsync/sync/agentapi"
	"mailsync/sync/crm"
	"mailsync/sync/engine"
	"mailsync/sync/graphtest/chromium"
	"mailsync/sync/sandbox"
)

// TestDemoEndToEnd is what a new user does with `mailsync demo`, on a real
// X server: the window comes up, Connect Office 365 is clicked with the
// mouse, the sign-in is accepted in a real (headless) Chromium, and the
// first pass fills the Activity list and the sandbox ClientSuccess. Closing
// the window ends the demo, which leaves nothing behind.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	if os.Getenv("DISPLAY") == "" {
		t.Skip("needs an X server: run it inside .ci/desktop-session (make test)")
	}
	if !chromium.Available() {
		t.Skip("needs Chromium at " + chromium.Path)
	}
	for _, tool := range []string{"xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (make deps)", tool)
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	tmp := t.TempDir()

	bin := buildMailSync(t, ctx, tmp)
	t.Logf("built in %v", time.Since(start).Round(time.Millisecond))

	// The "browser" records the sign-in URL; the test opens it in Chromium.
	urls := filepath.Join(tmp, "urls.txt")
	browser := filepath.Join(tmp, "browser.sh")
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '" + urls + "'\n"
	if err := os.WriteFile(browser, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	seeded := time.Now()
	d := startDemo(t, bin, "MAILSYNC_BROWSER="+browser)
	// "  ClientSuccess (sandbox): http://127.0.0.1:37645/v1, signed in as …"
	// comes before "  Data: /tmp/mailsync-sandbox-… (deleted when …)".
	crmURL := d.line(t, ctx, "ClientSuccess (sandbox): ", func(s string) string { s, _, _ = strings.Cut(s, ","); return s })
	dataDir := d.line(t, ctx, "Data: ", func(s string) string { s, _, _ = strings.Cut(s, " "); return s })
	t.Logf("demo data directory %s, ClientSuccess at %s", dataDir, crmURL)

	// The window, drawn and with the agent's status applied: Connect
	// Office 365 is enabled (primary colour) only once the agent answered.
	win := waitWindow(t, ctx, "Mail Sync Settings")
	var connect image.Rectangle
	waitFor(t, ctx, "the Connect Office 365 button", func() (bool, bool, error) {
		img, err := capture(win, filepath.Join(tmp, "signed-out.png"))
		if err != nil {
			return false, false, err
		}
		connect = primaryBox(img)
		return true, connect.Dx() > 60 && connect.Dy() > 20, nil
	})
	mid := connect.Min.Add(connect.Size().Div(2))
	xdotool(t, "mousemove", "--window", win, strconv.Itoa(mid.X), strconv.Itoa(mid.Y))
	time.Sleep(100 * time.Millisecond) // let the window see the pointer arrive before the press
	xdotool(t, "click", "1")

	signInURL := waitFor(t, ctx, "the agent to open the sign-in page in the browser", func() (string, bool, error) {
		b, err := os.ReadFile(urls)
		if os.IsNotExist(err) {
			return "", false, nil
		}
		first, _, _ := strings.Cut(string(b), "\n")
		return first, first != "", err
	})
	if _, err := capture(win, filepath.Join(tmp, "waiting.png")); err != nil {
		t.Fatal(err)
	}
	page, err := chromium.ClickInBrowser(ctx, signInURL, "accept")
	if err != nil {
		t.Fatalf("accept in Chromium: %v", err)
	}
	t.Logf("after Accept the browser shows: %q", firstLine(page))

	api, err := agentapi.Dial(dataDir)
	if err != nil {
		t.Fatalf("dial the demo agent: %v", err)
	}
	defer api.Close()
	st := waitFor(t, ctx, "the first pass", func() (engine.Status, bool, error) {
		st, err := api.Status(ctx)
		return st, err == nil && !st.LastPass.IsZero() && st.State == engine.Idle, err
	})
	if st.Account == nil || st.Account.Name != "Alex Morgan" || st.Account.Email != "alex.morgan@contoso.example" {
		t.Errorf("status account = %+v, want Alex Morgan <alex.morgan@contoso.example>", st.Account)
	}
	if st.LastError != "" || st.LastCounts.Synced == 0 {
		t.Errorf("status after the first pass = %+v", st)
	}
	t.Logf("first pass done %v after start: %+v", time.Since(start).Round(time.Millisecond), st.LastCounts)

	checkDecisions(t, ctx, api)
	checkInteractions(t, ctx, crmURL, seeded)

	// The window after the pass: the Office page names the account, and
	// the Activity section lists the decisions.
	office := waitFor(t, ctx, "the window to show the account", func() (image.Image, bool, error) {
		img, err := capture(win, filepath.Join(tmp, "connected.png"))
		if err != nil {
			return nil, false, err
		}
		return img, primaryBox(img).Empty(), nil // no Connect button, no sign-in link
	})
	showActivity(t, ctx, win, office)
	time.Sleep(500 * time.Millisecond) // the list's rows are laid out after the section appears
	activity := filepath.Join(tmp, "activity.png")
	if _, err := capture(win, activity); err != nil {
		t.Fatal(err)
	}
	// MAILSYNC_SCREENSHOT_DIR keeps the picture (docs/demo-activity.png is
	// made this way); a plain test run leaves the source tree alone.
	if dir := os.Getenv("MAILSYNC_SCREENSHOT_DIR"); dir != "" {
		if b, err := os.ReadFile(activity); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "demo-activity.png"), b, 0o644)
		}
	} else {
		t.Logf("screenshot of the Activity list after the first pass: %s", activity)
	}

	// Closing the window ends the demo, which removes its data directory.
	if err := closeWindow(win); err != nil {
		t.Fatalf("close the window: %v", err)
	}
	select {
	case <-d.exited:
		if d.err != nil {
			t.Errorf("the demo ended with %v after its window was closed", d.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the demo did not end after its window was closed; it wrote:\n%s", d.output())
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("the demo left its data directory %s behind (stat: %v)", dataDir, err)
	}
	t.Logf("whole flow took %v", time.Since(start).Round(time.Millisecond))
}

// closeWindow asks window win (an X window id in decimal) to close, as a
// window manager does when the person clicks its close button: a
// WM_DELETE_WINDOW client message. xdotool has no such command (its
// windowclose destroys the window under the client's feet), and the test's
// X server runs no window manager, so this speaks the X protocol itself.
func closeWindow(win string) error {
	id, err := strconv.ParseUint(win, 10, 32)
	if err != nil {
		return fmt.Errorf("window id %q: %w", win, err)
	}
	disp := strings.TrimPrefix(os.Getenv("DISPLAY"), ":")
	disp, _, _ = strings.Cut(disp, ".")
	conn, err := net.Dial("unix", "/tmp/.X11-unix/X"+disp)
	if err != nil {
		return fmt.Errorf("connect to the X server: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	le := binary.LittleEndian

	// Connection setup, protocol 11.0, no authorization (Xvfb's local
	// connections need none).
	if _, err := conn.Write([]byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		return err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(conn, head); err != nil {
		return fmt.Errorf("X setup: %w", err)
	}
	if _, err := io.CopyN(io.Discard, conn, int64(le.Uint16(head[6:]))*4); err != nil {
		return fmt.Errorf("X setup: %w", err)
	}
	if head[0] != 1 {
		return errors.New("the X server refused the connection")
	}
	intern := func(name string) (uint32, error) {
		pad := (4 - len(name)%4) % 4
		req := make([]byte, 8, 8+len(name)+pad)
		req[0] = 16 // InternAtom
		le.PutUint16(req[2:], uint16((8+len(name)+pad)/4))
		le.PutUint16(req[4:], uint16(len(name)))
		req = append(append(req, name...), make([]byte, pad)...)
		if _, err := conn.Write(req); err != nil {
			return 0, err
		}
		rep := make([]byte, 32)
		if _, err := io.ReadFull(conn, rep); err != nil {
			return 0, err
		}
		if rep[0] != 1 {
			return 0, fmt.Errorf("X error %d", rep[1])
		}
		return le.Uint32(rep[8:]), nil
	}
	protocols, err := intern("WM_PROTOCOLS")
	if err != nil {
		return fmt.Errorf("intern WM_PROTOCOLS: %w", err)
	}
	deleteWindow, err := intern("WM_DELETE_WINDOW")
	if err != nil {
		return fmt.Errorf("intern WM_DELETE_WINDOW: %w", err)
	}
	req := make([]byte, 44)
	req[0] = 25 // SendEvent, no propagation
	le.PutUint16(req[2:], 11)
	le.PutUint32(req[4:], uint32(id))
	// event mask 0: the event goes to the window's owner.
	ev := req[12:]
	ev[0] = 33 // ClientMessage
	ev[1] = 32 // format
	le.PutUint32(ev[4:], uint32(id))
	le.PutUint32(ev[8:], protocols)
	le.PutUint32(ev[12:], deleteWindow) // data[0]; data[1] = CurrentTime
	if _, err := conn.Write(req); err != nil {
		return err
	}
	// A round trip: an error for SendEvent (a bad window) arrives before it.
	if _, err := intern("WM_PROTOCOLS"); err != nil {
		return fmt.Errorf("send WM_DELETE_WINDOW: %w", err)
	}
	return nil
}

// buildMailSync builds the binary from the module root (the parent of app).
func buildMailSync(t *testing.T, ctx context.Context, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "mailsync")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// demo is a running `mailsync demo`.
type demo struct {
	lines  chan string
	exited chan struct{}
	err    error // how the process ended; read after exited is closed
	mu     sync.Mutex
	out    bytes.Buffer // stdout and stderr, for failure messages
}

// startDemo starts `mailsync demo` in a process group of its own, so that
// the cleanup also ends the window process it spawns.
func startDemo(t *testing.T, bin string, env ...string) *demo {
	t.Helper()
	d := &demo{lines: make(chan string, 64), exited: make(chan struct{})}
	cmd := exec.Command(bin, "demo")
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = writerFunc(func(p []byte) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.out.Write(p)
	})
	release, err := app.StartTied(cmd)
	if err != nil {
		t.Fatalf("start the demo: %v", err)
	}
	t.Cleanup(release)
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			// Ctrl-C first, so that the demo removes its data directory.
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			select {
			case <-d.exited:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-d.exited
			}
		}
		if t.Failed() {
			t.Logf("the demo wrote:\n%s", d.output())
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			d.mu.Lock()
			d.out.WriteString(sc.Text() + "\n")
			d.mu.Unlock()
			select {
			case d.lines <- sc.Text():
			default: // nobody waits for this line
			}
		}
		d.err = cmd.Wait()
		// The window process is in the same group; make sure it is gone too.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		close(d.exited)
	}()
	return d
}

func (d *demo) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// line waits for the next stdout line containing prefix and returns what
// follows it, trimmed by cut. Lines before it are dropped.
func (d *demo) line(t *testing.T, ctx context.Context, prefix string, cut func(string) string) string {
	t.Helper()
	for {
		select {
		case l := <-d.lines:
			if _, rest, ok := strings.Cut(l, prefix); ok {
				return cut(strings.TrimSpace(rest))
			}
		case <-d.exited:
			t.Fatalf("the demo ended before printing %q:\n%s", prefix, d.output())
		case <-ctx.Done():
			t.Fatalf("the demo did not print %q:\n%s", prefix, d.output())
		}
	}
}

type writerFunc func([]byte)

func (w writerFunc) Write(p []byte) (int, error) { w(p); return len(p), nil }

// waitFor polls probe every 200 ms until it reports ok, and fails the test
// with what when ctx ends or probe fails.
func waitFor[T any](t *testing.T, ctx context.Context, what string, probe func() (v T, ok bool, err error)) T {
	t.Helper()
	for {
		v, ok, err := probe()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return v
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func xdotool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("xdotool", args...).Output()
	if err != nil {
		t.Fatalf("xdotool %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// waitWindow returns the id of the visible window whose name starts with
// name.
func waitWindow(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	return waitFor(t, ctx, "the settings window", func() (string, bool, error) {
		// xdotool fails while no window matches.
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^"+regexp.QuoteMeta(name)).Output()
		id, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return id, id != "", nil
	})
}

// capture reads window win from the X server into path and decodes it.
func capture(win, path string) (image.Image, error) {
	if out, err := exec.Command("import", "-window", win, "png:"+path).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("import -window %s: %v: %s", win, err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

// primaryBox is the bounding box of the pixels in the theme's primary
// colour: the high-importance button of the section shown (Connect Office
// 365 when signed out), empty when there is none or it is disabled.
func primaryBox(img image.Image) image.Rectangle {
	want := primaryColors()
	var box image.Rectangle
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			for _, c := range want {
				if near(uint8(r>>8), c.R) && near(uint8(g>>8), c.G) && near(uint8(b>>8), c.B) {
					box = box.Union(image.Rect(x, y, x+1, y+1))
				}
			}
		}
	}
	return box
}

// primaryColors are the theme's primary colour in the light and dark
// variants. The theme answers only inside a Fyne app, so a test app is
// asked.
var primaryColors = sync.OnceValue(func() []color.RGBA {
	a := test.NewApp()
	defer a.Quit()
	var out []color.RGBA
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		r, g, b, _ := theme.DefaultTheme().Color(theme.ColorNamePrimary, v).RGBA()
		out = append(out, color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255})
	}
	return out
})

func near(a, b uint8) bool { return max(a, b)-min(a, b) <= 6 }

// showActivity clicks the Activity entry of the navigation. The entries are
// rows of equal height; the selected one (Office 365, the first) is
// highlighted, which gives the row's position and height.
func showActivity(t *testing.T, ctx context.Context, win string, img image.Image) {
	t.Helper()
	top, height := highlightRun(img)
	if height < 10 {
		t.Fatalf("no highlighted navigation entry found in the window")
	}
	const activityRow = 3 // Office 365, ClientSuccess, Sync, Activity, Options
	// Rows are apart by the theme's padding (theme.Padding() of the
	// default theme; it cannot be asked for without a running Fyne app).
	const padding = 4
	pitch := height + padding
	y := top + activityRow*pitch + height/2
	xdotool(t, "mousemove", "--window", win, "40", strconv.Itoa(y))
	time.Sleep(100 * time.Millisecond)
	xdotool(t, "click", "1")
	waitFor(t, ctx, "the Activity entry to be selected", func() (bool, bool, error) {
		img, err := capture(win, filepath.Join(t.TempDir(), "nav.png"))
		if err != nil {
			return false, false, err
		}
		nt, _ := highlightRun(img)
		return true, nt > top+2*pitch, nil
	})
}

// highlightRun finds, in the navigation column (x = 8), the first run of
// rows whose colour differs from the column's background at the bottom of
// the window by more than a separator line: the selected entry.
func highlightRun(img image.Image) (top, height int) {
	b := img.Bounds()
	x := b.Min.X + 8
	bg := img.At(x, b.Max.Y-10)
	start := -1
	for y := b.Min.Y + 50; y < b.Max.Y-10; y++ {
		if img.At(x, y) != bg {
			if start < 0 {
				start = y
			}
			continue
		}
		if start >= 0 && y-start > 10 {
			return start, y - start
		}
		start = -1
	}
	return 0, 0
}

// checkDecisions asks the agent for the Activity list: synced and skipped
// messages of the sandbox mailbox, each with its outcome in words.
func checkDecisions(t *testing.T, ctx context.Context, api agentapi.API) {
	t.Helper()
	ds, err := api.Decisions(ctx, "", 500)
	if err != nil {
		t.Fatalf("decisions: %v", err)
	}
	find := func(subject string) (agentapi.Decision, bool) {
		for _, d := range ds {
			if d.Subject == subject {
				return d, true
			}
		}
		return agentapi.Decision{}, false
	}
	for _, c := range []struct {
		subject string
		clients []string // synced to these
		reason  string   // or skipped for this
	}{
		{subject: "Joint workshop: Northwind and Fabrikam", clients: []string{"Fabrikam Inc", "Northwind Traders"}},
		{subject: "Adatum onboarding plan", clients: []string{"Adatum Corp"}},
		{subject: "Internal: vendor shortlist", reason: "you are only in Bcc"},
		{subject: "You have won a prize", reason: "junk folder"}, // not "excluded folder": the person must see which folder
		{subject: "Proposal (draft)", reason: "draft"},
		{subject: "Team lunch on Friday", reason: "internal only"},
	} {
		d, ok := find(c.subject)
		switch {
		case !ok:
			t.Errorf("Activity has no decision for %q", c.subject)
		case c.clients != nil && (!d.Synced || !slices.Equal(slices.Sorted(slices.Values(d.Clients)), c.clients)):
			t.Errorf("%q: synced %v to %v, want synced to %v", c.subject, d.Synced, d.Clients, c.clients)
		case c.clients == nil && (d.Synced || d.Reason != c.reason):
			t.Errorf("%q: synced %v, reason %q; want skipped: %q", c.subject, d.Synced, d.Reason, c.reason)
		}
	}
}

// demoID drops the receive time from a sandbox Message-ID
// (<demo-007.20260309150000@northwind.example>), so ids of worlds seeded a
// moment apart compare equal.
var demoID = regexp.MustCompile(`^<(demo-\d+)\.\d{14}@(.*)>$`)

// checkInteractions compares the sandbox ClientSuccess with the labels of
// the demo world: every message its labels say is taken is on each of its
// clients' timelines, once, and nothing else is.
func checkInteractions(t *testing.T, ctx context.Context, crmURL string, seeded time.Time) {
	t.Helper()
	w := sandbox.Demo(seeded)
	want := map[int64][]string{}
	for _, it := range w.Messages {
		// The demo connects a few seconds after it seeded the mailbox,
		// so the message received exactly 24 h before the seeding is
		// just outside the window at connect (rule 1).
		if it.Why == sandbox.WhyEdge {
			continue
		}
		for _, c := range it.Expect {
			id := demoID.ReplaceAllString(it.Msg.InternetMessageID, "<$1@$2>")
			if !slices.Contains(want[c], id) {
				want[c] = append(want[c], id)
			}
		}
	}
	c := crm.NewClient(crmURL, w.CRMUser, func() (string, error) { return w.CRMPassword, nil }, nil)
	got := map[int64][]string{}
	for _, cl := range w.Clients {
		ins, err := c.Interactions(ctx, cl.ID)
		if err != nil {
			t.Fatalf("list the interactions of %s: %v", cl.Name, err)
		}
		for _, in := range ins {
			if in.InteractionTypeID != crm.InteractionTypeEmail || len(in.ContactIDs) == 0 {
				t.Errorf("%s: interaction %q is type %d with contacts %v, want an Email with its contacts",
					cl.Name, in.Subject, in.InteractionTypeID, in.ContactIDs)
			}
			got[cl.ID] = append(got[cl.ID], demoID.ReplaceAllString(noteMessageID(in.Note), "<$1@$2>"))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		slices.Sort(want[id])
		slices.Sort(got[id])
		if !slices.Equal(got[id], want[id]) {
			t.Errorf("client %d holds\n %q\nwant\n %q", id, got[id], want[id])
		}
	}
	for id, ids := range got {
		if _, ok := want[id]; !ok && len(ids) > 0 {
			t.Errorf("client %d holds %q, want nothing", id, ids)
		}
	}
}

// noteMessageID reads the Message-ID of an interaction's note, which
// ClientSuccess may give back as sent (HTML), HTML-escaped once more, with
// <br> for newlines, or with its tags stripped: the note is read as text one
// layer of HTML at a time, then the first Message-ID line is taken.
func noteMessageID(note string) string {
	for range 3 {
		if !strings.Contains(note, "&lt;") && !strings.Contains(note, "<br>") && !strings.Contains(note, "<p>") {
			break
		}
		note = html.UnescapeString(noteTag.ReplaceAllString(note, "\n"))
	}
	if m := noteMessageIDLine.FindStringSubmatch(note); m != nil {
		return m[1]
	}
	return ""
}

var (
	noteTag           = regexp.MustCompile(`</?(p|br)>`)
	noteMessageIDLine = regexp.MustCompile(`(?m)^Message-ID: (<[^>]*>)`)
)

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
