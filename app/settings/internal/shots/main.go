// Command shots renders the settings window in each of its states into PNG
// files, for the README: `go run ./app/settings/internal/shots DIR` (what
// `make screenshots` runs inside .ci/desktop-session).
//
// It uses the real GLFW driver on an X server, so the pictures show exactly
// what a person sees: it starts a private Xvfb (large enough for scale 2),
// feeds the window from an in-memory agent (status, decisions, settings)
// with a fixed clock, shows each state in a window of its own, and reads the
// window back from the X server once two captures in a row agree, i.e. once
// it is fully drawn. It needs Xvfb and ImageMagick's import.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/theme"

	"mailsync/app/settings"
	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/graph"
	"mailsync/sync/match"
	"mailsync/sync/setup"
)

// now is the clock of every picture: Monday 9 March 2026, 15:05.
var now = time.Date(2026, 3, 9, 15, 5, 0, 0, time.UTC)

func at(h, m int) time.Time { return time.Date(2026, 3, 9, h, m, 0, 0, time.UTC) }

var alex = &engine.Account{Name: "Alex Morgan", Email: "alex.morgan@contoso.example"}

const crmUser = "alex.morgan@contoso.example"

// shot is one picture: a status, the section shown, the theme and the scale.
type shot struct {
	file    string
	section string
	status  engine.Status
	dark    bool
	scale   float32 // 0 means 1
	// check clicks Check connection and waits for its outcome; the window
	// is made tall enough to show every check.
	check bool
	// report, when set, is what the checks find (else the connected
	// picture's report).
	report *doctor.Report
	// setup is what the agent says of the setup; nil is an app ID the
	// person set and nothing from the organisation.
	setup *agentapi.Setup
	// policy is what the organisation sets of the options.
	policy *agentapi.PolicyRules
	// tall makes the window tall enough for a long section.
	tall bool
	// open is the key of the Activity row opened once loaded, and
	// addContact the address whose Add as contact form is opened in it.
	open, addContact string
	// typed is typed into the setup fields (key to text) once loaded.
	typed map[string]string
	// blocklist is typed into the Options page's blocklist and saved.
	blocklist string
	// preview asks Copy older mail… for a preview of that many days.
	preview int
}

// setupOf is a setup answer: fields given as key, value, source.
func setupOf(builtIn bool, problems []string, fields ...[3]string) *agentapi.Setup {
	s := &agentapi.Setup{ClientIDBuiltIn: builtIn, PolicyProblems: problems, Version: "1.4.0"}
	for _, f := range fields {
		s.Fields = append(s.Fields, setup.Field{Key: f[0], Value: f[1], Source: setup.Source(f[2])})
	}
	return s
}

const appID = "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21"

// derived is s with the state the agent's board derives from its facts.
func derived(s engine.Status) engine.Status {
	s.State = engine.Derive(s)
	return s
}

func connectedIdle() engine.Status {
	return engine.Status{
		State: engine.Idle, Account: alex, CRMUser: crmUser,
		LastPass: at(14, 42),
		LastCounts: engine.PassCounts{Listed: 38, Synced: 14,
			Skipped: map[string]int{"no ClientSuccess contact": 9, "internal only": 6, "junk folder": 1, "you are only in Bcc": 8}},
		SyncedToday: 14,
		NextPass:    at(15, 42),
	}
}

