package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"mailsync/app"
	"mailsync/app/clitest"
)

// TestBackfillCommandLine: a number of days outside 1..365 is a wrong
// command line (exit 2, saying what to give).
func TestBackfillCommandLine(t *testing.T) {
	c := newCLI(t, "")
	for _, days := range [][]string{{}, {"--days", "0"}, {"--days", "366"}, {"--days", "-3"}} {
		args := append([]string{"backfill"}, days...)
		c.Want(t, 2, "", "give --days, a number of days from 1 to 365", args...)
	}
	c.Want(t, 2, "", "-days", "backfill", "--days", "many")
}

// TestBackfillCommand copies the sandbox's older mail with `mailsync
// backfill`: the dry run says how many emails it would copy and copies
// none; the run copies exactly those; the same run again copies 0 and
// says so.
func TestBackfillCommand(t *testing.T) {
	needRealKeyring(t)
	e := newE2E(t)
	w := e.svc.World
	e.crmLogin(t)
	e.setBlocklist(t)
	e.svc.Identity.AutoApprove(true)
	if r := e.connect(t, clitest.AutoApprove); r.Code != 0 {
		t.Fatalf("connect: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	e.MustRun(t, nil, "sync")
	from := time.Now().Add(-90 * 24 * time.Hour)
	older := 0
	for _, it := range w.Messages {
		if len(it.Older) > 0 && it.Msg.ReceivedDateTime.After(from.Add(time.Minute)) {
			older++
		}
	}
	backfill := func(args ...string) app.BackfillSummary {
		t.Helper()
		r := e.MustRun(t, nil, append([]string{"backfill", "--days", "90", "--json"}, args...)...)
		var s app.BackfillSummary
		if err := json.Unmarshal([]byte(r.Stdout), &s); err != nil {
			t.Fatalf("backfill --json printed %q: %v", r.Stdout, err)
		}
		return s
	}

	dry := backfill("--dry-run")
	if dry.Emails != older || older == 0 || !dry.DryRun || len(dry.Clients) == 0 {
		t.Errorf("dry run: %+v; want %d emails", dry, older)
	}
	if got := e.svc.CRM.MessageIDs(); !maps.EqualFunc(got, w.Expected(), slices.Equal) {
		t.Errorf("the dry run copied:\n got %v\nwant %v", got, w.Expected())
	}

	first := backfill()
	if first.Emails != older || first.State != "done" {
		t.Errorf("backfill: %+v; want %d emails copied", first, older)
	}
	want := w.ExpectedAfterBackfill(first.From)
	if got := e.svc.CRM.MessageIDs(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ClientSuccess after the backfill:\n got %v\nwant %v", got, want)
	}

	if again := backfill(); again.Emails != 0 {
		t.Errorf("the same backfill again copied %d emails", again.Emails)
	}
	r := e.MustRun(t, nil, "backfill", "--days", "90")
	if !strings.HasPrefix(r.Stdout, "Copied 0 emails") {
		t.Errorf("a third run printed %q, want it to say it copied 0 emails", r.Stdout)
	}
	if got := e.svc.CRM.MessageIDs(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("ClientSuccess after copying again:\n got %v\nwant %v", got, want)
	}
}
