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
//	mailsync doctor [--json]
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
	"syscall"

	"mailsync/app"
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
  mailsync pause | resume           pause or resume syncing
  mailsync doctor [--json]          check, read-only, that Office 365 and ClientSuccess
                                    answer as Mail Sync needs (exit status 0 when all do)

Environment: MAILSYNC_HOME (data directory), MAILSYNC_CLIENT_ID, MAILSYNC_AUTHORITY,
MAILSYNC_GRAPH_URL, MAILSYNC_CRM_URL, MAILSYNC_BROWSER (command to open URLs, or "none").
`

func main() {
	os.Exit(run(os.Args[1:], app.DefaultEnv()))
}

// run executes one command and returns the exit code: 0 done, 1 failed (the
// reason was printed), 2 the command line was wrong.
func run(args []string, env app.Env) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := agent.ConfigFromEnv()
	if err != nil {
		return fail(env.Stderr, err)
	}
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("mailsync "+cmd, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	noBrowser := fs.Bool("no-browser", false, "do not open the browser; only print the sign-in address")
	username := fs.String("username", "", "ClientSuccess username")
	verbose := fs.Bool("v", false, "also log to stderr")
	noWindow := fs.Bool("no-window", false, "demo: do not open the settings window; drive it from the command line")
	sub := ""
	if cmd == "crm" && len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fmt.Fprintf(env.Stderr, "mailsync %s: unexpected %q\n", cmd, fs.Arg(0))
		}
		return 2
	}

	switch cmd {
	case "", "agent":
		err = app.RunAgent(ctx, cfg, env, app.AgentOptions{NoWindow: os.Getenv("MAILSYNC_NO_WINDOW") == "1", Verbose: *verbose})
		if errors.Is(err, app.ErrAlreadyRunning) {
			fmt.Fprintln(env.Stdout, "Mail Sync is already running; its settings window was asked to open.")
			return 0
		}
	case "settings":
		err = app.RunWindow(ctx, cfg, env)
	case "demo":
		err = app.RunDemo(ctx, env, app.DemoOptions{Verbose: *verbose, NoWindow: *noWindow})
	case "status":
		err = app.Status(ctx, cfg, env, *asJSON)
	case "sync":
		err = app.Sync(ctx, cfg, env, *asJSON)
	case "connect":
		err = app.Connect(ctx, cfg, env, *noBrowser)
	case "disconnect":
		err = app.Disconnect(ctx, cfg, env)
	case "pause":
		err = app.Pause(ctx, cfg, env)
	case "resume":
		err = app.Resume(ctx, cfg, env)
	case "doctor":
		err = app.Doctor(ctx, cfg, env, *asJSON)
	case "crm":
		switch sub {
		case "login":
			err = app.CRMLogin(ctx, cfg, env, *username)
		case "logout":
			err = app.CRMLogout(ctx, cfg, env)
		default:
			fmt.Fprint(env.Stderr, "usage: mailsync crm login --username U | mailsync crm logout\n")
			return 2
		}
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
	default:
		fmt.Fprintf(env.Stderr, "mailsync: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		return fail(env.Stderr, err)
	}
	return 0
}

func fail(w io.Writer, err error) int {
	fmt.Fprintf(w, "mailsync: %v\n", err)
	return 1
}