func shots() []shot {
	signedOut := derived(engine.Status{CRMUser: crmUser})
	waiting := signedOut
	waiting.Connecting = true
	waiting.SignInURL = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?client_id=0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21&response_type=code&scope=openid+profile+email+offline_access+User.Read+Mail.Read&response_mode=form_post"
	idle := connectedIdle()
	syncing := connectedIdle()
	syncing.Running, syncing.Progress = true, &engine.Progress{Done: 18, Total: 38}
	syncing = derived(syncing)
	reconnect := connectedIdle()
	reconnect.Reconnect = "Microsoft ended the sign-in (it was revoked or unused for 90 days). Reconnect to keep syncing."
	// Refused since Saturday: connecting again continues from its last sync.
	reconnect.ConnectedAt, reconnect.LastSuccess = now.AddDate(0, -2, 0), now.Add(-50*time.Hour)
	reconnect = derived(reconnect)
	// Disconnected on Friday: connecting the same mailbox again continues.
	again := signedOut
	again.Previous, again.ConnectedAt, again.LastSuccess = alex, now.AddDate(0, -2, 0), now.Add(-74*time.Hour)
	again = derived(again)
	// A sync that copied nothing after one that did.
	quiet := connectedIdle()
	quiet.LastCopy = &engine.PassRecord{End: quiet.LastPass, Counts: quiet.LastCounts}
	quiet.LastPass = at(15, 2)
	quiet.LastCounts = engine.PassCounts{Listed: 38, Already: 14, Skipped: quiet.LastCounts.Skipped}
	crmOut := connectedIdle()
	crmOut.CRMUser = ""
	crmOut = derived(crmOut)
	failed := connectedIdle()
	failed.LastError = "ClientSuccess is down for maintenance; Mail Sync will try again"
	failed = derived(failed)
	// After a failed pass, a good one: the board clears the error with the
	// pass's outcome, and nothing of it is left on the Sync page.
	recovered := engine.NewBoard(failed)
	recovered.Update(func(s *engine.Status) { s.LastError, s.LastPass = "", at(15, 2) })
	sandbox := connectedIdle()
	sandbox.Sandbox = true
	// A sign-in refused because the organization must approve Mail Sync
	// (AADSTS90094), in the agent's words, with the approval link.
	needsApproval := derived(engine.Status{SignIns: 1,
		SignInError: agent.Words(&graph.ApprovalError{Code: graph.ConsentAdminOnly}),
		ApprovalURL: mustApprovalURL(),
	})
	maybeApproval := needsApproval
	maybeApproval.SignInError = agent.Words(&graph.ApprovalError{})
	// A fresh install: no app registration, nothing signed in. The checks
	// are the real ones, which reach no service in that state.
	fresh := derived(engine.Status{})
	freshReport := doctor.Run(context.Background(), doctor.Config{
		NotConnected: agent.ErrNoClientID.Error(),
		CRMSignedOut: agent.ErrCRMSignedOut.Error(),
	})
	firstRun := setupOf(false, nil, [3]string{setup.KeyClientID, "", ""},
		[3]string{setup.KeyTenant, setup.DefaultTenant, string(setup.FromDefault)},
		[3]string{setup.KeyCRMURL, setup.DefaultCRMAddress, string(setup.FromDefault)})
	builtIn := setupOf(true, nil, [3]string{setup.KeyClientID, appID, string(setup.FromBuild)},
		[3]string{setup.KeyTenant, "contoso.example", string(setup.FromPerson)},
		[3]string{setup.KeyCRMURL, setup.DefaultCRMAddress, string(setup.FromDefault)})
	managed := setupOf(true, []string{"The policy's crmUrl is ignored: The ClientSuccess address must start with https:// (plain http is only allowed to this computer)."},
		[3]string{setup.KeyClientID, appID, string(setup.FromPolicy)},
		[3]string{setup.KeyTenant, "contoso.example", string(setup.FromPolicy)},
		[3]string{setup.KeyCRMURL, setup.DefaultCRMAddress, string(setup.FromDefault)})
	// Copying 90 days of older mail, a third of the way back.
	backfilling := connectedIdle()
	bf := shotBackfill(backfilling)
	bf.State = storage.BackfillRunning
	bf.Reached = bf.To.Add(-31 * 24 * time.Hour)
	bf.Read, bf.Emails = 652, 9
	bf.Clients = []storage.BackfillClient{{ID: 1001, Name: "Northwind Traders", Emails: 5}, {ID: 1003, Name: "Adatum Corp", Emails: 3}, {ID: 1002, Name: "Fabrikam Inc", Emails: 1}}
	backfilling.Backfill = &bf
	yes, no := true, false
	days := 30
	policy := &agentapi.PolicyRules{StartAtLogin: &yes, IgnoreInternal: &no, Blocklist: []string{"@rival.example", "press@contoso.example"}, HistoryDays: &days}

	return []shot{
		{file: "settings-signed-out.png", section: settings.SectionOffice, status: signedOut},
		{file: "settings-signed-out-dark.png", section: settings.SectionOffice, status: signedOut, dark: true},
		{file: "settings-waiting-for-sign-in.png", section: settings.SectionOffice, status: waiting},
		{file: "settings-connected.png", section: settings.SectionOffice, status: idle},
		{file: "settings-connected-dark.png", section: settings.SectionOffice, status: idle, dark: true},
		{file: "settings-sync-idle.png", section: settings.SectionSync, status: idle},
		{file: "settings-syncing.png", section: settings.SectionSync, status: syncing},
		{file: "settings-syncing-dark.png", section: settings.SectionSync, status: syncing, dark: true},
		{file: "settings-needs-reconnect.png", section: settings.SectionOffice, status: reconnect},
		{file: "settings-connect-again.png", section: settings.SectionOffice, status: again},
		{file: "settings-sync-quiet.png", section: settings.SectionSync, status: quiet},
		{file: "settings-clientsuccess.png", section: settings.SectionCRM, status: crmOut},
		{file: "settings-sync-clientsuccess-signed-out.png", section: settings.SectionSync, status: crmOut},
		{file: "settings-sync-failed.png", section: settings.SectionSync, status: failed},
		{file: "settings-sync-recovered.png", section: settings.SectionSync, status: recovered.Get()},
		{file: "settings-activity.png", section: settings.SectionActivity, status: idle},
		{file: "settings-activity-dark.png", section: settings.SectionActivity, status: idle, dark: true},
		{file: "settings-options.png", section: settings.SectionOptions, status: idle, tall: true},
		{file: "settings-activity-details.png", section: settings.SectionActivity, status: idle, open: oliviaKey, tall: true},
		{file: "settings-activity-add-contact.png", section: settings.SectionActivity, status: idle, open: oliviaKey,
			addContact: "olivia.park@tailspin.example", tall: true},
		// Lines that are not entries, one of them long: the fix is one
		// click away and Save stays in the window.
		{file: "settings-options-blocklist-fix.png", section: settings.SectionOptions, status: idle,
			blocklist: "press@contoso.example\nevil.example\n*@spam.example\n" +
				"rival-partners-and-resellers-of-the-northwind-traders-group-in-emea-and-apac.example"},
		{file: "settings-sandbox.png", section: settings.SectionActivity, status: sandbox},
		{file: "settings-check-connection.png", section: settings.SectionSync, status: idle, check: true},
		{file: "settings-check-connection-fresh.png", section: settings.SectionSync, status: fresh, check: true, report: &freshReport},
		{file: "settings-needs-approval.png", section: settings.SectionOffice, status: needsApproval},
		{file: "settings-needs-approval-or-cancelled.png", section: settings.SectionOffice, status: maybeApproval},
		{file: "settings-first-run.png", section: settings.SectionOffice, status: signedOut, setup: firstRun},
		{file: "settings-first-run-dark.png", section: settings.SectionOffice, status: signedOut, setup: firstRun, dark: true},
		{file: "settings-first-run-wrong-id.png", section: settings.SectionOffice, status: signedOut, setup: firstRun,
			typed: map[string]string{setup.KeyClientID: "Mail Sync app", setup.KeyCRMURL: "http://clientsuccess.contoso.example"}, tall: true},
		{file: "settings-advanced.png", section: settings.SectionAdvanced, status: idle, setup: builtIn},
		{file: "settings-advanced-policy.png", section: settings.SectionAdvanced, status: idle, setup: managed, tall: true},
		{file: "settings-options-policy.png", section: settings.SectionOptions, status: idle, setup: managed, policy: policy, tall: true},
		{file: "settings-about.png", section: settings.SectionAbout, status: idle, setup: builtIn},
		{file: "settings-backfill-preview.png", section: settings.SectionSync, status: idle, preview: 90},
		{file: "settings-backfill-progress.png", section: settings.SectionSync, status: backfilling},
		{file: "settings-connected@2x.png", section: settings.SectionOffice, status: idle, scale: 2},
		{file: "settings-activity@2x.png", section: settings.SectionActivity, status: idle, scale: 2},
	}
}

