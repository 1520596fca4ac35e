// Command mailsync copies email that involves ClientSuccess contacts from an
// Office 365 mailbox to the contacts' client timelines.
//
//	mailsync                     start the agent (tray icon, hourly sync)
//	mailsync settings            open the settings window
//	mailsync demo [--no-window]  run against the built-in sandbox
//	mailsync status [--json]     show where syncing stands
//	mailsync sync [--json]       sync now and print a summary
//	mailsync connect [--no-browser]
//	mailsync disconnect
//	mailsync crm login --username U
//	mailsync crm logout
//	mailsync pause | resume
//	mailsync quit
//	mailsync --version
//	mailsync doctor [--json]
//	mailsync config get [KEY] | set KEY VALUE | unset KEY
//	mailsync version             (also --version)
//
// Only subcommands and wiring live here; see package app.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"mailsync/app"
	"mailsync/app/locale"
	"mailsync/sync/agent"
)

const usage = `Mail Sync copies email with your ClientSuccess contacts to their client timelines.

Usage:
  mailsync                          start Mail Sync (tray icon; syncs every hour)
  mailsync settings                 open the settings window
  mailsync demo [--no-window]       try it against the built-in sandbox (no accounts needed)
  mailsync status [--json]          show where syncing stands
  mailsync sync [--json]            sync now and print a summary
  mailsync connect [--no-browser]   connect Office 365 (sign in in the browser)
  mailsync disconnect               forget the Office 365 sign-in
  mailsync crm login --username U   sign in to ClientSuccess (password from the terminal
                                    or MAILSYNC_CRM_PASSWORD)
  mailsync crm logout               forget the ClientSuccess password
  mailsync activity [--skipped] [--json]
                                    list the emails looked at and what became of each
  mailsync contacts add ADDRESS [--client ID|NAME] [--first F] [--last L]
                                    add a ClientSuccess contact and copy its recent emails
  mailsync backfill --days N [--dry-run] [--json]
                                    copy older mail: the N days (1 to 365) before the
                                    hourly sync's window (--dry-run: only say what)
  mailsync pause | resume           pause or resume syncing
  mailsync quit                     quit the running Mail Sync (as the tray's Quit does)
  mailsync doctor [--json]          check, read-only, that Office 365 and ClientSuccess
                                    answer as Mail Sync needs (exit status 0 when all do)
  mailsync config get [KEY]         show the setup: client-id (the Microsoft app), tenant
                                    (the directory), crm-url (the ClientSuccess address)
  mailsync config set KEY VALUE     change one of them (config unset KEY: back to the default)
  mailsync version                  print the version (also: --version)
  mailsync help COMMAND             show the flags of one command (also: COMMAND -h)
  mailsync --version                print the version (also: version)

Environment (overrides the setup; for development): MAILSYNC_HOME (data directory),
MAILSYNC_CLIENT_ID, MAILSYNC_AUTHORITY, MAILSYNC_GRAPH_URL, MAILSYNC_CRM_URL,
MAILSYNC_BROWSER (command to open URLs, or "none"), MAILSYNC_POLICY (a JSON policy file
read instead of the organization's).
`

func main() {
	// Fyne's packages have initialised: the processes Mail Sync starts get
	// the person's locale back.
	locale.Restore()
	os.Exit(run(os.Args[1:], app.DefaultEnv()))
}

// command is one subcommand: its own flags, its usage line and what it does.
type command struct {
	name    string // as typed: "status", "crm login"
	args    string // the usage after the name, e.g. "[--json]"
	summary string
	detail  string // more words for its help, after the summary
	// minArgs and maxArgs bound the arguments after the flags.
	minArgs, maxArgs int
	// required names the flags that must be given a value.
	required []string
	// interspersed takes flags after the arguments too
	// ("contacts add ADDRESS --client X").
	interspersed bool
	flags        func(fs *flag.FlagSet) func(ctx context.Context, cfg agent.Config, env app.Env) error
}

// flagSet is the flag set of cmd: errors and -h print to w, naming the
// command, and show only its own flags.
func flagSet(c command, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mailsync "+c.name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() { printCommandHelp(w, c, fs) }
	return fs
}

