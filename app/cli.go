package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"mailsync/app/autostart"
	"mailsync/app/logs"
	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/setup"
	"mailsync/sync/words"
)

// session is the API a command talks to: the running agent over its socket,
// or, when none runs, an agent opened in this process.
type session struct {
	api   agentapi.API
	local *agent.Agent // nil when a running agent answers
	close func()
}

func openSession(cfg agent.Config, env Env) (*session, error) {
	c, err := agentapi.Dial(cfg.DataDir)
	if err == nil {
		return &session{api: c, close: func() { c.Close() }}, nil
	}
	if !errors.Is(err, agentapi.ErrNoAgent) {
		return nil, err
	}
	if err := storage.EnsureDir(cfg.DataDir); err != nil {
		return nil, err
	}
	log, closeLog := logs.Open(cfg.DataDir, false)
	ag, err := agent.Open(cfg, desktopHooks(cfg, env), log)
	if errors.Is(err, storage.ErrLocked) {
		closeLog.Close()
		return nil, words.New(busy)
	}
	if err != nil {
		closeLog.Close()
		return nil, err
	}
	return &session{api: agentapi.InProcess(ag), local: ag, close: func() { ag.Close(); closeLog.Close() }}, nil
}

// desktopHooks are the agent's hooks every process gives it: the browser,
// and the login item (which the sandbox never installs).
func desktopHooks(cfg agent.Config, env Env) agent.Hooks {
	return agent.Hooks{
		OpenURL: env.OpenURL,
		SetAutostart: func(on bool) error {
			switch {
			case cfg.Sandbox:
				return nil
			case on:
				return autostart.Enable(env.Exe)
			}
			return autostart.Disable()
		},
		Autostart: func() (bool, error) {
			if cfg.Sandbox {
				return false, nil
			}
			return autostart.Enabled()
		},
	}
}

// Status prints where syncing stands. Before Mail Sync has ever run there
// is no state to read: it says so and creates nothing.
func Status(ctx context.Context, cfg agent.Config, env Env, asJSON bool) error {
	if _, err := os.Stat(filepath.Join(cfg.DataDir, storage.FileName)); errors.Is(err, fs.ErrNotExist) {
		// The agent creates the state file before it listens, so none runs.
		if asJSON {
			// The shape of every other report, so scripts read one.
			rep := agentapi.Report(engine.Status{State: engine.SignedOut}, false)
			rep.SetUp, rep.StateName, rep.PolicyProblems = false, notSetUpState, cfg.Policy.Problems
			return writeJSON(env.Stdout, rep)
		}
		fmt.Fprintln(env.Stdout, notSetUp)
		printPolicyProblems(env.Stdout, cfg.Policy.Problems)
		return nil
	}
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := s.api.Status(ctx)
	if err != nil {
		return err
	}
	// An agent too old to answer Setup leaves the problems out.
	su, _ := s.api.Setup(ctx)
	if asJSON {
		rep := agentapi.Report(st, s.local == nil)
		rep.PolicyProblems = su.PolicyProblems
		return writeJSON(env.Stdout, rep)
	}
	w := env.Stdout
	fmt.Fprintf(w, "State:          %s\n", st.State)
	if st.Account != nil {
		fmt.Fprintf(w, "Office 365:     %s <%s>\n", st.Account.Name, st.Account.Email)
	} else {
		fmt.Fprintf(w, "Office 365:     not connected\n")
	}
	if st.CRMUser != "" {
		fmt.Fprintf(w, "ClientSuccess:  signed in as %s\n", st.CRMUser)
	} else {
		fmt.Fprintf(w, "ClientSuccess:  not signed in\n")
	}
	// A pass that copied nothing does not hide the last one that did.
	for i, l := range st.PassLines(func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") }) {
		if i == 0 {
			fmt.Fprintf(w, "Last sync:      %s\n", l)
		} else {
			fmt.Fprintf(w, "                %s\n", l)
		}
	}
	if next := st.NextSync(); !next.IsZero() {
		fmt.Fprintf(w, "Next sync:      %s\n", next.Local().Format("2006-01-02 15:04"))
	}
	if p := st.Problem(); p != "" {
		fmt.Fprintf(w, "Problem:        %s\n", p)
	}
	for _, p := range su.PolicyProblems {
		fmt.Fprintf(w, "Policy problem: %s\n", p)
	}
	if s.local == nil {
		fmt.Fprintf(w, "Agent:          running\n")
	} else {
		fmt.Fprintf(w, "Agent:          not running (start it with `mailsync`)\n")
	}
	return nil
}