// mustApprovalURL is the admin-consent link of an app registration in the
// default directory.
func mustApprovalURL() string {
	u, ok := graph.AdminConsentURL(agent.DefaultAuthority, "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21", agent.DefaultGraphURL, "")
	if !ok {
		panic("no admin-consent link for the default authority")
	}
	return u
}

// decisions are the Activity list of the pictures: the sandbox's people and
// every kind of outcome, newest first.
func decisions() []agentapi.Decision {
	d := func(h, m int, subject, who string, clients []string, reason string) agentapi.Decision {
		return agentapi.Decision{Time: at(14, 42), Received: at(h, m), Subject: subject, Counterpart: who,
			Synced: len(clients) > 0, Clients: clients, Reason: reason}
	}
	return []agentapi.Decision{
		d(14, 35, "Checking in", "Olivia Park <olivia.park@tailspin.example>", nil, string(match.NoContact)),
		d(14, 31, "Exclusive offer for Northwind partners", "Deal Finder <offers@blocked.example>", nil, "blocked address"),
		d(14, 20, "Fabrikam QBR agenda", "Dana Whitfield <dana.whitfield@fabrikam.example>", []string{"Fabrikam Inc"}, ""),
		d(14, 5, "Internal: vendor shortlist", "Nancy Davolio <nancy.davolio@northwind.example>", nil, "you are only in Bcc"),
		d(13, 50, "Joint workshop: Northwind and Fabrikam", "Andrew Fuller <andrew.fuller@northwind.example>", []string{"Northwind Traders", "Fabrikam Inc"}, ""),
		olivia(),
		d(13, 20, "You have won a prize", "Dana Whitfield <dana.whitfield@fabrikam.example>", nil, "junk folder"),
		d(12, 35, "Tailspin: spring catalogue", "Kenji Watanabe <kenji.watanabe@tailspin.example>", nil, "Microsoft 365 did not say what kind of item it is"),
		d(11, 5, "Renewal call", "Andrew Fuller <andrew.fuller@northwind.example>", nil, "not an email (meeting request)"),
		d(9, 5, "Adatum: contract countersigned", "Emma Schulz <emma.schulz@adatum.example>", []string{"Adatum Corp"}, ""),
		d(8, 35, "Team lunch on Friday", "Jordan Lee <jordan.lee@contoso.example>", nil, "internal only"),
		d(6, 5, "Personal: dinner next week", "Emma Schulz <emma.schulz@adatum.example>", nil, "marked Private"),
		d(4, 5, "Adatum onboarding plan", "Jordan Lee <jordan.lee@contoso.example>", []string{"Adatum Corp"}, ""),
		d(0, 5, "Northwind blog: new warehouse", "Nancy Davolio <nancy.davolio@northwind.example>", nil, "not an email (RSS item)"),
		{Time: at(14, 42), Received: at(14, 42).Add(-19 * time.Hour), Subject: "RE: Q3 renewal: pricing questions",
			Counterpart: "Nancy Davolio <nancy.davolio@northwind.example>", Synced: true, Clients: []string{"Northwind Traders"}},
		{Time: at(14, 42), Received: at(14, 42).Add(-20 * time.Hour), Subject: "Q3 renewal: pricing questions",
			Counterpart: "Nancy Davolio <nancy.davolio@northwind.example>", Synced: true, Clients: []string{"Northwind Traders"}},
	}
}