func usageLine(c command) string { return strings.TrimSpace("mailsync " + c.name + " " + c.args) }

func printCommandHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", usageLine(c), c.summary)
	if c.detail != "" {
		fmt.Fprintln(w, c.detail)
	}
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nFlags:")
		// The flag set parses with its output discarded; its defaults go to w.
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

func commands() []command {
	none := func(f func(ctx context.Context, cfg agent.Config, env app.Env) error) func(*flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
		return func(*flag.FlagSet) func(context.Context, agent.Config, app.Env) error { return f }
	}
	return []command{
		{name: "agent", args: "[-v]", summary: "Start Mail Sync: the tray icon and a sync every hour (what `mailsync` alone does).",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				verbose := fs.Bool("v", false, "also log to stderr")
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					err := app.RunAgent(ctx, cfg, env, app.AgentOptions{NoWindow: os.Getenv("MAILSYNC_NO_WINDOW") == "1", Verbose: *verbose})
					if errors.Is(err, app.ErrAlreadyRunning) {
						fmt.Fprintln(env.Stdout, "Mail Sync is already running; its settings window was asked to open.")
						return nil
					}
					return err
				}
			}},
		{name: "settings", summary: "Open the settings window.", flags: none(app.RunWindow)},
		{name: "demo", args: "[--no-window] [--needs-approval SHAPE] [-v]", summary: "Try Mail Sync against the built-in sandbox (no accounts needed).",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				noWindow := fs.Bool("no-window", false, "do not open the settings window; drive the demo from the command line")
				verbose := fs.Bool("v", false, "also log to stderr")
				approval := fs.String("needs-approval", "", "make the sandbox sign-in answer as when the organization must approve Mail Sync: cancel, 65001, 90094 or 90095 (add @token for the token endpoint's answer)")
				return func(ctx context.Context, _ agent.Config, env app.Env) error {
					return app.RunDemo(ctx, env, app.DemoOptions{Verbose: *verbose, NoWindow: *noWindow, NeedsApproval: *approval})
				}
			}},
		{name: "status", args: "[--json]", summary: "Show where syncing stands.",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				asJSON := fs.Bool("json", false, "print JSON")
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.Status(ctx, cfg, env, *asJSON)
				}
			}},
		{name: "sync", args: "[--json]", summary: "Sync now and print what the pass did (joins a pass already running).",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				asJSON := fs.Bool("json", false, "print JSON")
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.Sync(ctx, cfg, env, *asJSON)
				}
			}},
		{name: "connect", args: "[--no-browser]", summary: "Connect Office 365 (sign in in the browser).",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				noBrowser := fs.Bool("no-browser", false, "do not open the browser; only print the sign-in address")
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.Connect(ctx, cfg, env, *noBrowser)
				}
			}},
		{name: "disconnect", summary: "Forget the Office 365 sign-in.", flags: none(app.Disconnect)},
		{name: "crm login", args: "--username U", required: []string{"username"}, summary: "Sign in to ClientSuccess (password from the terminal or MAILSYNC_CRM_PASSWORD).",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				username := fs.String("username", "", "ClientSuccess username")
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.CRMLogin(ctx, cfg, env, *username)
				}
			}},
		{name: "crm logout", summary: "Forget the ClientSuccess password.", flags: none(app.CRMLogout)},
		{name: "doctor", args: "[--json]", summary: "Check, read-only, that Office 365 and ClientSuccess answer as Mail Sync needs (exit status 0 when all do).",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				asJSON := fs.Bool("json", false, "print JSON")
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.Doctor(ctx, cfg, env, *asJSON)
				}
			}},
		{name: "quit", summary: "Quit the running Mail Sync, as the tray's Quit does.", flags: none(app.Quit)},
		{name: "config get", args: "[KEY]", maxArgs: 1,
			summary: "Show the setup (every key, or the value of KEY).", detail: keysHelp,
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.ConfigGet(ctx, cfg, env, fs.Arg(0))
				}
			}},
		{name: "config set", args: "KEY VALUE", minArgs: 2, maxArgs: 2,
			summary: "Change one setting.", detail: keysHelp,
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.ConfigSet(ctx, cfg, env, fs.Arg(0), fs.Arg(1))
				}
			}},
		{name: "config unset", args: "KEY", minArgs: 1, maxArgs: 1,
			summary: "Forget what was set for KEY, so the build's value or the default applies.", detail: keysHelp,
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.ConfigSet(ctx, cfg, env, fs.Arg(0), "")
				}
			}},
		{name: "version", summary: "Print the version of Mail Sync.",
			flags: none(func(_ context.Context, _ agent.Config, env app.Env) error {
				fmt.Fprintln(env.Stdout, app.VersionLine())
				return nil
			})},
		{name: "activity", args: "[--skipped] [--json]", summary: "List the emails Mail Sync looked at, newest first, with what became of each (as Activity shows).",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				skipped := fs.Bool("skipped", false, "only the emails that were not copied")
				asJSON := fs.Bool("json", false, "print JSON")
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.Activity(ctx, cfg, env, *skipped, *asJSON)
				}
			}},
		{name: "contacts add", args: "ADDRESS [--client ID|NAME] [--first F] [--last L]", minArgs: 1, maxArgs: 1, interspersed: true,
			summary: "Add ADDRESS as a ClientSuccess contact and copy its emails still inside the window.",
			detail:  "Without --client the client is the one whose contacts share the address's domain; when none or\nseveral do, the command lists the candidates and exits 1.",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				client := fs.String("client", "", "the client: its ID or name")
				first := fs.String("first", "", "first name")
				last := fs.String("last", "", "last name")
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					return app.ContactsAdd(ctx, cfg, env, app.ContactAdd{Address: fs.Arg(0), Client: *client, First: *first, Last: *last})
				}
			}},
		{name: "backfill", args: "--days N [--dry-run] [--json]",
			summary: "Copy older mail: the emails of the N days (1 to 365) before the hourly sync's window, by the same rules.",
			detail:  "With --dry-run it only says how many emails it would copy, and to which clients. Copying again copies nothing twice.",
			flags: func(fs *flag.FlagSet) func(context.Context, agent.Config, app.Env) error {
				days := fs.Int("days", 0, "how many days back to copy, 1 to 365")
				dryRun := fs.Bool("dry-run", false, "say what would be copied, copy nothing")
				asJSON := fs.Bool("json", false, "print JSON")
				return func(ctx context.Context, cfg agent.Config, env app.Env) error {
					if *days < 1 || *days > 365 {
						return commandLineError("give --days, a number of days from 1 to 365")
					}
					return app.Backfill(ctx, cfg, env, *days, *dryRun, *asJSON)
				}
			}},
		{name: "pause", summary: "Pause syncing.", flags: none(app.Pause)},
		{name: "resume", summary: "Resume syncing.", flags: none(app.Resume)},
	}
}

