package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"mailsync/storage"
	"mailsync/sync/graph"
	"mailsync/sync/match"
)

// A backfill copies, on the person's request, the mail received in the N
// days before the pass window: the rules of a pass, with one difference. A
// pass looks at a message until it is 24 hours old, so a contact must exist
// within 24 hours of the message; a backfill takes every contact that
// exists now.
//
// It goes one day at a time, newest first. Each day takes the engine's
// turn (see turn): a pass and a day never run together, so together they
// stay within the mailbox's budget and share the ledger without a race,
// and a pass asked for while a day runs starts as soon as that day ends.
// After each day the record in the state file (storage.Backfill) moves:
// after a restart or a crash the backfill resumes at the day it had not
// finished; that day's uploads are in the ledger or pending, so nothing is
// copied twice.

// Limits of a backfill.
const (
	// MaxBackfillDays is how far back a backfill may go.
	MaxBackfillDays = 365
	// BackfillDay is how much of the range one turn lists: a day of mail is
	// one page for most mailboxes, and short enough that a pass waiting for
	// it is not held long.
	BackfillDay = 24 * time.Hour
)

// Backfill is a backfill as the status shows it and the local API sends
// it: the record of storage.
type Backfill = storage.Backfill

// BackfillShare is how much of b's range is done, from 0 to 1 (1 for an
// empty range).
func BackfillShare(b Backfill) float64 {
	span := b.To.Sub(b.From)
	if span <= 0 {
		return 1
	}
	return min(1, max(0, float64(b.To.Sub(b.Reached))/float64(span)))
}

// BackfillMailbox is what a backfill needs from Microsoft Graph
// (*graph.Client implements it).
type BackfillMailbox interface {
	Mailbox
	// ListMessagesBetween lists the messages received at or after since
	// and before until, page by page.
	ListMessagesBetween(ctx context.Context, since, until time.Time, fn func(page []graph.Message) error) error
}

var _ BackfillMailbox = (*graph.Client)(nil)

// Errors of a backfill.
var (
	// ErrBackfillDays: the number of days is outside 1..MaxBackfillDays.
	ErrBackfillDays = fmt.Errorf("engine: a backfill goes back 1 to %d days", MaxBackfillDays)
	// ErrNoBackfill: no backfill of the connected accounts is running.
	ErrNoBackfill = errors.New("engine: no backfill is running")
	// ErrNoMailbox: no mailbox is connected.
	ErrNoMailbox = errors.New("engine: no mailbox is connected")
)

// backfillRange is the range a backfill of days covers, started now, and
// the accounts it copies between: from now less days to where the pass
// window starts. It is empty (from == to) when the window already covers
// it.
func (e *Engine) backfillRange(days int) (storage.Backfill, error) {
	if days < 1 || days > MaxBackfillDays {
		return storage.Backfill{}, ErrBackfillDays
	}
	m, err := e.Store.Meta()
	if err != nil {
		return storage.Backfill{}, fmt.Errorf("engine: read state: %w", err)
	}
	if m.Account == nil {
		return storage.Backfill{}, ErrNoMailbox
	}
	now := e.now()
	connected := m.ConnectedAt
	if connected.IsZero() {
		connected = now
	}
	to := WindowStart(connected, m.LastSuccessStart, now)
	from := now.Add(-time.Duration(days) * 24 * time.Hour)
	if !from.Before(to) {
		from = to
	}
	return storage.Backfill{
		Mailbox: m.Account.Email, CRM: storage.CRMAccount(m.CRMUser), Days: days,
		From: from, To: to, Reached: to, StartedAt: now,
	}, nil
}

// StartBackfill records a backfill of the days before the pass window as
// running, replacing the record of an earlier one, and returns it; then
// RunBackfill copies. A backfill running already must be stopped first.
func (e *Engine) StartBackfill(days int) (storage.Backfill, error) {
	b, err := e.backfillRange(days)
	if err != nil {
		return b, err
	}
	b.State = storage.BackfillRunning
	if err := e.Store.SaveBackfill(b); err != nil {
		return b, fmt.Errorf("engine: %w", err)
	}
	return b, nil
}

// CancelBackfill marks the running backfill cancelled, so that it is not
// resumed; what it copied stays. The caller stops RunBackfill's ctx.
func (e *Engine) CancelBackfill() (storage.Backfill, error) {
	b, err := e.Store.Backfill()
	if err != nil || b.State != storage.BackfillRunning {
		return b, ErrNoBackfill
	}
	b.State = storage.BackfillCancelled
	b.EndedAt = e.now()
	if err := e.Store.SaveBackfill(b); err != nil {
		return b, fmt.Errorf("engine: %w", err)
	}
	return b, nil
}

