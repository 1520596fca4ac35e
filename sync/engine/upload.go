package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/graph"
	"mailsync/sync/match"
	"mailsync/sync/remote"
)

// job is one interaction to create: a message (index into the page's items)
// for one client.
type job struct {
	item       int
	clientID   int64
	contactIDs []int64
	pending    storage.PendingJob
}

// stage prepares the page's uploads one $batch of bodies at a time: it
// reads a batch's bodies (each cut to the note limit as it arrives),
// records its jobs as pending in one transaction and hands them to the
// pass's poster, which posts them while the next batch is read; done counts
// them until each is posted. The poster drops each note once posted and
// takes no more than a bounded number, so the pass holds a few batches'
// notes, however large the page or its messages. Once a batch is handed
// over, a later page sees its uploads as pending.
func (p *pass) stage(ctx context.Context, items []item, jobs []*job, bodyIDs []string, done *sync.WaitGroup) error {
	byMsg := make(map[string][]*job, len(bodyIDs))
	for _, j := range jobs {
		id := items[j.item].msg.ID
		byMsg[id] = append(byMsg[id], j)
	}
	for start := 0; start < len(bodyIDs); start += graph.BodiesPerBatch {
		chunk := bodyIDs[start:min(start+graph.BodiesPerBatch, len(bodyIDs))]
		todo, err := p.readBodies(ctx, items, byMsg, chunk)
		if err != nil {
			return err
		}
		if len(todo) == 0 {
			continue
		}
		if err := p.poster.submit(items, todo, done); err != nil {
			return err
		}
	}
	return nil
}

