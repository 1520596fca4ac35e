package engine

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"mailsync/storage"
)

// UnsureAfter is how long an upload may stay pending because its client's
// timeline could not be read before the person is asked what to do: until
// then each pass looks again by itself.
const UnsureAfter = 24 * time.Hour

// UnsureUpload is an upload that may or may not be in ClientSuccess: it
// was sent and not confirmed, and its client's timeline could not be read
// in full since Since. Mail Sync does not post it again on a guess; the
// person chooses (Engine.DecideUnsure).
type UnsureUpload struct {
	ID      string    `json:"id"` // names it for DecideUnsure
	Subject string    `json:"subject"`
	Client  string    `json:"client"` // the client's name, or "Client N"
	Sent    time.Time `json:"sent"`   // the message's day
	Since   time.Time `json:"since"`
	Why     string    `json:"why"` // in words
}

// UnsureUploads returns the uploads unsure for longer than UnsureAfter at
// now, oldest first.
func (e *Engine) UnsureUploads(now time.Time) ([]UnsureUpload, error) {
	jobs, err := e.Store.PendingJobs()
	if err != nil {
		return nil, fmt.Errorf("engine: read pending uploads: %w", err)
	}
	var out []UnsureUpload
	var ids []int64
	for _, j := range jobs {
		if j.UnsureSince.IsZero() || j.CopyAgain || now.Sub(j.UnsureSince) < UnsureAfter {
			continue
		}
		ids = append(ids, j.ClientID)
		out = append(out, UnsureUpload{ID: j.ID(), Subject: j.Subject, Client: strconv.FormatInt(j.ClientID, 10),
			Sent: j.Date, Since: j.UnsureSince, Why: j.Unsure})
	}
	// Names as cached for Activity; a stale one is better than a number.
	names, _ := e.Store.ClientNames(ids, time.Time{})
	for i := range out {
		if n := names[ids[i]]; n != "" {
			out[i].Client = n
		} else {
			out[i].Client = "Client " + out[i].Client
		}
	}
	slices.SortStableFunc(out, func(a, b UnsureUpload) int { return a.Since.Compare(b.Since) })
	return out, nil
}

// DecideUnsure carries out the person's choice about an unsure upload:
// copyAgain posts it on the next pass without looking for it first (it may
// then be in ClientSuccess twice); otherwise it is settled in the ledger
// with no interaction id and never posted again.
// An upload resolved meanwhile is not an error.
func (e *Engine) DecideUnsure(id string, copyAgain bool) error {
	j, ok, err := e.Store.PendingByID(id)
	if err != nil || !ok {
		return err
	}
	if !copyAgain {
		// Settled in the ledger, with no interaction id to name, so that a
		// later pass that lists the message again does not post it.
		if err := e.Store.RecordUpload(j, 0, e.now()); err != nil {
			return fmt.Errorf("engine: leave out an unsure upload: %w", err)
		}
		e.logger().Info("an unsure upload was dropped at the person's request", "client", j.ClientID)
		return nil
	}
	j.CopyAgain = true
	if err := e.Store.StartUploads([]storage.PendingJob{j}); err != nil {
		return fmt.Errorf("engine: copy an unsure upload again: %w", err)
	}
	return nil
}