// RunningBackfill returns the record of the backfill to resume: running,
// and between the accounts connected now. ErrNoBackfill when there is none.
func (e *Engine) RunningBackfill() (storage.Backfill, error) {
	b, err := e.Store.Backfill()
	if errors.Is(err, storage.ErrNotFound) {
		return b, ErrNoBackfill
	}
	if err != nil {
		return b, fmt.Errorf("engine: %w", err)
	}
	m, err := e.Store.Meta()
	if err != nil {
		return b, fmt.Errorf("engine: read state: %w", err)
	}
	if b.State != storage.BackfillRunning || m.Account == nil || m.Account.Email != b.Mailbox || storage.CRMAccount(m.CRMUser) != b.CRM {
		return b, ErrNoBackfill
	}
	return b, nil
}

// RunBackfill runs (or resumes) the backfill recorded by StartBackfill,
// one day at a time, newest first, until it is done, fails or ctx ends;
// progress is called with the record after each day. It returns the
// record as it stands: done, failed (with the reason in words), or still
// running when ctx ended (CancelBackfill marks it cancelled first).
func (e *Engine) RunBackfill(ctx context.Context, mb BackfillMailbox, c CRM, progress func(storage.Backfill)) (storage.Backfill, error) {
	b, err := e.RunningBackfill()
	if err != nil {
		return b, err
	}
	run := &backfillRun{first: true, names: map[int64]string{}}
	for _, cl := range b.Clients {
		run.names[cl.ID] = cl.Name
	}
	log := e.logger()
	log.Info("backfill", "days", b.Days, "from", b.From, "to", b.To, "reached", b.Reached)
	for b.Reached.After(b.From) {
		from := nextDay(b)
		day, err := e.backfillTurn(ctx, mb, c, run, from, b.Reached)
		if err != nil {
			return e.backfillStopped(ctx, b, err)
		}
		b.Read += day.read
		b.Emails += day.emails
		addLeftOut(&b, day)
		b.Clients = mergeClients(b.Clients, day.clients, run.names)
		b.Reached = from
		if err := e.Store.SaveBackfill(b); err != nil {
			return b, fmt.Errorf("engine: %w", err)
		}
		if progress != nil {
			progress(b)
		}
	}
	b.State = storage.BackfillDone
	b.EndedAt = e.now()
	if err := e.Store.SaveBackfill(b); err != nil {
		return b, fmt.Errorf("engine: %w", err)
	}
	log.Info("backfill done", "read", b.Read, "emails", b.Emails)
	if progress != nil {
		progress(b)
	}
	return b, nil
}

// backfillStopped records why a backfill stopped: when ctx ended, the
// record is left as it is (running, to be resumed, or cancelled by
// CancelBackfill); any other failure marks it failed, with the reason in
// words.
func (e *Engine) backfillStopped(ctx context.Context, b storage.Backfill, err error) (storage.Backfill, error) {
	if ctx.Err() != nil {
		if now, rerr := e.Store.Backfill(); rerr == nil {
			b.State = now.State
			b.EndedAt = now.EndedAt
		}
		return b, fmt.Errorf("engine: backfill stopped: %w", ctx.Err())
	}
	e.logger().Warn("backfill failed", "err", err)
	b.State = storage.BackfillFailed
	b.Error = Describe(err)
	b.EndedAt = e.now()
	if serr := e.Store.SaveBackfill(b); serr != nil {
		e.logger().Warn("record the failed backfill", "err", serr)
	}
	return b, err
}

// PreviewBackfill is a backfill of days that uploads nothing: it lists and
// decides the same way and returns how many emails it would copy, and to
// which clients. Nothing is recorded but what a pass also keeps (the
// contact directory).
func (e *Engine) PreviewBackfill(ctx context.Context, mb BackfillMailbox, c CRM, days int, progress func(storage.Backfill)) (storage.Backfill, error) {
	b, err := e.backfillRange(days)
	if err != nil {
		return b, err
	}
	run := &backfillRun{first: true, names: map[int64]string{}, dry: &dryCount{clients: map[int64]int{}}}
	for b.Reached.After(b.From) {
		from := nextDay(b)
		day, err := e.backfillTurn(ctx, mb, c, run, from, b.Reached)
		if err != nil {
			return b, err
		}
		b.Read += day.read
		addLeftOut(&b, day)
		b.Reached = from
		b.Emails = run.dry.emails
		b.Clients = mergeClients(nil, run.dry.clients, run.names)
		if progress != nil {
			progress(b)
		}
	}
	b.State = storage.BackfillDone
	b.EndedAt = e.now()
	return b, nil
}

// backfillRun is what the days of one backfill share.
type backfillRun struct {
	// first: the next day is the first of this run; it brings the
	// contact directory up to date and resolves pending uploads first.
	first   bool
	lookups bool
	names   map[int64]string
	dry     *dryCount
}

