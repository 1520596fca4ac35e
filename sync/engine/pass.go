package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/graph"
	"mailsync/sync/match"
	"mailsync/sync/remote"
)

// Mailbox is what a pass needs from Microsoft Graph (*graph.Client
// implements it).
type Mailbox interface {
	Me(ctx context.Context) (graph.Me, error)
	ExcludedFolders(ctx context.Context) ([]graph.ExcludedFolder, error)
	// ListMessages lists the messages received at or after since, page
	// by page.
	ListMessages(ctx context.Context, since time.Time, fn func(page []graph.Message) error) error
	// ClassAndSensitivity calls fn once for each id with the class and
	// sensitivity properties Graph gives when asked for each alone, or
	// why it could not say.
	ClassAndSensitivity(ctx context.Context, ids []string, fn func(id string, props []graph.ExtendedProperty, err error) error) error
	// Bodies calls fn once for each id with its text body, cut to
	// maxChars characters as it is read, or why it could not be read.
	Bodies(ctx context.Context, ids []string, maxChars int, fn func(id string, body graph.Body, err error) error) error
}

// CRM is what a pass needs from ClientSuccess (*crm.API implements it).
type CRM interface {
	// SearchContacts reads a page of the tenant's contacts (modified since
	// the day of modifiedAfter, when not zero); a Permanent error means
	// the account cannot use the search.
	SearchContacts(ctx context.Context, page, size int, modifiedAfter time.Time) (crm.ContactPage, error)
	// FindContacts looks one address up (exact matches only).
	FindContacts(ctx context.Context, email string) ([]crm.Contact, error)
	GetClient(ctx context.Context, id int64) (crm.Client, error)
	// Clients lists every client of the tenant in one request.
	Clients(ctx context.Context) ([]crm.Client, error)
	// EachNote reads a client's timeline page by page until fn returns
	// false; an error means it could not be read to its end.
	EachNote(ctx context.Context, clientID int64, fn func(crm.Interaction) bool) error
	CreateInteraction(ctx context.Context, clientID int64, in crm.Interaction) (crm.Interaction, error)
}

var _ Mailbox = (*graph.Client)(nil)

// Tuning of a pass.
const (
	// WindowOverlap is how far before the connect time, and before the
	// start of the last successful pass, a pass lists (rule 1).
	WindowOverlap = 24 * time.Hour
	// SkewMargin is how far before the last successful pass a catch-up
	// pass lists, for a local clock ahead of the server's.
	SkewMargin = time.Hour
	// MaxCatchUp is how far back a catch-up pass lists at most: after a
	// long time off, or the same mailbox connected again after a
	// disconnect or a refused sign-in, mail of the last 30 days is caught
	// up and older mail is not.
	MaxCatchUp = 30 * 24 * time.Hour
	// ProfileTTL is how long the user's profile and the excluded folder
	// ids are trusted before they are asked for again.
	ProfileTTL = 24 * time.Hour
	// DecisionsKept is how many decisions the Activity list can show.
	DecisionsKept = 2000
	// LedgerKept is how long past the window start a ledger entry is kept:
	// as far back as a backfill may list (MaxBackfillDays), and a day
	// more, so that a backfill never meets a message whose upload was
	// forgotten.
	LedgerKept = (MaxBackfillDays + 1) * 24 * time.Hour
	// UploadsInFlight is how many interactions are posted at once.
	UploadsInFlight = 4
	// maxAmbiguous is how many uploads with an unknown outcome a pass
	// tolerates before it stops: a few are a flaky network and the rest of
	// the pass is still worth doing; many mean ClientSuccess is in trouble.
	maxAmbiguous = 20
	// DefaultPassTimeout bounds one pass when Engine.PassTimeout is 0. A
	// first pass over 100,000 messages at 50 ms a request takes about 4.5
	// minutes (README, Performance); two hours leaves room for a slow
	// network and throttling, and still ends a pass that hangs.
	DefaultPassTimeout = 2 * time.Hour
)