// isGroup reports whether name is the first word of commands of its own
// ("crm", "config").
func isGroup(name string) bool {
	for _, c := range commands() {
		if strings.HasPrefix(c.name, name+" ") {
			return true
		}
	}
	return false
}

// printGroupHelp lists the commands of group with what each does.
func printGroupHelp(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: mailsync %s COMMAND\n\nCommands:\n", group)
	var details []string
	for _, c := range commands() {
		if strings.HasPrefix(c.name, group+" ") {
			fmt.Fprintf(w, "  %s\n      %s\n", usageLine(c), c.summary)
			if c.detail != "" && !slices.Contains(details, c.detail) {
				details = append(details, c.detail)
			}
		}
	}
	for _, d := range details {
		fmt.Fprintf(w, "\n%s\n", d)
	}
	fmt.Fprintf(w, "\nRun `mailsync help %s COMMAND` for one of them.\n", group)
}

// keysHelp names the keys of `mailsync config`.
const keysHelp = "The keys: client-id (the Microsoft app's application ID), tenant (organizations, your domain\nor the directory ID), crm-url (the ClientSuccess address)."

// lookup finds the command args start with and returns the rest of args.
func lookup(args []string) (command, []string, bool) {
	name := ""
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	if name == "" || strings.HasPrefix(name, "-") && name != "-h" && name != "--help" {
		// `mailsync` alone, or `mailsync -v`: the agent.
		if name != "" {
			args = append([]string{name}, args...)
		}
		name = "agent"
	}
	if (name == "crm" || name == "config" || name == "contacts") && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = name+" "+args[0], args[1:]
	}
	for _, c := range commands() {
		if c.name == name {
			return c, args, true
		}
	}
	return command{name: name}, args, false
}

