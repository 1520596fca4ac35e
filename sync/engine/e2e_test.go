package engine

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/crmtest"
	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/remote"
	"mailsync/sync/sandbox"
)

// testNow is the demo world's "now": whole seconds, as Graph's filter is.
var testNow = time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC)

// fastPolicy keeps retries in tests short; Retry-After still counts.
var fastPolicy = remote.Policy{MaxAttempts: 6, BaseDelay: 5 * time.Millisecond, MaxDelay: 2 * time.Second}

// clock is an injected clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	t   time.Time
	set time.Time // real time of the last Set
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.set = t, time.Now()
}

// Running is the clock's time plus the real time since it was last set:
// for the fakes, whose Retry-After deadlines must pass while a pass waits.
func (c *clock) Running() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.Add(time.Since(c.set))
}

// bearer adds the access token Graph wants; the fake accepts any.
type bearer struct{ base http.RoundTripper }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer test-token")
	return b.base.RoundTrip(r)
}

// env is a world loaded into the fakes, the real clients pointed at them and
// a state file on disk.
type env struct {
	t     *testing.T
	world *sandbox.World
	g     *graphtest.Graph
	c     *crmtest.CRM
	mb    *graph.Client
	api   *crm.API
	dir   string
	store *storage.Store
	clock *clock
	// progress is every position the last pass reported.
	progress []Progress
	// eng is the one Engine of the agent, kept from pass to pass.
	eng *Engine
}

func newEnv(t *testing.T, w *sandbox.World) *env {
	t.Helper()
	e := &env{t: t, world: w, g: graphtest.NewGraph(), c: crmtest.NewCRM(), dir: t.TempDir(), clock: &clock{t: w.Now, set: time.Now()}}
	t.Cleanup(e.g.Close)
	t.Cleanup(e.c.Close)
	// The fake ClientSuccess keeps the engine's time (running on within a
	// pass), and its contacts were made a month before the first pass, as
	// in a real account.
	e.c.SetClock(e.clock.Running)
	// So does the fake Graph, for the lastModifiedDateTime of a move or a
	// read flag.
	e.g.SetClock(e.clock.Running)
	e.clock.Set(w.Now.Add(-30 * 24 * time.Hour))
	w.Load(e.g, e.c)
	e.clock.Set(w.Now)
	e.mb = graph.NewClient(e.g.URL, &http.Client{Transport: bearer{http.DefaultTransport}, Timeout: 30 * time.Second})
	e.mb.Policy = fastPolicy
	e.api = crm.NewClient(e.c.URL, w.CRMUser, func() (string, error) { return w.CRMPassword, nil }, nil)
	e.api.Policy = fastPolicy
	e.open()
	if err := e.store.SaveSettings(sandbox.Settings(), storage.AppSettings{StartAtLogin: true}); err != nil {
		t.Fatal(err)
	}
	// The world's labels assume the account was connected at w.Now, as the
	// agent records on connect; a pass that fails before it starts must not
	// move that.
	if err := e.store.UpdateMeta(func(m *storage.Meta) { m.ConnectedAt = w.Now }); err != nil {
		t.Fatal(err)
	}
	// Signed in to ClientSuccess, as the agent records: the ledger keeps
	// the uploads under that account.
	if _, err := e.store.SwitchCRMUser(w.CRMUser); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	return e
}

