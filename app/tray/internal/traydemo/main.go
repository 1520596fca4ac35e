// Command traydemo shows the Mail Sync tray with sample statuses, for the
// tray's D-Bus test and its screenshot script.
//
// Each line on standard input is an engine.Status as JSON and is shown as
// it arrives; the end of input ends the tray. Menu clicks are printed on
// standard output as "action <Name>", and "ready" once the menu is built.
// -state picks a sample status to show first (idle, syncing, error, ...).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"mailsync/app/tray"
	"mailsync/sync/engine"
)

func main() {
	state := flag.String("state", "", "sample status to show first: signedout, idle, syncing, reconnect, error, paused, crmsignedout")
	flag.Parse()

	updates := make(chan engine.Status, 16)
	if s, ok := sample(*state); ok {
		updates <- s
	} else if *state != "" {
		fmt.Fprintf(os.Stderr, "traydemo: unknown -state %q\n", *state)
		os.Exit(2)
	}
	go func() {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			if len(in.Bytes()) == 0 {
				continue
			}
			var s engine.Status
			if err := json.Unmarshal(in.Bytes(), &s); err != nil {
				fmt.Fprintf(os.Stderr, "traydemo: read status: %v\n", err)
				continue
			}
			updates <- s
		}
		close(updates)
	}()

	say := func(name string) func() {
		return func() { fmt.Println("action", name) }
	}
	tray.Run(updates, tray.Actions{
		SyncNow: say("SyncNow"), Pause: say("Pause"), Resume: say("Resume"),
		Settings: say("Settings"), OpenLog: say("OpenLog"), Quit: say("Quit"),
	}, func() { fmt.Println("ready") })
}

func sample(name string) (engine.Status, bool) {
	acct := &engine.Account{Name: "Ann Example", Email: "ann@example.com"}
	now := time.Now()
	var s engine.Status
	switch name {
	case "signedout":
	case "idle":
		s = engine.Status{Account: acct, CRMUser: "ann", LastPass: now.Add(-12 * time.Minute), SyncedToday: 3, NextPass: now.Add(48 * time.Minute)}
	case "syncing":
		s = engine.Status{Account: acct, CRMUser: "ann", Running: true, Progress: &engine.Progress{Done: 120, Total: 400}}
	case "reconnect":
		s = engine.Status{Account: acct, CRMUser: "ann", Reconnect: "Microsoft ended the sign-in"}
	case "error":
		s = engine.Status{Account: acct, CRMUser: "ann", LastError: "ClientSuccess is under maintenance"}
	case "paused":
		s = engine.Status{Account: acct, CRMUser: "ann", Paused: true}
	case "crmsignedout":
		s = engine.Status{Account: acct}
	default:
		return engine.Status{}, false
	}
	s.State = engine.Derive(s)
	return s, true
}