// Engine runs passes. Set its fields before the first Pass. Passes must
// not overlap: the agent's loop runs one at a time (the engine keeps no
// lock of its own for that). The decisions, the unsure uploads and the
// ledger may be read at any time.
type Engine struct {
	Store *storage.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log may be nil (nothing is logged). Tokens, bodies and passwords are
	// never logged.
	Log *slog.Logger
	// NoteLimit is how many characters of a body go into a note; 0 means
	// DefaultNoteLimit. Longer bodies are cut with a marker.
	NoteLimit int
	// Location is the person's time zone: an interaction's date is the
	// message's date there. nil means time.Local.
	Location *time.Location
	// PassTimeout bounds one pass; 0 means DefaultPassTimeout. A pass
	// that reaches it stops, keeps what it recorded, and leaves the
	// window where it was for the next.
	PassTimeout time.Duration
	// Rules, when set, adjusts the person's stored rules before a pass
	// uses them (the organisation's policy locks some and adds to the
	// blocklist).
	Rules func(*match.Settings)

	// turn orders passes and backfill days: one at a time, passes first.
	turn turn

	// memory is what passes remember of single messages between them.
	memory memory
}

// Summary is the outcome of one pass.
type Summary struct {
	Start, End  time.Time
	WindowStart time.Time
	Counts      PassCounts
	// Pending is how many uploads left unfinished by an earlier pass (a
	// crash, a lost answer) were resolved at the start of this one.
	Pending int
	// SyncedToday is how many messages were copied since the start of the
	// day the pass ended (this pass and earlier ones).
	SyncedToday int
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) location() *time.Location {
	if e.Location != nil {
		return e.Location
	}
	return time.Local
}

func (e *Engine) logger() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// pass is the state of one pass in flight.
type pass struct {
	e   *Engine
	mb  Mailbox
	crm CRM
	log *slog.Logger
	id  string // tells this pass's contact misses from earlier ones
	// account is the ClientSuccess account the uploads go to, as the
	// ledger names it (storage.CRMAccount).
	account string
	start   time.Time
	limit   int

	settings match.Settings
	me       match.Me
	excluded match.Folders
	window   time.Time

	counts  PassCounts
	pending int
	// lookups: the account cannot use the contact search; addresses are
	// looked up one by one (see lookupContacts).
	lookups bool
	// relist: the directory was read in full this pass.
	relist bool
	// addedAt is when a contact was last added to the directory or
	// changed.
	addedAt time.Time
	// retry: a message was skipped for a reason the next pass may not
	// meet (its body could not be read); the next pass, which lists the
	// whole window as every pass does, tries it again.
	retry          bool
	addressLookups int
	directoryPages int
	ambiguous      []error
	names          map[int64]string
	// clientList is every client's name, once listed this pass.
	clientList map[int64]string
	// hist is the recent mail of contacts added since the last pass.
	hist history

	// mu guards progress, and the uploads' outcomes on the pages' items,
	// counts and ambiguous list: a page's uploads finish behind the next
	// page.
	mu       sync.Mutex
	progress Progress
	// onProgress is the caller's progress callback, or nil.
	onProgress func(Progress)
	// poster posts the pass's uploads while it reads mail.
	poster *poster
	// posting is the outcome of the page whose uploads are being posted
	// while the next page is read; nil when none is.
	posting chan error

	// backfill: this is one day of a backfill, not a pass (see
	// backfill.go); dry: a backfill's preview, which uploads nothing and
	// counts what it would copy. copiedTo counts the emails uploaded per
	// client (guarded by mu).
	backfill bool
	dry      *dryCount
	copiedTo map[int64]int
	// doubt is the range of receive times a backfill day leaves out,
	// because the ledger cannot vouch for it (see backfillDoubt).
	doubt doubt
}

