package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
)

// ContactAdd is what `mailsync contacts add` was given.
type ContactAdd struct {
	Address, Client, First, Last string
}

// ErrChooseClient is returned by ContactsAdd when no client was named and
// the address's domain suggests none or several; the candidates were
// printed.
var ErrChooseClient = errors.New("name the client with --client (see the list above)")

// ContactsAdd creates a ClientSuccess contact for an address, in the
// client named or the one its domain suggests, and copies its emails still
// inside the window at once (a pass in the running agent, or here).
func ContactsAdd(ctx context.Context, cfg agent.Config, env Env, in ContactAdd) error {
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	out, err := s.api.AddContact(ctx, agentapi.NewContact{Address: in.Address, Client: in.Client, FirstName: in.First, LastName: in.Last})
	var ce *agentapi.ClientChoiceError
	if errors.As(err, &ce) {
		cands := ce.Candidates
		label := clientsSuggested
		if len(cands) == 0 {
			// None suggested: any client may be the one.
			if sug, serr := s.api.SuggestContact(ctx, in.Address); serr == nil {
				cands, label = sug.Clients, clientsAll
			}
		}
		fmt.Fprintln(env.Stdout, ce.Words)
		printClients(env.Stdout, label, cands)
		return ErrChooseClient
	}
	if err != nil {
		return errors.New(agent.Words(err))
	}
	how := ""
	if in.Client == "" {
		how = " (the client its domain suggests)"
	}
	if out.Existed {
		fmt.Fprintf(env.Stdout, "%s was already a contact of %s%s.\n", strings.ToLower(strings.TrimSpace(in.Address)), out.Client, how)
	} else {
		fmt.Fprintf(env.Stdout, contactAdded, strings.ToLower(strings.TrimSpace(in.Address)), out.Client, how)
	}
	if s.local != nil {
		// No agent runs: the pass that copies its emails runs here.
		sum, err := s.local.PassNow(ctx)
		if err != nil {
			return errors.New(agent.Words(err))
		}
		fmt.Fprintf(env.Stdout, syncedCopied, plural(sum.Counts.Synced, "email"))
		return nil
	}
	if out.Syncing {
		fmt.Fprintln(env.Stdout, copyingNow)
	} else {
		fmt.Fprintln(env.Stdout, copiedNextSync)
	}
	return nil
}

func printClients(w io.Writer, label string, cs []agentapi.ClientChoice) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintln(w, label)
	for _, c := range cs {
		line := fmt.Sprintf("  %-10d %s", c.ID, c.Name)
		if c.Contacts > 0 {
			line += fmt.Sprintf(" (%s at that domain)", plural(c.Contacts, "contact"))
		}
		fmt.Fprintln(w, line)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Activity prints what the Activity list shows: each email considered,
// newest first, with what became of it; only the skipped ones with
// skipped.
func Activity(ctx context.Context, cfg agent.Config, env Env, skipped, asJSON bool) error {
	s, err := openSession(cfg, env)
	if err != nil {
		return err
	}
	defer s.close()
	q := agentapi.ActivityQuery{}
	if skipped {
		q.Show = agentapi.ShowSkipped
	}
	rows, err := s.api.Activity(ctx, q)
	if err != nil {
		return errors.New(agent.Words(err))
	}
	if rows == nil {
		rows = []agentapi.Decision{}
	}
	if asJSON {
		return writeJSON(env.Stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(env.Stdout, noDecisionsYet)
		return nil
	}
	for _, d := range rows {
		when := d.Received
		if when.IsZero() {
			when = d.Time
		}
		subject := d.Subject
		if subject == "" {
			subject = "(no subject)"
		}
		fmt.Fprintf(env.Stdout, "%s  %s\n    %s · %s\n", when.Local().Format("2006-01-02 15:04"), subject, d.Result(), d.Counterpart)
	}
	return nil
}