// dayResult is what one day of a backfill did.
type dayResult struct {
	read, emails int
	clients      map[int64]int
	// leftOut is how many messages it left out, received before doubtTo
	// (see reasonDoubt).
	leftOut int
	doubtTo time.Time
}

// backfillTurn runs one day of a backfill in the engine's turn.
func (e *Engine) backfillTurn(ctx context.Context, mb BackfillMailbox, c CRM, run *backfillRun, from, to time.Time) (dayResult, error) {
	if err := e.turn.acquire(ctx, false); err != nil {
		return dayResult{}, fmt.Errorf("engine: wait for the pass in flight: %w", err)
	}
	defer e.turn.release()
	return e.backfillDay(ctx, mb, c, run, from, to)
}

// backfillDay lists the messages received in [from, to) and handles them
// as a pass does its window: decide, read bodies, record pending, upload,
// record the decisions. Nothing of the pass's record (window, last
// success) moves.
func (e *Engine) backfillDay(ctx context.Context, mb BackfillMailbox, c CRM, run *backfillRun, from, to time.Time) (dayResult, error) {
	limit := e.NoteLimit
	if limit == 0 {
		limit = DefaultNoteLimit
	}
	p := &pass{
		e: e, mb: &bodyReader{Mailbox: mb, e: e}, crm: c, log: e.logger(), start: e.now(), limit: limit,
		id:       strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatUint(rand.Uint64(), 36),
		names:    map[int64]string{},
		window:   from,
		backfill: true,
		dry:      run.dry,
		copiedTo: map[int64]int{},
	}
	p.counts.Skipped = map[string]int{}
	m, err := e.Store.Meta()
	if err != nil {
		return dayResult{}, fmt.Errorf("engine: read state: %w", err)
	}
	p.account = storage.CRMAccount(m.CRMUser)
	if p.doubt, err = e.backfillDoubt(m); err != nil {
		return dayResult{}, err
	}
	if run.first {
		if err := p.refreshDirectory(ctx); err != nil {
			return dayResult{}, err
		}
		run.lookups = p.lookups
	}
	p.lookups = run.lookups
	if err := p.prepare(ctx); err != nil {
		return dayResult{}, err
	}
	if run.first && run.dry == nil {
		// A job a crash left pending is settled before its day is listed
		// again: listed, it would be seen as pending and left alone.
		if err := p.resolvePending(ctx); err != nil {
			return dayResult{}, err
		}
	}
	run.first = false
	if run.dry == nil {
		p.poster = newPoster(ctx, p)
	}
	err = mb.ListMessagesBetween(ctx, from, to, func(page []graph.Message) error {
		// The range is Graph's to keep; a message outside it is the
		// pass's or another day's.
		page = slices.DeleteFunc(page, func(m graph.Message) bool {
			return m.ReceivedDateTime.Before(from) || !m.ReceivedDateTime.Before(to)
		})
		if len(page) == 0 {
			return nil
		}
		return p.page(ctx, page)
	})
	if p.poster != nil {
		p.poster.close()
	}
	if werr := p.waitPosting(); err == nil && werr != nil {
		return dayResult{}, werr
	}
	if err != nil {
		return dayResult{}, fmt.Errorf("engine: list messages: %w", err)
	}
	if len(p.ambiguous) > 0 {
		return dayResult{}, fmt.Errorf("engine: %d uploads unconfirmed: %w", len(p.ambiguous), p.ambiguous[0])
	}
	var ids []int64
	for id := range p.copiedTo {
		ids = append(ids, id)
	}
	if run.dry != nil {
		for id := range run.dry.clients {
			ids = append(ids, id)
		}
	}
	var need []int64
	for _, id := range ids {
		if _, ok := run.names[id]; !ok {
			need = append(need, id)
		}
	}
	p.clientNames(ctx, need)
	for _, id := range need {
		run.names[id] = p.names[id]
	}
	return dayResult{read: p.counts.Listed, emails: p.counts.Synced, clients: p.copiedTo,
		leftOut: len(p.doubt.left), doubtTo: p.doubt.to}, nil
}

// dryCount is what a preview would copy: emails, and emails per client.
type dryCount struct {
	emails  int
	clients map[int64]int
}

// add counts the messages of a page with an upload to make (jobs).
func (d *dryCount) add(items []item, jobs []*job) {
	counted := map[int]bool{}
	for _, j := range jobs {
		d.clients[j.clientID]++
		if !counted[j.item] {
			counted[j.item] = true
			d.emails++
		}
	}
}