// Pass runs one pass: it resolves uploads left pending by an earlier pass,
// lists the mailbox window page by page, matches each message, uploads
// what is taken exactly once per client, records every decision, and moves
// the last-success time only when all of that is recorded. A failed pass
// leaves the window where it was, so the next one covers the gap.
//
// Pass only does the work: it returns the Summary and the error, and the
// caller (the agent's loop) decides what they mean for the state a person
// sees (OutcomeOf) and records it. The pass's own bookkeeping is written
// with its results, in the same transactions: the connect time on the
// first pass, and the window's start, the end time, the counts and the
// pruning in finish, which runs only after the pass's work is recorded.
// progress, when not nil, is called with the position of the pass as it
// moves (first with zero values when the pass starts); the values of one
// pass never go down, and calls may come from several goroutines, one at a
// time. A pass waits for the backfill day in flight, if any (the turn).
func (e *Engine) Pass(ctx context.Context, mb Mailbox, c CRM, progress func(Progress)) (Summary, error) {
	if err := e.turn.acquire(ctx, true); err != nil {
		return Summary{}, fmt.Errorf("engine: wait for the backfill day in flight: %w", err)
	}
	defer e.turn.release()

	limit := e.NoteLimit
	if limit == 0 {
		limit = DefaultNoteLimit
	}
	timeout := e.PassTimeout
	if timeout <= 0 {
		timeout = DefaultPassTimeout
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p := &pass{
		e: e, mb: &bodyReader{Mailbox: mb, e: e}, crm: c, log: e.logger(), start: e.now(), limit: limit,
		id:         strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatUint(rand.Uint64(), 36),
		names:      map[int64]string{},
		onProgress: progress,
	}
	p.counts.Skipped = map[string]int{}
	p.advance(0, 0)
	err := p.run(ctx)
	if err != nil && parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = &passTooLongError{limit: timeout, err: err}
	}
	sum := Summary{Start: p.start, End: e.now(), WindowStart: p.window, Counts: p.counts, Pending: p.pending}
	sum.Counts.Skipped = maps.Clone(p.counts.Skipped)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			p.log.Info("pass stopped before it finished")
		} else {
			p.log.Warn("pass failed", "err", err)
		}
		return sum, err
	}
	today, cerr := e.Store.MessagesUploadedSince(startOfDay(sum.End))
	if cerr != nil {
		p.log.Warn("count today's uploads", "err", cerr)
	}
	sum.SyncedToday = today
	p.log.Info("pass done", "listed", sum.Counts.Listed, "synced", sum.Counts.Synced,
		"uploads", sum.Counts.Uploads, "already", sum.Counts.Already, "pending", sum.Pending,
		"directory_pages", p.directoryPages, "lookups", p.addressLookups, "retry_next_pass", p.retry, "took_ms", sum.End.Sub(sum.Start).Milliseconds())
	return sum, nil
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func (p *pass) run(ctx context.Context) error {
	m, err := p.e.Store.Meta()
	if err != nil {
		return fmt.Errorf("engine: read state: %w", err)
	}
	if m.ConnectedAt.IsZero() {
		// Saved at once, not with the pass's results: a first pass that
		// fails must not move the window's start forward.
		m.ConnectedAt = p.start
		if err := p.e.Store.UpdateMeta(func(m *storage.Meta) { m.ConnectedAt = p.start }); err != nil {
			return fmt.Errorf("engine: save connect time: %w", err)
		}
	}
	p.window = WindowStart(m.ConnectedAt, m.LastSuccessStart, p.start)
	p.account = storage.CRMAccount(m.CRMUser)
	// The directory first: a pending upload may name a contact that has
	// gone since.
	if err := p.refreshDirectory(ctx); err != nil {
		return err
	}
	// The settings, addresses and folders next: a job left pending is
	// decided again with them before it is posted.
	if err := p.prepare(ctx); err != nil {
		return err
	}
	if err := p.loadHistory(m); err != nil {
		return err
	}
	if err := p.resolvePending(ctx); err != nil {
		return err
	}
	p.poster = newPoster(ctx, p)
	// The whole window, every pass: a message moved out of Junk or
	// restored hours after it arrived keeps its received time, and
	// whether its lastModifiedDateTime moves is not documented (see
	// graph.Client.ListMessages). A message already copied is found in the
	// ledger; one whose body could not be read is tried again.
	// When contacts were added and the person wants their recent mail,
	// the one listing reaches back to it (see history).
	err = p.mb.ListMessages(ctx, p.listSince(), func(page []graph.Message) error {
		return p.page(ctx, page)
	})
	p.poster.close()
	// The last page's uploads, or the one in flight when listing failed:
	// nothing of the pass may run after it returns.
	if werr := p.waitPosting(); err == nil && werr != nil {
		return werr
	}
	if err != nil {
		return fmt.Errorf("engine: list messages: %w", err)
	}
	if len(p.ambiguous) > 0 {
		// Uploads whose outcome is unknown stay pending; the window stays
		// where it is and the next pass looks them up first.
		return fmt.Errorf("engine: %d uploads unconfirmed: %w", len(p.ambiguous), p.ambiguous[0])
	}
	return p.finish()
}