// SyncSummary is what `mailsync sync --json` prints. Synced, Already and
// Skipped count emails; Uploads counts interactions (an email to contacts
// of two clients makes two).
type SyncSummary struct {
	Listed          int            `json:"listed"`
	Synced          int            `json:"synced"`
	Uploads         int            `json:"uploads"`
	Already         int            `json:"alreadySynced"`
	Skipped         map[string]int `json:"skipped"`
	DurationSeconds float64        `json:"durationSeconds"`
	WindowStart     time.Time      `json:"windowStart,omitzero"`
	// Joined is true when a pass was already running and the command
	// waited for it rather than starting another.
	Joined bool `json:"joined,omitempty"`
}

// Sync runs one pass now (in the running agent, or in this process) and
// prints its summary. With a running agent the pass is the agent's: the
// one requested, or the one already in flight (which the summary says).
func Sync(ctx context.Context, cfg agent.Config, env Env, asJSON bool) error {
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	var r agentapi.PassResult
	if s.local != nil {
		sum, err := s.local.PassNow(ctx)
		if err != nil {
			return errors.New(agent.Words(err))
		}
		r = agentapi.ResultOf(sum, false)
	} else if r, err = s.api.Sync(ctx); err != nil {
		return err
	}
	c := r.Counts
	sum := SyncSummary{Listed: c.Listed, Synced: c.Synced, Uploads: c.Uploads, Already: c.Already,
		Skipped: c.Skipped, WindowStart: r.WindowStart, Joined: r.Joined,
		DurationSeconds: r.End.Sub(r.Start).Seconds()}
	if sum.Skipped == nil {
		sum.Skipped = map[string]int{}
	}
	if asJSON {
		return writeJSON(env.Stdout, sum)
	}
	printSummary(env.Stdout, sum)
	return nil
}

func printSummary(w io.Writer, s SyncSummary) {
	if s.Joined {
		fmt.Fprintln(w, joinedPass)
	}
	// The first line counts emails, as the window and the tray do;
	// interactions (one per client an email went to) are detail, apart.
	c := engine.PassCounts{Listed: s.Listed, Synced: s.Synced, Uploads: s.Uploads, Already: s.Already, Skipped: s.Skipped}
	fmt.Fprintf(w, "%s; %d listed; %.1fs\n", c.Words(), s.Listed, s.DurationSeconds)
	if s.Uploads > 0 {
		fmt.Fprintf(w, interactionsCreated, s.Uploads)
	}
	if !s.WindowStart.IsZero() {
		fmt.Fprintf(w, lookedSince, s.WindowStart.Local().Format("2006-01-02 15:04"))
	}
	reasons := make([]string, 0, len(s.Skipped))
	for r := range s.Skipped {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		return s.Skipped[reasons[i]] > s.Skipped[reasons[j]] || s.Skipped[reasons[i]] == s.Skipped[reasons[j]] && reasons[i] < reasons[j]
	})
	if len(reasons) > 0 {
		fmt.Fprintln(w, "Skipped:")
		for _, r := range reasons {
			fmt.Fprintf(w, "  %-36s %d\n", r, s.Skipped[r])
		}
	}
}

// ErrChecksFailed is returned by Doctor when a check did not pass; the
// checks' lines say which and why.
var ErrChecksFailed = errors.New("some checks did not pass (see above)")

// Doctor runs the read-only checks of the configured services (in the
// running agent, or in this process) and prints one line per check. It
// returns ErrChecksFailed unless every check passed.
func Doctor(ctx context.Context, cfg agent.Config, env Env, asJSON bool) error {
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	rep, err := s.api.Doctor(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if err := writeJSON(env.Stdout, rep); err != nil {
			return err
		}
	} else {
		printReport(env.Stdout, rep)
		if !rep.OK() {
			fmt.Fprintln(env.Stdout)
			fmt.Fprintln(env.Stdout, agent.CheckSummary(rep))
		}
	}
	if !rep.OK() {
		return ErrChecksFailed
	}
	return nil
}