// mergeClients adds the emails per client of add to list, names them, and
// sorts the list by emails, most first, then by name, in a new list.
func mergeClients(list []storage.BackfillClient, add map[int64]int, names map[int64]string) []storage.BackfillClient {
	// A new list: the one given went to progress, whose reader keeps it.
	list = slices.Clone(list)
	at := map[int64]int{}
	for i, c := range list {
		at[c.ID] = i
	}
	for id, n := range add {
		if i, ok := at[id]; ok {
			list[i].Emails += n
			continue
		}
		at[id] = len(list)
		list = append(list, storage.BackfillClient{ID: id, Emails: n})
	}
	for i := range list {
		if name := names[list[i].ID]; name != "" {
			list[i].Name = name
		}
	}
	slices.SortFunc(list, func(a, b storage.BackfillClient) int {
		if c := cmp.Compare(b.Emails, a.Emails); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return list
}

// A backfill never posts on the ledger alone where the ledger cannot vouch
// for it. Versions that did not record storage.LedgerForgotBefore pruned
// the ledger legacyLedgerKept before their passes' windows: a message
// received between the first window's start (the first connect less
// WindowOverlap; nothing older was ever copied) and that point may have
// been copied, and its record forgotten. A backfill leaves such messages
// out, says why in Activity (reasonDoubt), and counts them
// (storage.Backfill.LeftOut) so that the preview and the result say so.
// Looking each one up in its client's timeline first, as resolvePending
// does, would read every such client's whole timeline day after day, and
// a timeline that cannot be read in full would still leave it a guess.

// reasonDoubt: the message was received when the ledger cannot vouch for
// what was copied.
const reasonDoubt match.Reason = "Mail Sync cannot tell whether it copied this already"

// doubt is the range of receive times [from, to) a backfill day leaves
// out, and the messages it left out (by ledger key); to is zero when it
// leaves out nothing.
type doubt struct {
	from, to time.Time
	left     map[string]bool
}

// ledgerForgot is the receive time before which the ledger may have
// forgotten uploads (storage.LedgerForgotBefore). A state file of a
// version that did not record it, pruned legacyLedgerKept before its last
// pass's window: that is recorded now, so that the record of a later pass
// does not hide it.
func (e *Engine) ledgerForgot(m storage.Meta) (time.Time, error) {
	forgot, known, err := e.Store.LedgerForgotBefore()
	if err != nil {
		return time.Time{}, fmt.Errorf("engine: read the ledger: %w", err)
	}
	if !known && !m.LastSuccessStart.IsZero() {
		forgot = m.LastSuccessStart.Add(-legacyLedgerKept)
		if err := e.Store.NoteLedgerForgot(forgot); err != nil {
			return time.Time{}, fmt.Errorf("engine: record the ledger: %w", err)
		}
	}
	return forgot, nil
}

// backfillDoubt is the range a backfill leaves out in state m: from the
// first window's start to where the ledger may have forgotten; empty when
// the ledger vouches for everything since the first window.
func (e *Engine) backfillDoubt(m storage.Meta) (doubt, error) {
	forgot, err := e.ledgerForgot(m)
	if err != nil || m.ConnectedAt.IsZero() {
		return doubt{}, err
	}
	first := m.ConnectedAt.Add(-WindowOverlap)
	if !forgot.After(first) {
		return doubt{}, nil
	}
	return doubt{from: first, to: forgot, left: map[string]bool{}}, nil
}

// leaveOutDoubtful leaves out each taken message received in the day's
// doubt range (see reasonDoubt). A message listed twice counts once.
func (p *pass) leaveOutDoubtful(items []item) {
	if p.doubt.to.IsZero() {
		return
	}
	for i := range items {
		it := &items[i]
		r := it.msg.ReceivedDateTime
		if !it.d.Taken() || r.Before(p.doubt.from) || !r.Before(p.doubt.to) {
			continue
		}
		it.d = match.Decision{Reason: reasonDoubt, Counterpart: it.d.Counterpart}
		p.doubt.left[it.key] = true
	}
}

// BackfillLeftOut says, in words, what backfill b leaves out because the
// ledger cannot vouch for it; "" when nothing.
func BackfillLeftOut(b Backfill) string {
	if b.LeftOut == 0 {
		return ""
	}
	n, verb, them := strconv.Itoa(b.LeftOut)+" emails", "are", "them"
	if b.LeftOut == 1 {
		n, verb, them = "1 email", "is", "it"
	}
	return n + " from before " + b.LeftOutBefore.Local().Format("2 January 2006") + " " + verb +
		" left out because Mail Sync cannot tell whether it copied " + them + "."
}

// addLeftOut counts in b what a day left out.
func addLeftOut(b *storage.Backfill, day dayResult) {
	b.LeftOut += day.leftOut
	if day.leftOut > 0 && day.doubtTo.After(b.LeftOutBefore) {
		b.LeftOutBefore = day.doubtTo
	}
}

// nextDay is where the day before b.Reached starts: a BackfillDay earlier,
// never before b.From.
func nextDay(b Backfill) time.Time {
	if from := b.Reached.Add(-BackfillDay); from.After(b.From) {
		return from
	}
	return b.From
}