// prepare loads the settings, who the user is and the excluded folders.
func (p *pass) prepare(ctx context.Context) error {
	st := p.e.Store
	p.settings = match.DefaultSettings()
	if err := st.Rules(&p.settings); err != nil {
		return fmt.Errorf("engine: read settings: %w", err)
	}
	if p.e.Rules != nil {
		p.e.Rules(&p.settings)
	}

	var me graph.Me
	if err := p.cached(ctx, storage.Profile, &me, func(ctx context.Context) (any, error) {
		m, err := p.mb.Me(ctx)
		if err == nil && len(m.Addresses()) == 0 {
			err = errors.New("the profile holds no e-mail address")
		}
		me = m
		return m, err
	}); err != nil {
		return fmt.Errorf("engine: read the user's profile: %w", err)
	}
	p.me = match.NewMe(me.Addresses())

	// A cache written before the kinds were kept (a list of bare ids) does
	// not decode into this shape; cached then asks Graph again.
	var folders []graph.ExcludedFolder
	if err := p.cached(ctx, storage.ExcludedFolders, &folders, func(ctx context.Context) (any, error) {
		v, err := p.mb.ExcludedFolders(ctx)
		folders = v
		return v, err
	}); err != nil {
		return fmt.Errorf("engine: find excluded folders: %w", err)
	}
	p.excluded = excludedFolders(folders)
	return nil
}

// excludedFolders turns Graph's excluded folders into match.Folders; the
// well-known name is the kind that words the skip reason.
func excludedFolders(fs []graph.ExcludedFolder) match.Folders {
	out := match.Folders{ByID: make(map[string]match.FolderKind, len(fs))}
	for _, f := range fs {
		if f.ID != "" {
			out.ByID[f.ID] = match.FolderKind(f.WellKnownName)
		}
	}
	return out
}

// WindowStart is where a pass starting at now begins listing (rule 1).
// ARCHITECTURE.md's W = max(connect − 24 h, last success − 24 h) bounds it
// from below; within W it is narrowed so that the rule holds to the hour:
//
//   - no successful pass yet: W, i.e. the mail of the 24 hours before
//     connecting (and everything since);
//   - regular passes: now − 24 h, so a message is reconsidered until it is
//     24 hours old and no longer (W alone would keep it for 24 h after the
//     previous pass, up to 25 h with hourly passes);
//   - after days off, or the same mailbox connected again after a
//     disconnect or a refused sign-in: the last successful start less
//     SkewMargin, so the catch-up pass covers the whole gap, plus a margin
//     for a local clock running ahead of Microsoft's;
//
// and never more than MaxCatchUp before now.
func WindowStart(connectedAt, lastSuccessStart, now time.Time) time.Time {
	w := windowStart(connectedAt, lastSuccessStart, now)
	if floor := now.Add(-MaxCatchUp); w.Before(floor) {
		return floor
	}
	return w
}

func windowStart(connectedAt, lastSuccessStart, now time.Time) time.Time {
	w := connectedAt.Add(-WindowOverlap)
	if lastSuccessStart.IsZero() {
		return w
	}
	if l := lastSuccessStart.Add(-WindowOverlap); l.After(w) {
		w = l
	}
	e := now.Add(-WindowOverlap)
	if gap := lastSuccessStart.Add(-SkewMargin); gap.Before(e) {
		e = gap
	}
	if e.After(w) {
		return e
	}
	return w
}

// cached reads the cached value c into v when it is younger than ProfileTTL, and
// otherwise calls fetch (which fills v) and caches the result. When fetch
// fails for a reason other than a refused sign-in, a stale cached value is
// better than no pass.
func (p *pass) cached(ctx context.Context, c storage.Cache, v any, fetch func(context.Context) (any, error)) error {
	key := c.String()
	at, err := p.e.Store.GetCached(c, v)
	have := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.log.Warn("cached value unreadable; asking again", "key", key, "err", err)
	}
	if have && !p.start.Before(at) && p.start.Sub(at) < ProfileTTL {
		return nil
	}
	fresh, ferr := fetch(ctx)
	if ferr != nil {
		if have && !remote.IsNeedsReconnect(ferr) && ctx.Err() == nil {
			p.log.Warn("refresh failed; using the cached value", "key", key, "err", ferr)
			_, err := p.e.Store.GetCached(c, v)
			return err
		}
		return ferr
	}
	return p.e.Store.PutCached(c, fresh, p.start)
}

