package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/engine"
)

// BackfillSummary is what `mailsync backfill --json` prints.
type BackfillSummary struct {
	Days   int  `json:"days"`
	DryRun bool `json:"dryRun"`
	// Emails is how many emails it would copy (dry run) or copied.
	Emails  int                      `json:"emails"`
	Read    int                      `json:"read"` // emails looked at
	From    time.Time                `json:"from"`
	To      time.Time                `json:"to"`
	Clients []storage.BackfillClient `json:"clients"` // emails per client, most first
	State   string                   `json:"state"`
	// LeftOut is how many emails it leaves out because Mail Sync cannot
	// tell whether it copied them (received before LeftOutBefore), and
	// LeftOutWhy says so in words.
	LeftOut       int       `json:"leftOut"`
	LeftOutBefore time.Time `json:"leftOutBefore,omitzero"`
	LeftOutWhy    string    `json:"leftOutWhy,omitempty"`
}

// Backfill copies the mail of the days before the sync window (or, with
// dryRun, says what it would copy) and prints what it did.
func Backfill(ctx context.Context, cfg agent.Config, env Env, days int, dryRun, asJSON bool) error {
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	var b engine.Backfill
	if dryRun {
		b, err = s.api.PreviewBackfill(ctx, days)
	} else {
		b, err = s.api.Backfill(ctx, days)
	}
	if err != nil {
		return err
	}
	sum := BackfillSummary{Days: days, DryRun: dryRun, Emails: b.Emails, Read: b.Read, From: b.From, To: b.To,
		Clients: b.Clients, State: b.State.String(),
		LeftOut: b.LeftOut, LeftOutBefore: b.LeftOutBefore, LeftOutWhy: engine.BackfillLeftOut(b)}
	if sum.Clients == nil {
		sum.Clients = []storage.BackfillClient{}
	}
	if asJSON {
		return writeJSON(env.Stdout, sum)
	}
	printBackfill(env.Stdout, sum)
	return nil
}

func printBackfill(w io.Writer, s BackfillSummary) {
	printBackfillCounts(w, s)
	if s.LeftOutWhy != "" {
		fmt.Fprintln(w, s.LeftOutWhy)
	}
}

func printBackfillCounts(w io.Writer, s BackfillSummary) {
	span := fmt.Sprintf(backfillSpan, s.From.Local().Format("2006-01-02"), s.To.Local().Format("2006-01-02 15:04"))
	switch {
	case !s.From.Before(s.To):
		fmt.Fprintf(w, backfillNothing, s.Days)
		return
	case s.Emails == 0 && s.DryRun:
		fmt.Fprintf(w, backfillWouldNone, s.Read, span)
		return
	case s.Emails == 0:
		fmt.Fprintf(w, backfillCopiedNone, s.Read, span)
		return
	case s.DryRun:
		fmt.Fprintf(w, backfillWould, emails(s.Emails), s.Read, span)
	default:
		fmt.Fprintf(w, backfillCopied, emails(s.Emails), s.Read, span)
	}
	for _, c := range s.Clients {
		fmt.Fprintf(w, "  %s: %s\n", c.Name, emails(c.Emails))
	}
}

func emails(n int) string {
	if n == 1 {
		return "1 email"
	}
	return fmt.Sprintf("%d emails", n)
}