// printReport writes one line per check: its outcome, its name and, when
// there is one, its detail.
func printReport(w io.Writer, rep doctor.Report) {
	width := 0
	for _, r := range rep.Results {
		width = max(width, len(r.Check))
	}
	for _, r := range rep.Results {
		mark := map[doctor.Outcome]string{doctor.Passed: "ok", doctor.Failed: "FAILED", doctor.Skipped: "skipped"}[r.Outcome]
		line := fmt.Sprintf("%-7s  %-*s", mark, width, r.Check)
		if r.Detail != "" {
			line += "  " + r.Detail
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// ErrNeedsApproval is returned by Connect when the sign-in ended in a
// consent problem; the words and the approval link are printed already.
var ErrNeedsApproval = words.New(notConnectedSeeAbove)

// Connect runs the browser sign-in and prints the account. When the
// organization must approve Mail Sync, it prints what happened and the
// admin-consent link.
func Connect(ctx context.Context, cfg agent.Config, env Env, noBrowser bool) error {
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.api.Watch(wctx)
	if err != nil {
		return err
	}
	before, ok := <-ch // Watch sends the current status first
	if !ok {
		return words.New(agentStopped)
	}
	// Before the sign-in, as the window says it: whether the mailbox
	// connected last continues or another starts fresh.
	if acct, from := before.Continues(time.Now()); acct != nil {
		fmt.Fprintf(env.Stderr, continuesFrom+"\n", acct.Email, from.Local().Format("2006-01-02 15:04"))
	}
	url, err := s.api.Connect(ctx, !noBrowser)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stderr, signInInBrowser)
	fmt.Fprintln(env.Stdout, url)
	acct, err := agent.WaitSignIn(ctx, ch, before.SignIns+1)
	var need *agent.ApprovalNeeded
	if errors.As(err, &need) {
		// The link goes to stdout alone on its line, to be copied or piped.
		fmt.Fprintln(env.Stderr, need.Words)
		fmt.Fprintln(env.Stderr, agent.CopyApprovalLink+":")
		fmt.Fprintln(env.Stdout, need.URL)
		return ErrNeedsApproval
	}
	if err != nil {
		_ = s.api.CancelConnect(context.Background())
		return err
	}
	fmt.Fprintf(env.Stdout, connectedAs, acct.Name, acct.Email)
	return nil
}

// Disconnect forgets the Microsoft sign-in.
func Disconnect(ctx context.Context, cfg agent.Config, env Env) error {
	return simple(ctx, cfg, env, disconnected, agent.UnchangedByDisconnect, func(api agentapi.API) error { return api.Disconnect(ctx) })
}

// Pause and Resume toggle syncing.
func Pause(ctx context.Context, cfg agent.Config, env Env) error {
	return simple(ctx, cfg, env, syncingPaused, agent.UnchangedByPause, func(api agentapi.API) error { return api.Pause(ctx) })
}

// Resume resumes syncing.
func Resume(ctx context.Context, cfg agent.Config, env Env) error {
	return simple(ctx, cfg, env, syncingResumed, agent.UnchangedByResume, func(api agentapi.API) error { return api.Resume(ctx) })
}

// Quit ends the running Mail Sync as the tray's Quit does, and returns
// once it has let go of its state (so an uninstaller can remove the
// program). It is not an error when none runs.
func Quit(ctx context.Context, cfg agent.Config, env Env) error {
	c, err := agentapi.Dial(cfg.DataDir)
	if errors.Is(err, agentapi.ErrNoAgent) {
		fmt.Fprintln(env.Stdout, notRunning)
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, quitTimeout)
	defer cancel()
	if err := c.Quit(ctx); err != nil {
		return err
	}
	// The agent stopped serving; it closes its state last. Opening the
	// state waits for that (storage.LockTimeout at a time).
	for {
		st, err := storage.Open(cfg.DataDir)
		if err == nil {
			st.Close()
			break
		}
		if !errors.Is(err, storage.ErrLocked) {
			return fmt.Errorf("wait for Mail Sync to quit: %w", err)
		}
		if ctx.Err() != nil {
			return words.New(stillClosing)
		}
	}
	fmt.Fprintln(env.Stdout, hasQuit)
	return nil
}

// quitTimeout bounds how long Quit waits for the agent to end: a pass in
// flight is stopped, the settings window closed (10 s at most).
const quitTimeout = 30 * time.Second

// CRMLogout forgets the ClientSuccess password.
func CRMLogout(ctx context.Context, cfg agent.Config, env Env) error {
	return simple(ctx, cfg, env, signedOutCRM, agent.UnchangedByCRMLogout, func(api agentapi.API) error { return api.CRMLogout(ctx) })
}

// simple runs f on the agent and prints done. When unchanged (if not nil)
// says the status leaves f nothing to do, it prints that instead and
// does not run f: the window greys the same action out.
func simple(ctx context.Context, cfg agent.Config, env Env, done string, unchanged func(engine.Status) string, f func(agentapi.API) error) error {
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	if unchanged != nil {
		st, err := s.api.Status(ctx)
		if err != nil {
			return err
		}
		if words := unchanged(st); words != "" {
			fmt.Fprintln(env.Stdout, words)
			return nil
		}
	}
	if err := f(s.api); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, done)
	return nil
}

// CRMLogin checks a ClientSuccess username (the command line requires
// one) and password and stores the password in the keyring. The password comes from MAILSYNC_CRM_PASSWORD or
// is read from the terminal without echo.
func CRMLogin(ctx context.Context, cfg agent.Config, env Env, username string) error {
	username = strings.TrimSpace(username)
	pw, err := readPassword(env)
	if err != nil {
		return err
	}
	return simple(ctx, cfg, env, fmt.Sprintf(signedInCRM, username), nil, func(api agentapi.API) error {
		fmt.Fprintln(env.Stderr, agent.SigningInCRM)
		return api.CRMLogin(ctx, username, pw)
	})
}

func readPassword(env Env) (string, error) {
	if pw, ok := os.LookupEnv("MAILSYNC_CRM_PASSWORD"); ok {
		return pw, nil
	}
	if env.Stdin == nil || !term.IsTerminal(int(env.Stdin.Fd())) {
		return "", errors.New("no terminal to read the password from: set MAILSYNC_CRM_PASSWORD")
	}
	fmt.Fprint(env.Stderr, passwordPrompt)
	b, err := term.ReadPassword(int(env.Stdin.Fd()))
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return "", fmt.Errorf("could not read the password: %w", err)
	}
	return string(b), nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// VersionLine is what `mailsync version` prints.
func VersionLine() string { return "Mail Sync " + agent.Version }

// ConfigGet prints the setup: every key with its value and where the value
// comes from, then what of the organisation's policy was ignored; or, with
// a key, only its value.
func ConfigGet(ctx context.Context, cfg agent.Config, env Env, key string) error {
	if key != "" && !slices.Contains(setup.Keys, key) {
		return fmt.Errorf("there is no setting %q; the settings are %s", key, strings.Join(setup.Keys, ", "))
	}
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	su, err := s.api.Setup(ctx)
	if err != nil {
		return err
	}
	if key != "" {
		fmt.Fprintln(env.Stdout, su.Field(key).Value)
		return nil
	}
	width := 0
	for _, k := range setup.Keys {
		width = max(width, len(k))
	}
	for _, k := range setup.Keys {
		f := su.Field(k)
		v := f.Value
		if v == "" {
			v = "(none)"
		}
		fmt.Fprintf(env.Stdout, "%-*s  %s  (%s)\n", width, k, v, f.Source.Words())
	}
	printPolicyProblems(env.Stdout, su.PolicyProblems)
	return nil
}

// ConfigSet sets key to value ("" unsets it), through the running agent
// or in the state. A bad value or a key the organisation sets is refused
// with words that name the key.
func ConfigSet(ctx context.Context, cfg agent.Config, env Env, key, value string) error {
	if !slices.Contains(setup.Keys, key) {
		return fmt.Errorf("there is no setting %q; the settings are %s", key, strings.Join(setup.Keys, ", "))
	}
	if value != "" && strings.TrimSpace(value) == "" {
		return fmt.Errorf("%s: give a value, or use `mailsync config unset %s`", key, key)
	}
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.api.SetSetup(ctx, map[string]string{key: value}); err != nil {
		return err
	}
	done := key + " saved."
	if value == "" {
		done = key + " unset."
	}
	fmt.Fprintln(env.Stdout, done)
	if su, err := s.api.Setup(ctx); err == nil {
		if f := su.Field(key); f.Source == setup.FromEnv {
			fmt.Fprintf(env.Stdout, envOverrides, key, f.Value)
		} else if value == "" && f.Value != "" {
			fmt.Fprintf(env.Stdout, "%s is now %s (%s).\n", key, f.Value, f.Source.Words())
		}
	}
	return nil
}

// printPolicyProblems lists what of the organisation's policy was ignored.
func printPolicyProblems(w io.Writer, problems []string) {
	for _, p := range problems {
		fmt.Fprintf(w, "Policy problem: %s\n", p)
	}
}