func main() {
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: shots DIR\n\nRenders the Mail Sync settings window in each state into DIR/*.png (needs DISPLAY).")
	}
	only := flag.String("only", "", "render only the pictures whose file name contains this text")
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	stopX, err := startX()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shots: needs Xvfb and ImageMagick (make deps):", err)
		os.Exit(1)
	}
	defer stopX()
	dir := flag.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "shots:", err)
		os.Exit(1)
	}
	var list []shot
	for _, s := range shots() {
		if strings.Contains(s.file, *only) {
			list = append(list, s)
		}
	}

	// A settings-free app ID, so the person's own Fyne preferences (theme,
	// scale) do not leak into the pictures.
	a := fyneapp.NewWithID("com.mailsync.screenshots")
	// The app quits when its last window closes; this one, never shown,
	// keeps it alive between pictures.
	a.NewWindow("keeper")
	var failed error
	go func() {
		defer fyne.Do(a.Quit)
		for _, s := range list {
			if err := render(a, s, filepath.Join(dir, s.file)); err != nil {
				failed = errors.Join(failed, fmt.Errorf("%s: %w", s.file, err))
				continue
			}
			fmt.Println("wrote", filepath.Join(dir, s.file))
		}
	}()
	a.Run()
	if failed != nil {
		fmt.Fprintln(os.Stderr, "shots:", failed)
		stopX()
		os.Exit(1)
	}
}

// render shows one state in a window of its own, writes its picture and
// closes the window again.
func render(a fyne.App, s shot, path string) error {
	// The GLFW driver reads FYNE_SCALE when it creates a window.
	scale := s.scale
	if scale == 0 {
		scale = 1
	}
	os.Setenv("FYNE_SCALE", fmt.Sprint(scale))
	variant := theme.VariantLight
	if s.dark {
		variant = theme.VariantDark
	}
	api := newMemAgent(s)
	title := "Mail Sync Settings " + s.file
	var w *settings.Window
	fyne.DoAndWait(func() {
		a.Settings().SetTheme(pinnedTheme{theme.DefaultTheme(), variant})
		w = settings.NewWithClock(a, api, func() time.Time { return now })
		// A title of its own, so import finds this window and no other.
		w.Window().SetTitle(title)
		w.Select(s.section)
		if s.check || s.tall || s.preview > 0 || s.status.Backfill != nil {
			w.Window().Resize(fyne.NewSize(settings.MinSize.Width, 900))
		}
		w.Show()
	})
	defer func() {
		fyne.DoAndWait(func() { w.Window().Close() })
		// Let the driver destroy the window before the next one appears:
		// GLFW may still deliver pointer events to a window that is being
		// destroyed, which the Fyne driver does not expect.
		time.Sleep(200 * time.Millisecond)
	}()

	// The window asks for the status, settings and decisions when it
	// subscribes; wait for all three answers before looking.
	if err := waitLoaded(api, 10*time.Second); err != nil {
		return err
	}
	if s.open != "" {
		// The list's answer reaches the window through fyne.Do after
		// Activity returned.
		var opened bool
		for try := 0; try < 100 && !opened; try++ {
			fyne.DoAndWait(func() { opened = w.OpenActivity(s.open, s.addContact) })
			if !opened {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !opened {
			return errors.New("Activity does not list " + s.open)
		}
		if s.addContact != "" {
			select {
			case <-api.Answered("SuggestContact"):
			case <-time.After(10 * time.Second):
				return errors.New("the window did not ask for the suggestion")
			}
		}
		fyne.DoAndWait(func() {})
	}
	if len(s.typed) > 0 {
		fyne.DoAndWait(func() {
			for _, k := range setup.Keys {
				if v, ok := s.typed[k]; ok {
					w.TypeSetup(k, v)
				}
			}
		})
	}
	if s.blocklist != "" {
		fyne.DoAndWait(func() { w.TypeBlocklist(s.blocklist) })
	}
	if s.check {
		fyne.DoAndWait(w.CheckConnection)
		select {
		case <-api.Answered("Doctor"):
		case <-time.After(10 * time.Second):
			return errors.New("the window did not ask for the connection checks")
		}
		// The outcome reaches the window through fyne.Do after Doctor
		// returns; a call queued behind it runs once it is shown.
		time.Sleep(50 * time.Millisecond)
		fyne.DoAndWait(func() {})
	}
	if s.preview > 0 {
		fyne.DoAndWait(func() { w.PreviewBackfill(s.preview) })
		select {
		case <-api.Answered("PreviewBackfill"):
		case <-time.After(10 * time.Second):
			return errors.New("the window did not ask for the preview")
		}
		time.Sleep(50 * time.Millisecond)
		fyne.DoAndWait(func() {})
	}
	if s.status.Sandbox {
		// In the sandbox the window retitles itself once the status
		// arrives; give it back the picture's title, which import can
		// find (import waits for a click when no window has the name).
		if err := retitle(w.Window(), title, 5*time.Second); err != nil {
			return err
		}
	}
	img, err := stableCapture(title, 5*time.Second)
	if err != nil {
		return err
	}
	return writePNG(path, img)
}

// retitle waits until win carries the sandbox title and then sets title.
func retitle(win fyne.Window, title string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var done bool
		fyne.DoAndWait(func() {
			if win.Title() == settings.SandboxTitle {
				win.SetTitle(title)
				done = true
			}
		})
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the window did not take the sandbox title")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stableCapture reads the window from the X server (ImageMagick's import)
// until two captures 150 ms apart are the same and not blank, so that layout
// and text rendering have settled. An animation (the sign-in spinner) never
// settles: after limit the last capture is taken.
//
// The window is read from the X server rather than with Canvas().Capture,
// because reading the GL front buffer gives an empty picture under Xvfb.
func stableCapture(title string, limit time.Duration) (image.Image, error) {
	deadline := time.Now().Add(limit)
	var prev *image.RGBA
	for {
		time.Sleep(150 * time.Millisecond)
		out, err := exec.Command("import", "-window", title, "png:-").Output()
		if err != nil {
			return nil, fmt.Errorf("import -window %q: %w", title, commandError(err))
		}
		img, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			return nil, fmt.Errorf("decode the capture: %w", err)
		}
		cur := toRGBA(img)
		if !blank(cur) {
			if prev != nil && prev.Bounds() == cur.Bounds() && bytes.Equal(prev.Pix, cur.Pix) {
				return cur, nil
			}
			if time.Now().After(deadline) && prev != nil {
				return cur, nil
			}
		} else if time.Now().After(deadline) {
			return nil, errors.New("the window stayed blank")
		}
		prev = cur
	}
}

// commandError adds what a failed command wrote to stderr.
func commandError(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
	}
	return err
}

// startX starts a private Xvfb large enough for the window at scale 2 and
// points DISPLAY at it; the session's screen may be smaller, and the parts
// of a window outside the screen cannot be read back. stop ends it.
func startX() (stop func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "2000x1400x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	var xlog bytes.Buffer // Xvfb's chatter, shown only when it fails
	cmd.Stderr = &xlog
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start Xvfb: %w", err)
	}
	w.Close()
	stop = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	// Xvfb writes its display number and a newline to fd 3 once it
	// accepts clients.
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		stop()
		return nil, fmt.Errorf("start X: Xvfb did not report its display: %w\n%s", err, xlog.Bytes())
	}
	os.Setenv("DISPLAY", ":"+strings.TrimSpace(line))
	return stop, nil
}

func toRGBA(img image.Image) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	return out
}

// blank reports whether every pixel has the colour of the first one.
func blank(img *image.RGBA) bool {
	first := img.Pix[:4]
	for i := 4; i < len(img.Pix); i += 4 {
		if !bytes.Equal(img.Pix[i:i+4], first) {
			return false
		}
	}
	return true
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode: %w", err)
	}
	return f.Close()
}

// pinnedTheme is the default theme fixed to one variant, whatever the
// desktop prefers.
type pinnedTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (p pinnedTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return p.Theme.Color(n, p.variant)
}

// newMemAgent is the agent of one picture: its status, the pictures'
// decisions, default settings (with what the organisation's policy sets)
// and the report of the connected picture's checks unless the shot has
// its own. Nobody clicks or types while a picture is taken.
func newMemAgent(s shot) *agentapitest.Fake {
	rules := match.DefaultSettings()
	rules.Blocklist = []string{"@blocked.example", "newsletter@news.litware.example"}
	rules.HistoryDays = 30
	start := true
	if s.policy != nil && s.policy.IgnoreInternal != nil {
		rules.IgnoreInternal = *s.policy.IgnoreInternal // the agent answers with the rules in force
	}
	if s.policy != nil && s.policy.StartAtLogin != nil {
		start = *s.policy.StartAtLogin
	}
	if s.policy != nil && s.policy.HistoryDays != nil {
		rules.HistoryDays = *s.policy.HistoryDays
	}
	st := agentapitest.State{
		Status:    s.status,
		SignInURL: s.status.SignInURL,
		Settings:  agentapi.Settings{Rules: rules, StartAtLogin: start, Policy: s.policy},
		Setup: *setupOf(false, nil, [3]string{setup.KeyClientID, appID, string(setup.FromPerson)},
			[3]string{setup.KeyTenant, setup.DefaultTenant, string(setup.FromDefault)},
			[3]string{setup.KeyCRMURL, setup.DefaultCRMAddress, string(setup.FromDefault)}),
		Decisions:  decisions(),
		Report:     connectedReport(),
		Suggestion: suggestion(),
		Backfill:   shotBackfill(s.status),
	}
	if s.setup != nil {
		st.Setup = *s.setup
	}
	if s.report != nil {
		st.Report = *s.report
	}
	return agentapitest.NewWith(st)
}

// waitLoaded waits until the window has its status, settings, setup and
// decisions.
func waitLoaded(api *agentapitest.Fake, limit time.Duration) error {
	deadline := time.After(limit)
	for _, m := range []string{"Watch", "Settings", "Activity", "Setup"} {
		select {
		case <-api.Answered(m):
		case <-deadline:
			return errors.New("the window did not ask for its status, settings, setup and decisions")
		}
	}
	return nil
}

// connectedReport is what the checks find in the pictures: every check
// passed but the v2 contact search, which this ClientSuccess account may
// not use.
func connectedReport() doctor.Report {
	return doctor.Report{Results: []doctor.Result{
		{Check: doctor.CheckMicrosoftSignIn, Outcome: doctor.Passed},
		{Check: doctor.CheckMe, Outcome: doctor.Passed, Detail: "2 addresses of the user"},
		{Check: doctor.CheckFolders, Outcome: doctor.Passed, Detail: "9 folders"},
		{Check: doctor.CheckMail, Outcome: doctor.Passed, Detail: "38 messages in the last 24 hours on the first page"},
		{Check: doctor.CheckCRMSignIn, Outcome: doctor.Passed},
		{Check: doctor.CheckContactSearch, Outcome: doctor.Failed,
			Detail: "answered HTTP 404, object{status:number,userMessage:string}: this ClientSuccess account cannot use the v2 contact search, so Mail Sync cannot keep a local list of contacts and looks each address up instead (many more requests)."},
		{Check: doctor.CheckContactLookup, Outcome: doctor.Passed, Detail: "found a contact"},
		{Check: doctor.CheckInteractions, Outcome: doctor.Passed, Detail: "27 interactions on the first page of one client"},
	}}
}

// shotBackfill is the backfill of the pictures: what the demo's older
// mail holds.
func shotBackfill(st engine.Status) engine.Backfill {
	const days = 90
	to := st.LastPass.Add(-24 * time.Hour)
	return engine.Backfill{Days: days, State: storage.BackfillDone, From: to.Add(-time.Duration(days-1) * 24 * time.Hour), To: to, Reached: to,
		Read: 1874, Emails: 23, Clients: []storage.BackfillClient{
			{ID: 1001, Name: "Northwind Traders", Emails: 11},
			{ID: 1003, Name: "Adatum Corp", Emails: 7},
			{ID: 1002, Name: "Fabrikam Inc", Emails: 3},
			{ID: 1004, Name: "Tailspin Toys", Emails: 2},
		}}
}