// readBodies reads the bodies of ids, records the jobs of byMsg they
// complete as pending in one transaction, and returns them. A message whose
// body cannot be read is skipped with the reason, and is tried again on the
// next pass (it has no ledger entry); the others go on.
func (p *pass) readBodies(ctx context.Context, items []item, byMsg map[string][]*job, ids []string) ([]*job, error) {
	var todo []*job
	err := p.mb.Bodies(ctx, ids, p.limit, func(id string, body graph.Body, err error) error {
		for _, j := range byMsg[id] {
			it := &items[j.item]
			switch {
			case errors.Is(err, graph.ErrMessageGone):
				it.failed = reasonGone
				continue
			case err != nil:
				it.failed = reasonNoText + bodyFailure(err)
				// Listed again by the next pass, whatever changed.
				p.retry = true
				continue
			}
			j.pending = p.pendingJob(it, j, body)
			todo = append(todo, j)
		}
		if err != nil && !errors.Is(err, graph.ErrMessageGone) {
			p.log.Warn("a message's body could not be read; skipped until the next pass", "err", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("engine: read message bodies: %w", err)
	}
	if len(todo) == 0 {
		return nil, nil
	}
	pending := make([]storage.PendingJob, len(todo))
	for i, j := range todo {
		pending[i] = j.pending
	}
	if err := p.e.Store.StartUploads(pending); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return todo, nil
}

// bodyFailure says in words why Microsoft 365 did not give a body.
func bodyFailure(err error) string {
	var re *remote.Error
	if errors.As(err, &re) {
		msg := re.Message
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d", re.Status)
		}
		if re.Code != "" {
			msg += " (" + re.Code + ")"
		}
		return msg
	}
	return err.Error()
}

// pendingJob is the interaction of job j for message it with its body, and
// what the rules read of the message, so that a job left pending is decided
// again before it is posted (see recheck).
func (p *pass) pendingJob(it *item, j *job, body graph.Body) storage.PendingJob {
	rules, _ := json.Marshal(MatchMessage(it.msg))
	return storage.PendingJob{
		Rules:      rules,
		Account:    p.account,
		Key:        it.key,
		ClientID:   j.clientID,
		Received:   it.msg.ReceivedDateTime,
		TypeID:     crm.InteractionTypeEmail,
		Subject:    interactionSubject(it.msg),
		Date:       interactionDate(it.msg),
		Note:       buildNote(it.msg, body, p.limit, p.e.location()),
		ContactIDs: j.contactIDs,
		Created:    p.start,
	}
}

// post creates the interaction of a pending job and records it as done.
func (p *pass) post(ctx context.Context, j storage.PendingJob) error {
	created, err := p.crm.CreateInteraction(ctx, j.ClientID, crm.Interaction{
		InteractionTypeID: j.TypeID,
		Subject:           j.Subject,
		// ClientSuccess takes a day: the message's day where the person is.
		InteractionDate: j.Date.In(p.e.location()),
		Note:            j.Note,
		ContactIDs:      j.ContactIDs,
	})
	if err != nil {
		return err
	}
	// Recorded whatever ctx says now: the interaction exists. The
	// concurrent uploads share commits.
	if err := p.e.Store.RecordUpload(j, created.ID, p.e.now()); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

// errContactsGone: every contact of an upload was deleted in ClientSuccess
// after the upload was queued.
var errContactsGone = errors.New("its contacts were removed from ClientSuccess")

// postChecked is post, for an upload that may have waited while its
// contacts changed: when ClientSuccess refuses it, the contacts are looked
// up again, and it goes again without those that are gone, or is refused
// for good (errContactsGone) when none is left. A refusal with every
// contact still there is returned as it came.
func (p *pass) postChecked(ctx context.Context, j storage.PendingJob) error {
	err := p.post(ctx, j)
	if err == nil || !refused(err) || ctx.Err() != nil || len(j.ContactIDs) == 0 {
		return err
	}
	kept, cerr := p.stillContacts(ctx, j.ClientID, j.ContactIDs)
	switch {
	case cerr != nil:
		// Not knowing which contacts are gone, keep the job pending: the
		// next pass tries again.
		return cerr
	case len(kept) == len(j.ContactIDs):
		return err
	case len(kept) == 0:
		return &remote.Error{Service: "crm", Op: "create interaction", Kind: remote.Permanent,
			Message: errContactsGone.Error(), Err: errContactsGone}
	}
	p.log.Info("posting an upload again without the contacts deleted since it was queued",
		"client", j.ClientID, "kept", len(kept), "gone", len(j.ContactIDs)-len(kept))
	j.ContactIDs = kept
	if err := p.e.Store.StartUploads([]storage.PendingJob{j}); err != nil {
		return fmt.Errorf("engine: record pending upload: %w", err)
	}
	return p.post(ctx, j)
}

// resolvePending finishes the uploads an earlier pass left pending (it
// crashed, or ClientSuccess's answer was lost). For each client, its
// timeline is read through the note search one page at a time, until the
// Message-IDs of its jobs are found or the timeline ends; a job found
// there is recorded as done. A job not found is posted again only when the
// whole timeline was read. When it could not be (an answer that cannot be
// read, pages that repeat, too many pages, ClientSuccess unreachable),
// nothing is concluded: the job stays pending, marked unsure, and a later
// pass looks again; after UnsureAfter the person is asked (UnsureUploads).
// Only ClientSuccess answering 404 for the client itself drops its jobs.
func (p *pass) resolvePending(ctx context.Context) error {
	jobs, err := p.e.Store.PendingJobs()
	if err != nil {
		return fmt.Errorf("engine: read pending uploads: %w", err)
	}
	if len(jobs) == 0 {
		return nil
	}
	p.log.Info("resolving unfinished uploads", "count", len(jobs))
	byClient := map[int64][]storage.PendingJob{}
	var order []int64
	for _, j := range jobs {
		if _, ok := byClient[j.ClientID]; !ok {
			order = append(order, j.ClientID)
		}
		byClient[j.ClientID] = append(byClient[j.ClientID], j)
	}
	for _, clientID := range order {
		if err := p.resolveClient(ctx, clientID, byClient[clientID]); err != nil {
			return err
		}
	}
	return nil
}

// resolveClient is resolvePending for the jobs of one client.
func (p *pass) resolveClient(ctx context.Context, clientID int64, jobs []storage.PendingJob) error {
	var look []storage.PendingJob
	for _, j := range jobs {
		if !j.CopyAgain {
			look = append(look, j)
		}
	}
	found, lookErr := p.findUploads(ctx, clientID, look)
	if lookErr != nil {
		if ctx.Err() != nil || remote.KindOf(lookErr) == remote.NeedsReconnect {
			return fmt.Errorf("engine: look for unfinished uploads: %w", lookErr)
		}
		gone, err := p.clientGone(ctx, clientID, lookErr)
		if err != nil {
			return err
		}
		if gone {
			p.log.Warn("dropping uploads to a client ClientSuccess no longer has", "client", clientID)
			return p.dropPending(jobs)
		}
		p.log.Warn("could not read a client's whole timeline; its unfinished uploads stay pending",
			"client", clientID, "count", len(look), "err", lookErr)
	}
	for _, j := range jobs {
		if id, ok := found[j.Key]; ok {
			if err := p.e.Store.RecordUpload(j, id, p.e.now()); err != nil {
				return fmt.Errorf("engine: record found upload: %w", err)
			}
			p.pending++
			continue
		}
		if lookErr != nil && !j.CopyAgain {
			if err := p.markUnsure(j, lookErr); err != nil {
				return err
			}
			continue
		}
		if why := p.recheck(j); why != "" {
			p.log.Info("dropping an unfinished upload the settings now skip", "client", clientID, "reason", why)
			if derr := p.dropPending([]storage.PendingJob{j}); derr != nil {
				return derr
			}
			continue
		}
		err := p.postChecked(ctx, j)
		switch {
		case err == nil:
			p.pending++
			p.counts.Uploads++
		case crm.IsAmbiguous(err) && ctx.Err() == nil:
			p.ambiguous = append(p.ambiguous, err)
			if len(p.ambiguous) >= maxAmbiguous {
				return fmt.Errorf("engine: post unfinished upload: %w", err)
			}
		case refused(err) && ctx.Err() == nil:
			p.log.Warn("ClientSuccess refused an unfinished upload", "client", clientID, "err", err)
			if derr := p.dropPending([]storage.PendingJob{j}); derr != nil {
				return derr
			}
		default:
			return fmt.Errorf("engine: post unfinished upload: %w", err)
		}
	}
	return nil
}

// findUploads reads a client's timeline until the interactions of jobs
// are found (by the Message-ID in their notes) or it ends, holding one
// page at a time, and returns the interaction id of each job's message
// found. An error means the timeline could not be read to its end: a job
// not in the map may still be there.
func (p *pass) findUploads(ctx context.Context, clientID int64, jobs []storage.PendingJob) (map[string]int64, error) {
	found := map[string]int64{}
	if len(jobs) == 0 {
		return found, nil
	}
	want := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		want[j.Key] = true
	}
	err := p.crm.EachNote(ctx, clientID, func(in crm.Interaction) bool {
		k := messageIDOfNote(in.Note)
		if _, dup := found[k]; want[k] && !dup {
			found[k] = in.ID
		}
		return len(found) < len(want)
	})
	return found, err
}

// clientGone reports whether the failure to read a client's timeline is
// because the client is gone: only when ClientSuccess answers 404 for the
// client itself. A 404 from the note search alone may mean the search is
// not there; an answer that cannot be read says nothing.
func (p *pass) clientGone(ctx context.Context, clientID int64, lookErr error) (bool, error) {
	var re *remote.Error
	if !errors.As(lookErr, &re) || re.Status != http.StatusNotFound {
		return false, nil
	}
	_, err := p.crm.GetClient(ctx, clientID)
	if errors.As(err, &re) && re.Status == http.StatusNotFound && re.Kind == remote.Permanent {
		return true, nil
	}
	if err != nil && (ctx.Err() != nil || remote.KindOf(err) == remote.NeedsReconnect) {
		return false, fmt.Errorf("engine: look for a client: %w", err)
	}
	return false, nil
}

// markUnsure keeps a job pending after its client's timeline could not be
// read, noting since when and why (in words), so that after UnsureAfter the
// person can decide (UnsureUploads).
func (p *pass) markUnsure(j storage.PendingJob, why error) error {
	if err := p.e.Store.MarkUnsure(j, p.start, Describe(why)); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	return nil
}

// recheck decides the message of a job left pending again, with the
// current settings, addresses and excluded folders (a blocked address, the
// Private category, a junk or excluded folder): the reason it is now
// skipped, or "" when it is still taken. The contacts are not looked up
// again: the job already names them. A job recorded without the rules'
// facts is taken.
func (p *pass) recheck(j storage.PendingJob) match.Reason {
	if len(j.Rules) == 0 {
		return ""
	}
	var m match.Message
	if err := json.Unmarshal(j.Rules, &m); err != nil {
		return ""
	}
	// Age is not a reason: the job was taken inside its pass's window.
	d := match.Decide(match.Input{
		Msg: &m, Me: p.me, Excluded: p.excluded, Settings: p.settings,
		Contacts: func(string) []match.Contact { return []match.Contact{{ClientID: j.ClientID}} },
	})
	return d.Reason
}

func (p *pass) dropPending(jobs []storage.PendingJob) error {
	if err := p.e.Store.DropPending(jobs...); err != nil {
		return fmt.Errorf("engine: drop unfinished uploads: %w", err)
	}
	return nil
}

// refused reports whether ClientSuccess answered that it will never accept
// the request (a validation error, a deleted client). Anything else, a
// failure to record locally included, keeps the job pending: dropping a job
// whose interaction may exist would let it be posted twice.
func refused(err error) bool {
	var re *remote.Error
	return errors.As(err, &re) && re.Kind == remote.Permanent && !crm.IsAmbiguous(err)
}
