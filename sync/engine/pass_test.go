package engine

import (
	"context"
	"errors"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/crmtest"
	"mailsync/sync/graph"
	"mailsync/sync/match"
	"mailsync/sync/remote"
	"mailsync/sync/sandbox"
)

func TestWindowStart(t *testing.T) {
	c := testNow
	h := time.Hour
	tests := []struct {
		name      string
		last, now time.Time
		want      time.Time
	}{
		{"first pass takes 24 h before connect", time.Time{}, c, c.Add(-24 * h)},
		{"first pass that failed until later", time.Time{}, c.Add(5 * h), c.Add(-24 * h)},
		{"hourly pass: 24 h back from now", c.Add(10 * h), c.Add(11 * h), c.Add(-13 * h)},
		{"hourly pass soon after connect", c, c.Add(h), c.Add(-23 * h)},
		{"catch-up after 3 days: the gap", c, c.Add(72 * h), c.Add(-SkewMargin)},
		{"never before connect - 24 h", c.Add(-30 * h), c.Add(-29 * h), c.Add(-24 * h)},
		{"catch-up after 29 days: the gap", c, c.Add(29 * 24 * h), c.Add(-SkewMargin)},
		{"catch-up after 40 days: 30 days", c, c.Add(40 * 24 * h), c.Add(10 * 24 * h)},
		{"first pass 40 days after connect: 30 days", time.Time{}, c.Add(40 * 24 * h), c.Add(10 * 24 * h)},
	}
	for _, tt := range tests {
		if got := WindowStart(c, tt.last, tt.now); !got.Equal(tt.want) {
			t.Errorf("%s: WindowStart = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNoteHeaderAndLimit(t *testing.T) {
	m := &graph.Message{
		InternetMessageID: "<A1@x.example>",
		From:              &graph.Recipient{EmailAddress: graph.EmailAddress{Name: "Ann\nMessage-ID: <forged@x>", Address: "ann@x.example"}},
		ToRecipients:      []graph.Recipient{{EmailAddress: graph.EmailAddress{Address: "me@y.example"}}},
		SentDateTime:      testNow,
	}
	note := buildNote(m, graph.Body{ContentType: "text", Content: "héllo wörld"}, 5, time.UTC)
	if got := messageIDOfNote(note); got != "<a1@x.example>" {
		t.Errorf("Message-ID of note = %q\n%s", got, note)
	}
	if strings.Contains(note, "\n") {
		t.Errorf("note holds a raw newline:\n%s", note)
	}
	if !strings.HasSuffix(note, "<p>héllo</p><p>[… shortened by Mail Sync: 6 more characters]</p>") {
		t.Errorf("note body not cut at 5 characters:\n%s", note)
	}
	if !strings.HasPrefix(note, "<p>From: Ann Message\u2011ID: &lt;forged@x&gt; &lt;ann@x.example&gt;<br>To: me@y.example<br>Date: Mon, 09 Mar 2026 15:00:00 +0000<br>Message-ID: &lt;a1@x.example&gt;</p>") {
		t.Errorf("header block:\n%s", note)
	}
	if in := buildNote(m, graph.Body{}, 0, time.FixedZone("", 10*3600)); !strings.Contains(in, "Date: Tue, 10 Mar 2026 01:00:00 +1000<br>") {
		t.Errorf("Date not in the person's zone:\n%s", in)
	}
	full := buildNote(m, graph.Body{ContentType: "html", Content: "<p>a &amp; b</p><style>x{}</style>c<br>d &lt;e@f&gt;\r\n\r\nlast"}, 0, time.UTC)
	if !strings.HasSuffix(full, "</p><p>a &amp; b<br>c<br>d &lt;e@f&gt;</p><p>last</p>") {
		t.Errorf("html body, paragraphs kept:\n%s", full)
	}
}

// ClientSuccess may give a note back as sent, HTML-escaped, with <br> for
// newlines, or with its tags stripped (docs/evidence.md, notes): the finder reads
// the Message-ID in every form, and never one from the body.
func TestMessageIDOfNoteInEveryForm(t *testing.T) {
	m := &graph.Message{
		InternetMessageID: "<A1.b+c@x.example>",
		From:              &graph.Recipient{EmailAddress: graph.EmailAddress{Name: "Ann", Address: "ann@x.example"}},
		SentDateTime:      testNow,
	}
	note := buildNote(m, graph.Body{ContentType: "text", Content: "Hi\n\n> Message-ID: <quoted@x>\n> more"}, 0, time.UTC)
	strip := func(s string) string {
		return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(s, ""))
	}
	stripLines := func(s string) string {
		return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(strings.ReplaceAll(s, "<br>", "\n"), "\n"))
	}
	forms := map[string]string{
		"as sent":                 note,
		"escaped":                 html.EscapeString(note),
		"escaped twice":           html.EscapeString(html.EscapeString(note)),
		"escaped, <br>":           strings.ReplaceAll(html.EscapeString(note+"\n"), "\n", "<br>"),
		"tags stripped":           strip(note),
		"stripped keeping lines":  stripLines(note),
		"tags stripped, entities": regexp.MustCompile(`<[^>]*>`).ReplaceAllString(note, ""),
		"sanitized wrapper":       `<div class="note">` + note + `</div>`,
		"old plain text":          "From: Ann <ann@x.example>\nDate: x\nMessage-ID: <A1.b+c@x.example>\n\nHi",
	}
	for name, n := range forms {
		if got := messageIDOfNote(n); got != "<a1.b+c@x.example>" {
			t.Errorf("%s: Message-ID = %q\n%s", name, got, n)
		}
	}
	for name, n := range map[string]string{
		"plain body quote": "From: a\n\nbody\n",
		"empty":            "",
		"no header":        "<p>Hello</p>",
		"id left empty":    "<p>From: a<br>Message-ID: </p><p>body</p>",
	} {
		if got := messageIDOfNote(n); got != "" {
			t.Errorf("%s: Message-ID = %q, want none", name, got)
		}
	}
}

// crashCRM wraps the real client: it cancels the pass after `after`
// successful creates, like a kill at that upload boundary, and can make
// create number lieAt fail as ambiguous after ClientSuccess applied it.
type crashCRM struct {
	CRM
	mu      sync.Mutex
	creates int
	after   int // -1: never cancel
	lieAt   int // 0: never
	cancel  context.CancelFunc
}

func (c *crashCRM) CreateInteraction(ctx context.Context, clientID int64, in crm.Interaction) (crm.Interaction, error) {
	out, err := c.CRM.CreateInteraction(ctx, clientID, in)
	if err != nil {
		return out, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.creates++
	if c.creates == c.lieAt {
		return crm.Interaction{}, &remote.Error{Service: "crm", Op: "create interaction", Kind: remote.Transient,
			Message: "the connection to ClientSuccess broke before it confirmed the change", Err: crm.ErrAmbiguous}
	}
	if c.creates == c.after && c.cancel != nil {
		c.cancel()
	}
	return out, nil
}

// TestPassCrashAtEveryUpload kills the first pass after k creates, for
// every k, restarts (reopening the state file) and lets a pass finish:
// every expected interaction exists exactly once.
func TestPassCrashAtEveryUpload(t *testing.T) {
	want := sandbox.Demo(testNow).Expected()
	n := countUploads(want)
	for k := 0; k <= n; k++ {
		t.Run(fmt.Sprint("after ", k), func(t *testing.T) {
			e := newEnv(t, sandbox.Demo(testNow))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wrap := &crashCRM{CRM: e.api, after: k, cancel: cancel}
			if k == 0 {
				cancel()
			}
			e.clock.Set(testNow)
			_, err := e.engine().Pass(ctx, e.mb, wrap, nil)
			wrap.mu.Lock()
			made := wrap.creates
			wrap.mu.Unlock()
			// Creates already in flight when the kill comes may finish; a
			// pass that made them all has not been cut short.
			if k < n && err == nil && made < n {
				t.Fatalf("pass cancelled after %d of %d creates succeeded, and %d made", k, n, made)
			}
			e.reopen()
			s := e.mustPass(testNow.Add(10 * time.Minute))
			sameLanding(t, landed(e.c), want)
			if pend, err := e.store.PendingJobs(); err != nil || len(pend) != 0 {
				t.Errorf("pending after the clean pass: %v, %v", pend, err)
			}
			if k > 0 && k < n && s.Counts.Uploads+k > n+UploadsInFlight {
				t.Errorf("clean pass uploaded %d after %d were made", s.Counts.Uploads, k)
			}
		})
	}
}

// TestPassPostedButNotRecorded: ClientSuccess applies a create but the
// answer is lost. The pass fails, the job stays pending, and the next pass
// finds the interaction by its Message-ID instead of posting it again.
func TestPassPostedButNotRecorded(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	want := w.Expected()
	wrap := &crashCRM{CRM: e.api, after: -1, lieAt: 3}
	e.clock.Set(testNow)
	_, err := e.engine().Pass(context.Background(), e.mb, wrap, nil)
	if err == nil || !crm.IsAmbiguous(err) {
		t.Fatalf("pass error = %v, want an ambiguous create", err)
	}
	if o := OutcomeOf(err); o.Stopped || o.Reconnect || o.Words == "" || strings.Contains(o.Words, "http") {
		t.Errorf("outcome = %+v", o)
	}
	if m, _ := e.store.Meta(); !m.LastSuccessStart.IsZero() {
		t.Errorf("failed pass moved the window: %+v", m)
	}
	pend, err := e.store.PendingJobs()
	if err != nil || len(pend) != 1 {
		t.Fatalf("pending = %v, %v; want the one unconfirmed upload", pend, err)
	}
	e.reopen()
	s := e.mustPass(testNow.Add(time.Hour))
	if s.Pending != 1 {
		t.Errorf("Pending = %d, want 1", s.Pending)
	}
	if s.Counts.Uploads != 0 {
		t.Errorf("clean pass uploaded %d; everything else was done", s.Counts.Uploads)
	}
	sameLanding(t, landed(e.c), want)
	target := storage.Target{Key: pend[0].Key, ClientID: pend[0].ClientID}
	if st, err := e.store.UploadStates(storage.CRMAccount(sandbox.CRMUser), []storage.Target{target}); err != nil || st[0] != storage.Uploaded {
		t.Errorf("found upload not in the ledger: %v %v", st, err)
	}
}

// TestPassPostedButNotRecordedNoteTransformed: the create is applied, the
// answer lost, and ClientSuccess gives the note back transformed (each
// form docs/evidence.md leaves possible): the next pass still finds it, posts
// nothing twice, and every expected interaction lands once.
func TestPassPostedButNotRecordedNoteTransformed(t *testing.T) {
	for _, form := range []crmtest.NoteForm{crmtest.NoteEscaped, crmtest.NoteStripped, crmtest.NoteBreaks, crmtest.NoteAsSent} {
		t.Run(fmt.Sprint("form ", int(form)), func(t *testing.T) {
			w := sandbox.Demo(testNow)
			e := newEnv(t, w)
			e.c.SetNoteForm(form)
			wrap := &crashCRM{CRM: e.api, after: -1, lieAt: 2}
			e.clock.Set(testNow)
			if _, err := e.engine().Pass(context.Background(), e.mb, wrap, nil); !crm.IsAmbiguous(err) {
				t.Fatalf("pass error = %v, want an ambiguous create", err)
			}
			e.reopen()
			s := e.mustPass(testNow.Add(time.Hour))
			if s.Pending != 1 || s.Counts.Uploads != 0 {
				t.Errorf("Pending = %d, Uploads = %d; want the one found, nothing posted", s.Pending, s.Counts.Uploads)
			}
			sameLanding(t, landed(e.c), w.Expected())
		})
	}
}

// TestPendingFoundOnPage3: every client's timeline already holds 250
// interactions, so the one left pending is past the fifth page of the
// note search (whose pages the fake caps at 50); the look-up reads every
// page and finds it.
func TestPendingFoundOnPage3(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	// Every client's timeline: wherever the pending upload goes, it lands
	// after 250 others.
	for c := range w.Expected() {
		for i := range 250 {
			if _, err := e.api.CreateInteraction(context.Background(), c, crm.Interaction{
				InteractionTypeID: crm.InteractionTypeEmail, Subject: "older", InteractionDate: testNow,
				Note: fmt.Sprintf("<p>From: x<br>Message-ID: &lt;older-%d@x&gt;</p>", i),
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Lie about the last create of the pass: it lands after the 250.
	wrap := &crashCRM{CRM: e.api, after: -1, lieAt: countUploads(w.Expected())}
	e.clock.Set(testNow)
	if _, err := e.engine().Pass(context.Background(), e.mb, wrap, nil); !crm.IsAmbiguous(err) {
		t.Fatalf("pass error = %v, want an ambiguous create", err)
	}
	pend, err := e.store.PendingJobs()
	if err != nil || len(pend) != 1 {
		t.Fatalf("pending = %v, %v", pend, err)
	}
	e.reopen()
	before := e.c.Stats().ByRoute["GET /v2/clientNote/search"]
	s := e.mustPass(testNow.Add(time.Hour))
	if s.Pending != 1 || s.Counts.Uploads != 0 {
		t.Errorf("Pending = %d, Uploads = %d; want the one found, nothing posted", s.Pending, s.Counts.Uploads)
	}
	if n := e.c.Stats().ByRoute["GET /v2/clientNote/search"] - before; n < 6 {
		t.Errorf("%d pages read, want at least 6", n)
	}
	got := landed(e.c)
	for c := range got {
		got[c] = slices.DeleteFunc(got[c], func(id string) bool { return strings.HasPrefix(id, "<older-") })
	}
	sameLanding(t, got, w.Expected())
}

// TestPassResetAfterApply uses the fake's own fault: the POST is stored,
// then the connection is reset.
func TestPassResetAfterApply(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.c.SetFaults(crmtest.Faults{Rate: 0.3, Kinds: []crmtest.FaultKind{crmtest.ResetAfterApply}, Seed: 7})
	failed := 0
	for i := range 10 {
		_, err := e.pass(testNow.Add(time.Duration(i) * time.Minute))
		if err == nil {
			break
		}
		failed++
		e.reopen()
	}
	if failed == 0 {
		t.Error("no pass met a reset after apply")
	}
	e.c.SetFaults(crmtest.Faults{})
	e.mustPass(testNow.Add(time.Hour))
	sameLanding(t, landed(e.c), w.Expected())
}

// TestPassRefusedSignIn: a refused ClientSuccess sign-in asks the person to
// sign in to ClientSuccess again, in words; it is not a Microsoft
// reconnect, so the next pass tries again by itself. The engine leaves the
// state facts in Meta to the agent's loop.
func TestPassRefusedSignIn(t *testing.T) {
	e := newEnv(t, sandbox.Demo(testNow))
	bad := crm.NewClient(e.c.URL, sandbox.CRMUser, func() (string, error) { return "wrong", nil }, nil)
	bad.Policy = fastPolicy
	e.clock.Set(testNow)
	_, err := e.engine().Pass(context.Background(), e.mb, bad, nil)
	if !remote.IsNeedsReconnect(err) {
		t.Fatalf("err = %v, want needs reconnect", err)
	}
	o := OutcomeOf(err)
	m, _ := e.store.Meta()
	if o.Stopped || o.Reconnect || !strings.Contains(o.Words, "ClientSuccess rejected the username or password") ||
		m.LastError != "" || m.NeedsReconnect != "" {
		t.Errorf("outcome %+v, meta %+v", o, m)
	}
	if len(e.c.AllInteractions()) != 0 {
		t.Error("uploads without a sign-in")
	}
	e.mustPass(testNow.Add(time.Hour))
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("engine: look up contacts: %w", &remote.Error{Service: "crm", Kind: remote.Transient, Message: crm.ErrMaintenance.Error(), Err: crm.ErrMaintenance}), "ClientSuccess is down for maintenance"},
		{&remote.Error{Service: "graph", Kind: remote.NeedsReconnect, Code: "invalid_grant"}, "Microsoft 365 needs you to connect again"},
		{&remote.Error{Service: "crm", Kind: remote.Transient, Message: "could not reach ClientSuccess", Err: errors.New("dial tcp 10.0.0.1:443")}, "Could not reach ClientSuccess"},
		{&remote.Error{Service: "graph", Kind: remote.Transient, Message: "the service is busy"}, "Microsoft 365: the service is busy"},
		{fmt.Errorf("engine: %w", context.Canceled), "The sync was stopped before it finished"},
		{errors.New("open https://x.example/?token=1"), "The sync failed; Mail Sync will try again"},
	}
	for _, tt := range tests {
		if got := Describe(tt.err); got != tt.want {
			t.Errorf("Describe(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// TestDecisionsCapped: the Activity list keeps the newest DecisionsKept.
func TestDecisionsCapped(t *testing.T) {
	s, err := storage.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := &pass{e: &Engine{Store: s}, counts: PassCounts{Skipped: map[string]int{}}, names: map[int64]string{}}
	msgs := make([]graph.Message, DecisionsKept+10)
	items := make([]item, len(msgs))
	for i := range msgs {
		msgs[i] = graph.Message{ID: fmt.Sprint(i), InternetMessageID: fmt.Sprintf("<%d@x>", i), Subject: fmt.Sprint("s", i), ReceivedDateTime: testNow.Add(time.Duration(i) * time.Second)}
		items[i] = item{msg: &msgs[i], key: storage.LedgerKey(msgs[i].InternetMessageID)}
		items[i].d.Reason = "no ClientSuccess contact"
	}
	if err := p.recordDecisions(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	got, err := p.e.Decisions("", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != DecisionsKept || got[0].Subject != fmt.Sprint("s", len(msgs)-1) || got[len(got)-1].Subject != "s10" {
		t.Errorf("kept %d, first %q, last %q", len(got), got[0].Subject, got[len(got)-1].Subject)
	}
	if p.counts.Skipped["no ClientSuccess contact"] != len(msgs) {
		t.Errorf("skipped = %v", p.counts.Skipped)
	}
}

// The interaction's date is the message's day where the person is: at
// UTC+14 or UTC-12 most demo messages fall on another calendar day than in
// UTC.
func TestInteractionDateInPersonsZone(t *testing.T) {
	for _, loc := range []*time.Location{time.FixedZone("", 14*3600), time.FixedZone("", -12*3600)} {
		w := sandbox.Demo(testNow)
		e := newEnv(t, w)
		e.clock.Set(testNow)
		eng := e.engine()
		eng.Location = loc
		if _, err := eng.Pass(context.Background(), e.mb, e.api, nil); err != nil {
			t.Fatal(err)
		}
		day := map[string]string{}
		for _, it := range w.Messages {
			d := it.Msg.SentDateTime
			if d.IsZero() {
				d = it.Msg.ReceivedDateTime
			}
			day[storage.LedgerKey(it.Msg.InternetMessageID)] = d.In(loc).Format(time.DateOnly)
		}
		ins := e.c.AllInteractions()
		if len(ins) == 0 {
			t.Fatal("nothing uploaded")
		}
		for _, in := range ins {
			want := day[messageIDOfNote(in.Note)]
			if got := in.InteractionDate.Format(time.DateOnly); got != want {
				t.Errorf("%s: interactionDate %s, want %s", in.Subject, got, want)
			}
		}
	}
}

// Uploads left pending by a crash are decided again with the settings of
// the next pass: the person blocked every external domain meanwhile, or
// said that a category every message carries marks private mail, so none
// of them is posted and all are dropped.
func TestPendingUploadsObeyCurrentSettings(t *testing.T) {
	for _, change := range []string{"blocklist", "private"} {
		t.Run(change, func(t *testing.T) {
			w := sandbox.Demo(testNow)
			for i := range w.Messages {
				w.Messages[i].Msg.Categories = append(w.Messages[i].Msg.Categories, "Secret")
			}
			e := newEnv(t, w)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wrap := &crashCRM{CRM: e.api, after: 1, cancel: cancel}
			e.clock.Set(testNow)
			if _, err := e.engine().Pass(ctx, e.mb, wrap, nil); err == nil {
				t.Fatal("the pass was not cut short")
			}
			pend, err := e.store.PendingJobs()
			if err != nil || len(pend) == 0 {
				t.Fatalf("pending = %v, %v; want uploads left by the crash", pend, err)
			}
			s := sandbox.Settings()
			switch change {
			case "blocklist":
				for _, it := range w.Messages {
					for _, r := range append(append([]graph.Recipient{}, it.Msg.ToRecipients...), *it.Msg.From) {
						if entry, ok := match.BlockEntry("@" + strings.SplitN(r.EmailAddress.Address, "@", 2)[1]); ok && !strings.Contains(entry, "contoso") {
							s.Blocklist = append(s.Blocklist, entry)
						}
					}
				}
			case "private":
				// The messages carried the category "Secret" all along;
				// the person now says that category marks private mail.
				s.SkipPrivate, s.PrivateCategory = true, "Secret"
			}
			if err := e.store.SaveSettings(s, storage.AppSettings{StartAtLogin: true}); err != nil {
				t.Fatal(err)
			}
			e.reopen()
			before := len(e.c.AllInteractions())
			posts := e.c.Stats().ByRoute["POST /clients/{id}/interactions"]
			e.mustPass(testNow.Add(10 * time.Minute))
			if left, err := e.store.PendingJobs(); err != nil || len(left) != 0 {
				t.Errorf("pending after the pass: %v, %v", left, err)
			}
			for _, j := range pend {
				for _, in := range e.c.AllInteractions()[before:] {
					if messageIDOfNote(in.Note) == j.Key {
						t.Errorf("pending upload %s posted against the current settings", j.Key)
					}
				}
			}
			if n := e.c.Stats().ByRoute["POST /clients/{id}/interactions"] - posts; n != 0 {
				t.Errorf("%d posts after the change (%s), want none", n, change)
			}
		})
	}
}