// page handles one page of listed messages: look-ups, decisions, bodies,
// uploads, then the decisions are recorded.
func (p *pass) page(ctx context.Context, listed []graph.Message) error {
	msgs, older := p.splitHistory(listed)
	n := len(msgs) + len(older)
	p.counts.Listed += n
	p.advance(n, 0)

	in := match.Input{Me: p.me, Excluded: p.excluded, WindowStart: p.window, Settings: p.settings}
	rules := make([]match.Message, len(msgs))
	keys := make([]string, len(msgs))
	for i := range msgs {
		rules[i] = MatchMessage(&msgs[i])
		keys[i] = storage.LedgerKey(msgs[i].InternetMessageID)
	}
	// The rules the person lifted for single messages ("Copy this one
	// anyway") hold on every pass.
	lifted, err := p.e.Store.LiftedRules(keys)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	for i := range rules {
		for _, r := range lifted[keys[i]] {
			rules[i].Lifted = append(rules[i].Lifted, match.Reason(r))
		}
	}
	// Distinct addresses whose look-up can change a decision, with the
	// newest message naming each.
	var addrs []string
	newest := map[string]time.Time{}
	for i := range msgs {
		in.Msg = &rules[i]
		for _, a := range match.Lookups(in) {
			t, seen := newest[a]
			if !seen {
				addrs = append(addrs, a)
			}
			if !seen || msgs[i].ReceivedDateTime.After(t) {
				newest[a] = msgs[i].ReceivedDateTime
			}
		}
	}
	contacts, err := p.contacts(ctx, addrs, newest)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	in.Contacts = func(a string) []match.Contact { return contacts[a] }

	items := make([]item, 0, len(msgs))
	// queued are the uploads queued on this page, for a message listed
	// twice on it (two folders). Nothing is kept across pages, so a pass
	// over any number of messages holds one page's worth: a copy on a
	// later page finds the upload in the ledger (done) or among the
	// pending jobs (unconfirmed), because a page's uploads are recorded
	// before the next page is read.
	queued := map[jobID]bool{}
	var jobs []*job
	var bodyIDs []string
	var targets []storage.Target
	for i := range msgs {
		m := &msgs[i]
		in.Msg = &rules[i]
		d := match.Decide(in)
		it := item{msg: m, d: d, key: keys[i], rules: &rules[i], parts: keptParticipants(match.Participants(in)), verdicts: match.Explain(in)}
		if kind, ok := in.Excluded.Kind(m.ParentFolderID); ok {
			it.folder = string(kind.Reason())
		}
		if why := messageIDProblem(it.key); d.Taken() && why != "" {
			it.d = match.Decision{Reason: why, Counterpart: d.Counterpart}
		}
		items = append(items, it)
	}
	// A message listed without its class or sensitivity is never taken on
	// a guess: each is asked for alone first.
	if err := p.unknownFacts(ctx, in, items); err != nil {
		return err
	}
	if len(older) > 0 {
		hitems, err := p.decideOlder(ctx, older)
		if err != nil {
			return err
		}
		items = append(items, hitems...)
	}
	p.leaveOutDoubtful(items)
	for i := range items {
		for _, t := range items[i].d.Take {
			targets = append(targets, storage.Target{Key: items[i].key, ClientID: t.ClientID})
		}
	}
	states, err := p.e.Store.UploadStates(p.account, targets)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	for i := range items {
		it := &items[i]
		for _, t := range it.d.Take {
			state := states[0]
			states = states[1:]
			id := jobID{it.key, t.ClientID}
			if state != storage.NotUploaded || queued[id] {
				// Already uploaded, or queued from another copy of the
				// message on this page, or left pending by an unconfirmed
				// upload (the next pass resolves it).
				continue
			}
			queued[id] = true
			j := &job{item: i, clientID: t.ClientID, contactIDs: t.ContactIDs}
			jobs = append(jobs, j)
			if len(bodyIDs) == 0 || bodyIDs[len(bodyIDs)-1] != it.msg.ID {
				bodyIDs = append(bodyIDs, it.msg.ID)
			}
		}
	}

	if p.dry != nil {
		// A preview: what would be copied, and nothing more.
		p.dry.add(items, jobs)
		p.advance(0, len(msgs))
		return nil
	}
	var done sync.WaitGroup
	if len(jobs) > 0 {
		if err := p.stage(ctx, items, jobs, bodyIDs, &done); err != nil {
			return err
		}
	}
	// This page's uploads are with the poster, recorded as pending: its
	// decisions are recorded once they are posted, while the next page is
	// listed and read, so that ClientSuccess is kept busy. One page's
	// decisions at a time, in order.
	if err := p.waitPosting(); err != nil {
		return err
	}
	finished := make(chan error, 1)
	p.posting = finished
	go func() {
		done.Wait()
		if err := p.poster.failure(); err != nil {
			finished <- err
			return
		}
		if err := p.recordDecisions(ctx, items); err != nil {
			finished <- err
			return
		}
		p.advance(0, n)
		finished <- nil
	}()
	return nil
}