func (e *env) open() {
	e.t.Helper()
	// A new process: a new Engine, which remembers nothing.
	e.eng = nil
	s, err := storage.Open(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = s
}

// reopen closes and reopens the state file, as a restart does.
func (e *env) reopen() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

// engine is the env's Engine, one for every pass, as the agent keeps one.
func (e *env) engine() *Engine {
	if e.eng == nil {
		e.eng = &Engine{Store: e.store, Now: e.clock.Now}
	}
	return e.eng
}

// pass runs one pass at time at with the real clients.
func (e *env) pass(at time.Time) (Summary, error) {
	e.clock.Set(at)
	e.progress = nil
	return e.engine().Pass(context.Background(), e.mb, e.api, func(p Progress) { e.progress = append(e.progress, p) })
}

func (e *env) mustPass(at time.Time) Summary {
	e.t.Helper()
	s, err := e.pass(at)
	if err != nil {
		e.t.Fatalf("pass at %v: %v", at, err)
	}
	return s
}

// landed returns, per client, the sorted Message-IDs found in the notes of
// the fake CRM's interactions, duplicates kept, parsed here without the
// engine's code.
func landed(c *crmtest.CRM) map[int64][]string {
	return c.MessageIDs()
}

func sameLanding(t *testing.T, got, want map[int64][]string) {
	t.Helper()
	for _, c := range slices.Sorted(maps.Keys(want)) {
		if !slices.Equal(got[c], want[c]) {
			t.Errorf("client %d:\n got  %q\n want %q", c, got[c], want[c])
		}
	}
	for c, ids := range got {
		if _, ok := want[c]; !ok {
			t.Errorf("client %d got %q, want nothing", c, ids)
		}
	}
}

func countUploads(m map[int64][]string) int {
	n := 0
	for _, ids := range m {
		n += len(ids)
	}
	return n
}

func TestPassDemoLandsWhereLabelsSay(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	want := w.Expected()

	s := e.mustPass(testNow)
	sameLanding(t, landed(e.c), want)
	if s.Counts.Uploads != countUploads(want) {
		t.Errorf("Uploads = %d, want %d", s.Counts.Uploads, countUploads(want))
	}
	if s.Counts.Listed == 0 || s.Counts.Synced == 0 || len(s.Counts.Skipped) == 0 {
		t.Errorf("counts = %+v", s.Counts)
	}
	if !s.WindowStart.Equal(testNow.Add(-24 * time.Hour)) {
		t.Errorf("WindowStart = %v, want connect - 24 h", s.WindowStart)
	}
	// The progress starts at nothing, never goes down, and ends with
	// every listed message done.
	if len(e.progress) < 2 || e.progress[0] != (Progress{}) {
		t.Errorf("progress = %v, want a start at zero and more", e.progress)
	}
	for i := 1; i < len(e.progress); i++ {
		if p, q := e.progress[i-1], e.progress[i]; q.Done < p.Done || q.Total < p.Total {
			t.Errorf("progress went down: %v then %v", p, q)
		}
	}
	if last := e.progress[len(e.progress)-1]; last.Done != s.Counts.Listed || last.Total != s.Counts.Listed {
		t.Errorf("last progress %v, want %d of %d", last, s.Counts.Listed, s.Counts.Listed)
	}
	if s.SyncedToday != s.Counts.Synced {
		t.Errorf("SyncedToday = %d, want the %d copied by the day's only pass", s.SyncedToday, s.Counts.Synced)
	}
	m, err := e.store.Meta()
	if err != nil {
		t.Fatal(err)
	}
	if !m.LastSuccessStart.Equal(testNow) || !m.ConnectedAt.Equal(testNow) {
		t.Errorf("meta = %+v", m)
	}

	// The fake answered creates both ways (the object, and an empty body
	// with Location), and every one was recorded.
	if st := e.c.Stats(); st.CreatedWithBody == 0 || st.CreatedWithLocation == 0 {
		t.Errorf("creates answered with body %d, with Location %d; want both in one run", st.CreatedWithBody, st.CreatedWithLocation)
	}

	// Every interaction is an Email with its contacts and a header block.
	for _, in := range e.c.AllInteractions() {
		if in.InteractionTypeID != crm.InteractionTypeEmail || len(in.ContactIDs) == 0 || in.Subject == "" {
			t.Errorf("interaction %+v", in)
		}
		for _, h := range []string{"<p>From: ", "<br>Date: ", "<br>Message-ID: &lt;"} {
			if !strings.Contains(in.Note, h) {
				t.Errorf("note of %q lacks %q:\n%s", in.Subject, h, in.Note)
			}
		}
	}

	// The second pass, an hour later, uploads nothing, even after the
	// user moves a synced message to another folder (a new id, the same
	// Message-ID) and a contact is added.
	for _, it := range w.Messages {
		if it.Why == sandbox.WhyFrom {
			e.g.MoveMessage(it.Msg.ID, sandbox.FolderArchive)
			break
		}
	}
	e.c.AddContact(crm.Contact{ClientID: sandbox.ClientNorthwind, Email: "new.contact@northwind.example"})
	s2 := e.mustPass(testNow.Add(time.Hour))
	if s2.Counts.Uploads != 0 || s2.Counts.Already == 0 {
		t.Errorf("second pass counts = %+v", s2.Counts)
	}
	sameLanding(t, landed(e.c), want)

	// The Activity list: every message decided, searchable.
	all, err := e.engine().Decisions("", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || !all[0].Received.After(all[len(all)-1].Received) {
		t.Fatalf("decisions not newest first: %d", len(all))
	}
	nw, err := e.engine().Decisions("northwind traders", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(nw) != len(want[sandbox.ClientNorthwind]) {
		t.Errorf("decisions for Northwind = %d, want %d", len(nw), len(want[sandbox.ClientNorthwind]))
	}
	for _, d := range nw {
		if !d.Synced || !slices.Contains(d.Clients, "Northwind Traders") {
			t.Errorf("decision %+v", d)
		}
	}
	bcc, err := e.engine().Decisions("only in bcc", 1)
	if err != nil || len(bcc) != 1 || bcc[0].Synced {
		t.Errorf("Bcc decision = %+v, %v", bcc, err)
	}
	folderReasons(t, e)
}

// folderReasons checks that the Activity list names the folder a message
// was skipped for, as a person reads it, for each excluded folder of the
// demo world.
func folderReasons(t *testing.T, e *env) {
	t.Helper()
	all, err := e.engine().Decisions("", 0)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Decision{}
	for _, d := range all {
		byID[d.MessageID] = d
	}
	want := map[string]string{
		sandbox.WhyJunk:        "junk folder",
		sandbox.WhyDraft:       "draft",
		sandbox.WhyConvHistory: "conversation history",
		sandbox.WhySyncIssues:  "sync issues",
		sandbox.WhyOutbox:      "outbox",
		sandbox.WhyClutter:     "clutter folder",
	}
	checked := map[string]int{}
	for _, it := range e.world.Messages {
		reason, ok := want[it.Why]
		if !ok {
			continue
		}
		checked[it.Why]++
		d, found := byID[it.Msg.InternetMessageID]
		if !found {
			t.Errorf("%s: no decision recorded for %q", it.Why, it.Msg.Subject)
			continue
		}
		if d.Synced || d.Reason != reason {
			t.Errorf("%s: decision for %q = synced %v, reason %q; want skipped: %q", it.Why, it.Msg.Subject, d.Synced, d.Reason, reason)
		}
	}
	for why := range want {
		if checked[why] == 0 {
			t.Errorf("the demo world has no %q message", why)
		}
	}
}

// TestPassOldFolderCache: a folder cache written before the folder kinds
// were kept (bare ids) is asked for again, so skips still name the folder.
func TestPassOldFolderCache(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	old := []string{sandbox.FolderJunk, sandbox.FolderDrafts, sandbox.FolderConvHistory, sandbox.FolderOutbox,
		sandbox.FolderClutter, sandbox.FolderSyncIssues, sandbox.FolderConflicts, sandbox.FolderLocalFailures, sandbox.FolderServerFailures}
	if err := e.store.PutCached(storage.ExcludedFolders, old, testNow); err != nil {
		t.Fatal(err)
	}
	e.mustPass(testNow)
	sameLanding(t, landed(e.c), w.Expected())
	folderReasons(t, e)
	var fresh []graph.ExcludedFolder
	if _, err := e.store.GetCached(storage.ExcludedFolders, &fresh); err != nil || len(fresh) < len(old) {
		t.Errorf("folder cache after the pass = %v, %v; want the folders with their kinds", fresh, err)
	}
}

// TestPassLateContacts runs hourly passes for a day and a half; the Tailspin
// contacts are added 23 h and 25 h after their messages arrived.
func TestPassLateContacts(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	added := make([]bool, len(w.Late))
	for h := 0; h <= 36; h++ {
		at := testNow.Add(time.Duration(h) * time.Hour)
		for i, l := range w.Late {
			if !added[i] && !at.Before(l.Received.Add(l.After)) {
				w.AddLate(e.c, l)
				added[i] = true
			}
		}
		e.mustPass(at)
	}
	if !added[0] || !added[1] {
		t.Fatal("late contacts were not added")
	}
	sameLanding(t, landed(e.c), w.ExpectedAfterLate())
}

func TestPassCatchUpAfterDaysOff(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	e.mustPass(testNow)
	back := testNow.Add(72 * time.Hour)
	items := sandbox.CatchUp(testNow.Add(time.Minute), back.Add(-time.Minute), 30, 1)
	want := w.Expected()
	for _, it := range items {
		e.g.AddMessage(it.Msg, it.Body)
		for _, c := range it.Expect {
			want[c] = append(want[c], it.Msg.InternetMessageID)
		}
	}
	for _, ids := range want {
		slices.Sort(ids)
	}
	s := e.mustPass(back)
	if s.Counts.Uploads != len(items) {
		t.Errorf("catch-up pass uploaded %d, want %d", s.Counts.Uploads, len(items))
	}
	if !s.WindowStart.Equal(testNow.Add(-SkewMargin)) {
		t.Errorf("catch-up window starts %v, want just before the last pass", s.WindowStart)
	}
	sameLanding(t, landed(e.c), want)
}