// run executes one command and returns the exit code: 0 done, 1 failed (the
// reason was printed), 2 the command line was wrong.
func run(args []string, env app.Env) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		if len(args) == 1 {
			fmt.Fprint(env.Stdout, usage)
			return 0
		}
		c, rest, ok := lookup(args[1:])
		if !ok && len(rest) == 0 && isGroup(c.name) {
			printGroupHelp(env.Stdout, c.name)
			return 0
		}
		if !ok || len(rest) > 0 {
			fmt.Fprintf(env.Stderr, "mailsync help: unknown command %q\n\n%s", strings.Join(args[1:], " "), usage)
			return 2
		}
		fs := flagSet(c, env.Stdout)
		c.flags(fs)
		printCommandHelp(env.Stdout, c, fs)
		return 0
	}
	c, args, ok := lookup(args)
	if !ok {
		group, sub, _ := strings.Cut(c.name, " ")
		switch {
		case isGroup(c.name) && len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
			printGroupHelp(env.Stdout, c.name)
			return 0
		case isGroup(c.name):
			printGroupHelp(env.Stderr, c.name)
		case isGroup(group):
			fmt.Fprintf(env.Stderr, "mailsync %s: unknown command %q\n\n", group, sub)
			printGroupHelp(env.Stderr, group)
		default:
			fmt.Fprintf(env.Stderr, "mailsync: unknown command %q\n\n%s", c.name, usage)
		}
		return 2
	}
	fs := flagSet(c, io.Discard)
	do := c.flags(fs)
	if c.interspersed {
		args = flagsFirst(fs, args)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandHelp(env.Stdout, c, fs)
			return 0
		}
		fmt.Fprintf(env.Stderr, "mailsync %s: %v\nRun `mailsync help %s` for its flags.\n", c.name, err, c.name)
		return 2
	}
	if fs.NArg() > c.maxArgs {
		fmt.Fprintf(env.Stderr, "mailsync %s: unexpected %q\n", c.name, fs.Arg(c.maxArgs))
		return 2
	}
	if fs.NArg() < c.minArgs {
		fmt.Fprintf(env.Stderr, "usage: %s\n", usageLine(c))
		return 2
	}
	for _, name := range c.required {
		if strings.TrimSpace(fs.Lookup(name).Value.String()) == "" {
			fmt.Fprintf(env.Stderr, "mailsync %s: give --%s\nusage: %s\n", c.name, name, usageLine(c))
			return 2
		}
	}
	cfg, err := agent.ConfigFromEnv()
	if err != nil {
		return fail(env.Stderr, err)
	}
	if err := do(ctx, cfg, env); err != nil {
		var cl commandLineError
		if errors.As(err, &cl) {
			fmt.Fprintf(env.Stderr, "mailsync %s: %s\nusage: %s\n", c.name, cl, usageLine(c))
			return 2
		}
		return fail(env.Stderr, err)
	}
	return 0
}

// flagsFirst moves the flags of args (with their values) before the
// arguments, so that flag.Parse reads flags given after an argument. A
// "--" ends the flags, as for flag.Parse.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			return append(append(flags, "--"), rest...)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			f := fs.Lookup(name)
			if f == nil || i+1 == len(args) {
				continue // flag.Parse says what is wrong with it
			}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++
				flags = append(flags, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

// commandLineError is a command's own check of its flags failing: the
// command line was wrong (exit status 2).
type commandLineError string

func (e commandLineError) Error() string { return string(e) }

func fail(w io.Writer, err error) int {
	fmt.Fprintf(w, "mailsync: %v\n", err)
	return 1
}
