package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/match"
	"mailsync/sync/remote"
	"mailsync/sync/sandbox"
)

// decisionsByWhy maps each demo label to the reason Activity shows for its
// messages ("" when synced).
func decisionsByWhy(t *testing.T, e *env, w *sandbox.World) map[string]string {
	t.Helper()
	ds, err := e.engine().Decisions("", 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range ds {
		if it, ok := w.Item(d.MessageID); ok {
			out[it.Why] = d.Reason
		}
	}
	return out
}

// TestPassNeverGuesses: with the fake Graph in its adverse settings (the
// class and sensitivity asked together answered with no properties, a
// Teams chat item listed like mail, a body that always fails), a pass
// copies exactly the labelled mail: never the meeting request, the RSS
// item, the Teams chat or the message marked private, and never a message
// whose class or sensitivity Microsoft 365 does not give even asked alone;
// Activity says why. With the combined $expand answered, the same lands
// without asking again.
func TestPassNeverGuesses(t *testing.T) {
	for _, answered := range []bool{false, true} {
		w := sandbox.Demo(testNow)
		e := newEnv(t, w)
		if answered {
			e.g.SetCombinedExpand(graphtest.CombinedExpandAnswered)
		}
		e.clock.Set(testNow)
		count := &factsCounter{Mailbox: e.mb}
		if _, err := e.engine().Pass(context.Background(), count, e.api, nil); err != nil {
			t.Fatal(err)
		}
		sameLanding(t, landed(e.c), w.Expected())
		why := decisionsByWhy(t, e, w)
		for label, reason := range map[string]string{
			sandbox.WhyNoClass:            string(match.ClassUnknown),
			sandbox.WhyNoSensitivity:      string(match.SensitivityUnknown),
			sandbox.WhySensitivityPrivate: string(match.SensitivityPrivate),
			sandbox.WhyTeamsChat:          "not an email (Teams chat)",
			sandbox.WhyMeeting:            "not an email (meeting request)",
			sandbox.WhyRSS:                "not an email (RSS item)",
			sandbox.WhyFrom:               "",
		} {
			if got := why[label]; got != reason {
				t.Errorf("answered %v: %q: Activity says %q, want %q", answered, label, got, reason)
			}
		}
		if got := why[sandbox.WhyUnreadable]; !strings.HasPrefix(got, reasonNoText) {
			t.Errorf("answered %v: the unreadable message: %q", answered, got)
		}
		// Asked alone: the messages that would be copied but for the
		// facts the list left out (with the combined $expand answered,
		// only the two that lack one), never the others.
		if answered && count.asked != 2 || !answered && (count.asked <= 2 || count.asked >= len(w.Messages)) {
			t.Errorf("answered %v: the class and sensitivity were asked alone for %d messages", answered, count.asked)
		}
	}
}

// factsCounter counts the messages whose class and sensitivity are asked
// for alone.
type factsCounter struct {
	Mailbox
	asked int
}

func (c *factsCounter) ClassAndSensitivity(ctx context.Context, ids []string, fn func(string, []graph.ExtendedProperty, error) error) error {
	c.asked += len(ids)
	return c.Mailbox.ClassAndSensitivity(ctx, ids, fn)
}

// factsRefused is a Mailbox whose ClassAndSensitivity always fails.
type factsRefused struct{ Mailbox }

func (factsRefused) ClassAndSensitivity(ctx context.Context, ids []string, fn func(string, []graph.ExtendedProperty, error) error) error {
	for _, id := range ids {
		if err := fn(id, nil, &remote.Error{Service: "graph", Kind: remote.Permanent, Status: 500, Message: "HTTP 500"}); err != nil {
			return err
		}
	}
	return nil
}

// TestPassFactsRefusedCopiesNothingUnknown: when Graph refuses the class
// and sensitivity asked alone as well, nothing is copied on a guess, and
// the next pass, with Graph answering, copies what the labels say.
func TestPassFactsRefusedCopiesNothingUnknown(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.clock.Set(testNow)
	s, err := e.engine().Pass(context.Background(), factsRefused{e.mb}, e.api, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.c.AllInteractions()); n != 0 || s.Counts.Uploads != 0 {
		t.Fatalf("%d interactions created (%d uploads) without knowing any class or sensitivity", n, s.Counts.Uploads)
	}
	if s.Counts.Skipped[string(match.ClassUnknown)] == 0 {
		t.Errorf("skipped %v, want messages skipped because their class is unknown", s.Counts.Skipped)
	}
	e.mustPass(testNow.Add(time.Hour))
	want := map[int64][]string{}
	for c, ids := range w.Expected() {
		for _, id := range ids {
			// The edge message is out of the window an hour later.
			if it, _ := w.Item(id); it.Why != sandbox.WhyEdge {
				want[c] = append(want[c], id)
			}
		}
	}
	sameLanding(t, landed(e.c), want)
}

// stalledList is a Mailbox whose list never answers until its context
// ends.
type stalledList struct{ Mailbox }

func (stalledList) ListMessages(ctx context.Context, since time.Time, fn func([]graph.Message) error) error {
	<-ctx.Done()
	return &remote.Error{Service: "graph", Op: "list messages", Kind: remote.Transient, Err: ctx.Err()}
}

// TestPassDeadline: a pass that runs past Engine.PassTimeout stops, says
// so in words, and leaves the window where it was.
func TestPassDeadline(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	eng := e.engine()
	eng.PassTimeout = 50 * time.Millisecond
	e.clock.Set(testNow)
	_, err := eng.Pass(context.Background(), stalledList{e.mb}, e.api, nil)
	var long *passTooLongError
	if !errors.As(err, &long) {
		t.Fatalf("err = %v, want the pass stopped by its deadline", err)
	}
	if got := Describe(err); !strings.Contains(got, "longer than") {
		t.Errorf("Describe = %q", got)
	}
	m, merr := e.store.Meta()
	if merr != nil {
		t.Fatal(merr)
	}
	if !m.LastSuccessStart.IsZero() {
		t.Errorf("meta after the stopped pass: %+v", m)
	}
	// A pass cancelled by its caller is not a deadline.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	eng.PassTimeout = time.Hour
	if _, err := eng.Pass(ctx, stalledList{e.mb}, e.api, nil); errors.As(err, &long) {
		t.Errorf("a cancelled pass reported as too long: %v", err)
	}
	if DefaultPassTimeout < time.Hour {
		t.Errorf("DefaultPassTimeout %v is shorter than a first pass over 100,000 messages may take", DefaultPassTimeout)
	}
}