// waitPosting waits for the page being posted, if any, and returns its
// outcome.
func (p *pass) waitPosting() error {
	if p.posting == nil {
		return nil
	}
	err := <-p.posting
	p.posting = nil
	return err
}

// advance adds to the progress and hands it to the caller's callback.
// The callback runs under p.mu, so the positions it sees never go down;
// it must not block (the agent's hands the value to its loop).
func (p *pass) advance(total, done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.progress.Total += total
	p.progress.Done += done
	if p.backfill {
		// A backfill reports its own progress (RunBackfill).
		return
	}
	if p.onProgress != nil {
		p.onProgress(p.progress)
	}
}

// jobID is one upload: a message (its ledger key) for one client.
type jobID struct {
	key      string
	clientID int64
}

// item is one listed message and what became of it.
type item struct {
	msg      *graph.Message
	d        match.Decision
	key      string
	uploaded int    // interactions created for it this pass
	failed   string // why an upload of it was refused or skipped
	// What Activity's details show: the message as the rules read it,
	// its participants, each rule's verdict, and an excluded folder's
	// words.
	rules    *match.Message
	parts    []match.Participant
	verdicts []match.Verdict
	folder   string
}

// finish records the end of a successful pass: old ledger entries and
// expired client names go, and the window moves, all in one transaction
// after every upload has been recorded; then old contact look-ups go.
// (Surplus decisions go with each page's, in recordDecisions.)
func (p *pass) finish() error {
	end := p.e.now()
	if err := p.e.Store.PruneAddressChecks(p.start.Add(-ContactTTL)); err != nil {
		p.log.Warn("prune contact look-ups", "err", err)
	}
	counts, err := json.Marshal(p.counts)
	if err != nil {
		return fmt.Errorf("engine: record the pass: %w", err)
	}
	// The ledger keeps what a newcomer's history may reach back to, so
	// that a message copied for one contact is not copied again for
	// another of the same client added later (see history).
	cutoff := p.window.Add(-LedgerKept)
	if h := p.start.Add(-HistoryLedgerKept); h.Before(cutoff) {
		cutoff = h
	}
	// A state file of an older version: where its ledger forgot is
	// recorded before this pass records its own earlier cutoff, which
	// would hide it (see ledgerForgot).
	m, err := p.e.Store.Meta()
	if err != nil {
		return fmt.Errorf("engine: read state: %w", err)
	}
	if _, err := p.e.ledgerForgot(m); err != nil {
		return err
	}
	err = p.e.Store.FinishPass(cutoff, p.start, func(m *storage.Meta) {
		m.LastSuccessStart = p.start
		m.LastCounts = counts
		if !p.counts.Quiet() {
			m.LastCopyEnd, m.LastCopyCounts = end, counts
		}
		// Every pass lists the whole window: nothing to compare with.
		m.ListedWith = ""
		m.LastPassEnd = end
	})
	if err != nil {
		return fmt.Errorf("engine: record the pass: %w", err)
	}
	p.dropNewcomers()
	return nil
}

// Outcome is what the error of a pass means for the state a person sees:
// the agent's loop records it (storage.Meta's LastError and
// NeedsReconnect) and publishes it.
type Outcome struct {
	// Stopped: the pass was cancelled (a shutdown, a disconnect, a change
	// of account). It did not fail: it leaves no error behind, and the
	// error of an earlier pass stands.
	Stopped bool
	// Words is why the pass failed, in words (Describe); "" when it did
	// not fail.
	Words string
	// Reconnect: Microsoft refused the sign-in; the person must connect
	// again.
	Reconnect bool
}

// OutcomeOf is what err, returned by Pass, means.
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return Outcome{}
	case errors.Is(err, context.Canceled):
		return Outcome{Stopped: true}
	}
	return Outcome{Words: Describe(err), Reconnect: microsoftRefused(err)}
}

// microsoftRefused reports whether err means the Microsoft sign-in must be
// redone. A refused ClientSuccess password is not that: it is an error the
// person fixes in the ClientSuccess section, and syncing resumes by itself.
func microsoftRefused(err error) bool {
	var re *remote.Error
	return errors.As(err, &re) && re.Kind == remote.NeedsReconnect && re.Service == "graph"
}
