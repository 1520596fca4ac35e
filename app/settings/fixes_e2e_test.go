package settings

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"github.com/zalando/go-keyring"

	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
	"mailsync/sync/engine"
	"mailsync/sync/graphtest"
	"mailsync/sync/sandbox"
)

// Add as contact, end to end: the window on a real agent, on the sandbox's
// services (as `mailsync demo` runs). The person opens the email nobody
// known is in, adds its sender to the client suggested, and sees it
// copied, in the window and in ClientSuccess.
func TestAddAsContactEndToEnd(t *testing.T) {
	keyring.MockInit()
	w := sandbox.Demo(time.Now().Add(5 * time.Minute).Truncate(time.Second))
	svc := sandbox.Start(w)
	t.Cleanup(svc.Close)
	svc.Identity.AutoApprove(true)
	opened := make(chan error, 4)
	cfg := agent.Config{DataDir: t.TempDir(), Authority: svc.Identity.Authority(), GraphURL: svc.Graph.URL,
		CRMURL: svc.CRM.URL, ClientID: svc.Identity.ClientID(), KeyringService: "mailsync-window-e2e"}
	ag, err := agent.Open(cfg, agent.Hooks{OpenURL: func(u string) error {
		go func() {
			status, _, err := graphtest.Browse(u)
			if err == nil && status != http.StatusOK {
				err = errors.New(http.StatusText(status))
			}
			opened <- err
		}()
		return nil
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ag.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { _ = ag.Run(runCtx); close(ran) }()
	t.Cleanup(func() { stop(); <-ran })
	if _, err := ag.Connect(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	if err := ag.CRMLogin(ctx, sandbox.CRMUser, sandbox.CRMPassword); err != nil {
		t.Fatal(err)
	}
	if err := ag.SetSettings(ctx, agentapi.Settings{Rules: sandbox.Settings()}); err != nil {
		t.Fatal(err)
	}
	if _, err := ag.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	var key string
	for _, it := range w.Messages {
		if it.Why == sandbox.WhyLate && it.Msg.From.EmailAddress.Address == "olivia.park@tailspin.example" {
			key = storage.LedgerKey(it.Msg.InternetMessageID)
		}
	}

	a := test.NewTempApp(t)
	h := &harness{t: t, api: agentapitest.New(engine.Status{}), queue: make(chan func(), 256), done: make(chan struct{})}
	h.w = newWindow(a, ag, options{
		now: time.Now,
		do: func(f func()) {
			select {
			case h.queue <- f:
			case <-h.done:
			}
		},
		callTimeout: waitLimit, backoffMin: time.Millisecond, backoffMax: 10 * time.Millisecond, debounce: time.Millisecond,
	})
	t.Cleanup(func() { h.w.stop(); close(h.done) })
	h.w.Select(SectionActivity)
	h.w.activity.filter.SetSelected(filterSkipped)
	row := func() int {
		return slices.IndexFunc(h.w.activity.items, func(d agentapi.Decision) bool { return d.Key == key })
	}
	h.pump("Olivia's email listed", func() bool { return h.w.activity.shown == filterSkipped && row() >= 0 })
	h.w.activity.list.Select(row())
	h.wantText("Skipped: no ClientSuccess contact", "From: Olivia Park <olivia.park@tailspin.example> · not a ClientSuccess contact")

	test.Tap(h.button(addContactText))
	f := h.w.activity.details.form
	h.pump("the suggestion", func() bool { return f.first.Text != "" })
	if f.first.Text != "Olivia" || f.last.Text != "Park" || f.chosen != sandbox.ClientTailspin {
		t.Fatalf("form: %q %q, client %d; want Olivia Park at Tailspin Toys", f.first.Text, f.last.Text, f.chosen)
	}
	h.wantText("Suggested: Tailspin Toys, which has 1 contact at tailspin.example")
	test.Tap(h.button(addText))
	h.pump("added", func() bool { return h.w.activity.details.form == nil })
	h.wantText("olivia.park@tailspin.example is now a contact of Tailspin Toys. Copying their emails now.")

	// The pass started at once copies it; the open row follows.
	h.w.activity.filter.SetSelected(filterAll)
	h.pump("the row copied", func() bool { return h.w.activity.details.d.Synced })
	h.wantText("Copied to Tailspin Toys")
	if !slices.Contains(svc.CRM.MessageIDs()[sandbox.ClientTailspin], key) {
		t.Errorf("Tailspin's timeline lacks %s", key)
	}
	if made := svc.CRM.ContactsOf(sandbox.ClientTailspin, "olivia.park@tailspin.example"); len(made) != 1 {
		t.Errorf("contacts created: %+v", made)
	}
}
