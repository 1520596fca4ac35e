package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/graph"
	"mailsync/sync/match"
	"mailsync/sync/sandbox"
)

// The history tests add a client's contact after the first pass, with mail
// from days before, and look at what lands. Addresses and ids are theirs,
// apart from the sandbox's user and blocked domain.
const (
	histClient int64 = 1001 // Northwind Traders in the sandbox
	histUser         = "alex.morgan@contoso.example"
	nia              = "nia.okafor@northwind.example"
	omar             = "omar.haddad@northwind.example"
)

// histMessage is a message between the user and the given addresses,
// received at; sensitivity is PR_SENSITIVITY ("0" normal, "2" private).
func histMessage(n int, at time.Time, from string, to []string, sensitivity string) graph.Message {
	rc := func(a string) graph.Recipient {
		var r graph.Recipient
		r.EmailAddress.Address = a
		return r
	}
	f := rc(from)
	m := graph.Message{
		ID:                fmt.Sprintf("AAMkHist-%03d", n),
		InternetMessageID: fmt.Sprintf("<hist-%03d@northwind.example>", n),
		Subject:           fmt.Sprintf("History %d", n),
		From:              &f,
		Sender:            &f,
		ReceivedDateTime:  at,
		SentDateTime:      at.Add(-time.Second),
		ParentFolderID:    sandbox.FolderInbox,
		SingleValueExtendedProperties: []graph.ExtendedProperty{
			{ID: "String 0x1a", Value: "IPM.Note"}, {ID: "Integer 0x36", Value: sensitivity},
		},
	}
	for _, a := range to {
		m.ToRecipients = append(m.ToRecipients, rc(a))
	}
	return m
}

// historyWorld is the sandbox with older mail of Nia, who is not yet a
// contact, and the history option set to days. It returns the env after
// the first pass, and the Message-IDs that must land once Nia is added.
func historyWorld(t *testing.T, days int) (e *env, want []string) {
	t.Helper()
	e = newEnv(t, sandbox.Demo(testNow))
	s := sandbox.Settings()
	s.HistoryDays = days
	if err := e.store.SaveSettings(s, storage.AppSettings{StartAtLogin: true}); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	msgs := []struct {
		m    graph.Message
		take bool
	}{
		{histMessage(1, testNow.Add(-2*day), nia, []string{histUser}, "0"), true},
		{histMessage(2, testNow.Add(-5*day), histUser, []string{nia}, "0"), true},
		{histMessage(3, testNow.Add(-6*day-20*time.Hour), nia, []string{histUser, omar}, "0"), true},
		// Outside the seven days.
		{histMessage(4, testNow.Add(-8*day), nia, []string{histUser}, "0"), false},
		// Private, blocked, not the user's: never copied.
		{histMessage(5, testNow.Add(-3*day), nia, []string{histUser}, "2"), false},
		{histMessage(6, testNow.Add(-3*day), nia, []string{histUser, "offers@blocked.example"}, "0"), false},
		{histMessage(7, testNow.Add(-3*day), nia, []string{"someone@northwind.example"}, "0"), false},
		// An older message of a contact who is not new: decided in its time.
		{histMessage(8, testNow.Add(-3*day), "nancy.davolio@northwind.example", []string{histUser}, "0"), false},
	}
	for _, x := range msgs {
		e.g.AddMessage(x.m, "Hello from "+x.m.Subject)
		if x.take {
			want = append(want, x.m.InternetMessageID)
		}
	}
	slices.Sort(want)
	e.mustPass(testNow)
	if got := histLanded(e); len(got) != 0 {
		t.Fatalf("older mail landed before its contact was added: %q", got)
	}
	return e, want
}

// histLanded is the Message-IDs of the history messages that landed on
// histClient, duplicates kept.
func histLanded(e *env) []string {
	var out []string
	for _, id := range landed(e.c)[histClient] {
		if len(id) > 6 && id[:6] == "<hist-" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func addContact(e *env, id int64, addr string) {
	e.c.AddContact(crm.Contact{ID: id, ClientID: histClient, Email: addr, FirstName: "New", LastName: "Contact"})
}

// TestHistoryOfAddedContact: with the option at seven days, a contact
// added after the first pass gets the last seven days of their mail copied
// on the next pass, exactly once, by the same rules (nothing private,
// blocked or without the user), within the mailbox's budget; later passes,
// a full directory read and another contact of the same client on one of
// those messages copy nothing more.
func TestHistoryOfAddedContact(t *testing.T) {
	e, want := historyWorld(t, 7)
	e.clock.Set(testNow.Add(30 * time.Minute))
	addContact(e, 2901, nia)
	e.mustPass(testNow.Add(time.Hour))
	if got := histLanded(e); !slices.Equal(got, want) {
		t.Fatalf("after Nia was added: landed %q, want %q", got, want)
	}
	ds, err := e.eng.Decisions("", 0)
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, d := range ds {
		if d.Synced {
			reasons[d.MessageID] = "copied"
		} else {
			reasons[d.MessageID] = d.Reason
		}
	}
	for id, why := range map[string]string{
		"<hist-001@northwind.example>": "copied",
		"<hist-005@northwind.example>": string(match.SensitivityPrivate),
		"<hist-006@northwind.example>": string(match.Blocked),
	} {
		if reasons[id] != why {
			t.Errorf("Activity for %s = %q, want %q", id, reasons[id], why)
		}
	}
	if _, shown := reasons["<hist-008@northwind.example>"]; shown {
		t.Error("an older message of a contact who is not new was decided again")
	}

	e.clock.Set(testNow.Add(90 * time.Minute))
	addContact(e, 2902, omar)
	for h := 2; h <= 26; h++ {
		e.mustPass(testNow.Add(time.Duration(h) * time.Hour))
	}
	if got := histLanded(e); !slices.Equal(got, want) {
		t.Errorf("a day later: landed %q, want %q (each once)", got, want)
	}
	if peak := e.g.Stats().PeakMailbox; peak > graph.MaxInFlight {
		t.Errorf("%d mailbox requests at once, more than %d", peak, graph.MaxInFlight)
	}
	if ns, err := e.store.Newcomers(); err != nil || len(ns) != 0 {
		t.Errorf("newcomers left after the passes: %v, %v", ns, err)
	}
}

// TestHistoryOffKeepsTheWindow: at 0 (the default) an added contact gets
// only what the 24-hour window holds, and turning the option on later does
// not reach back for contacts added while it was off.
func TestHistoryOffKeepsTheWindow(t *testing.T) {
	e, _ := historyWorld(t, 0)
	e.clock.Set(testNow.Add(30 * time.Minute))
	addContact(e, 2901, nia)
	e.mustPass(testNow.Add(time.Hour))
	if got := histLanded(e); len(got) != 0 {
		t.Fatalf("with the option off, older mail landed: %q", got)
	}
	s := sandbox.Settings()
	s.HistoryDays = 7
	if err := e.store.SaveSettings(s, storage.AppSettings{StartAtLogin: true}); err != nil {
		t.Fatal(err)
	}
	e.mustPass(testNow.Add(2 * time.Hour))
	if got := histLanded(e); len(got) != 0 {
		t.Errorf("turning the option on copied the history of a contact added while it was off: %q", got)
	}
}

// TestHistoryLedgerOutlivesTheWindow: a message copied for one contact
// weeks back is still in the ledger when a second contact of the same
// client, added on a later day, names it: it is not copied twice, though
// it is older than the ledger's usual month.
func TestHistoryLedgerOutlivesTheWindow(t *testing.T) {
	e := newEnv(t, sandbox.Demo(testNow))
	s := sandbox.Settings()
	s.HistoryDays = match.MaxHistoryDays
	if err := e.store.SaveSettings(s, storage.AppSettings{StartAtLogin: true}); err != nil {
		t.Fatal(err)
	}
	old := histMessage(1, testNow.Add(-60*24*time.Hour), nia, []string{histUser, omar}, "0")
	e.g.AddMessage(old, "Hello")
	e.mustPass(testNow)
	e.clock.Set(testNow.Add(30 * time.Minute))
	addContact(e, 2901, nia)
	e.mustPass(testNow.Add(time.Hour))
	if got := histLanded(e); len(got) != 1 {
		t.Fatalf("after Nia was added: landed %q, want the 60-day-old message once", got)
	}
	later := testNow.Add(3 * 24 * time.Hour)
	e.clock.Set(later)
	addContact(e, 2902, omar)
	e.mustPass(later.Add(time.Hour))
	if got := histLanded(e); len(got) != 1 {
		t.Errorf("after Omar was added three days later: landed %q, want the message once", got)
	}
}

// TestHistoryOfSandboxLateContacts: in the sandbox, with the option at
// seven days, the Tailspin contacts added later get their message whatever
// its age (the one added 25 hours after too) and Olivia's mail from days
// before, each once; everything else lands as without the option.
func TestHistoryOfSandboxLateContacts(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	s := sandbox.Settings()
	s.HistoryDays = 7
	if err := e.store.SaveSettings(s, storage.AppSettings{StartAtLogin: true}); err != nil {
		t.Fatal(err)
	}
	lateDay(t, e)
	want := w.ExpectedAfterLate()
	older := 0
	for _, l := range w.Late {
		ids := append([]string{l.MessageID}, l.Older...)
		older += len(l.Older)
		for _, id := range ids {
			if !slices.Contains(want[l.Contact.ClientID], id) {
				want[l.Contact.ClientID] = append(want[l.Contact.ClientID], id)
			}
		}
		slices.Sort(want[l.Contact.ClientID])
	}
	if older == 0 {
		t.Fatal("the sandbox seeds no older mail of a contact added later")
	}
	sameLanding(t, landed(e.c), want)
}

// TestHistoryAfterFailedPass: a pass that learns of the new contact and
// then fails (Microsoft 365 refuses it) leaves the contact's history for
// the next pass, which copies it once.
func TestHistoryAfterFailedPass(t *testing.T) {
	e, want := historyWorld(t, 7)
	e.clock.Set(testNow.Add(30 * time.Minute))
	addContact(e, 2901, nia)
	e.g.SetAuthorizer(func(string) bool { return false })
	if _, err := e.pass(testNow.Add(time.Hour)); err == nil {
		t.Fatal("the pass succeeded although Microsoft 365 refused every request")
	}
	if ns, err := e.store.Newcomers(); err != nil || len(ns) != 1 {
		t.Fatalf("after the failed pass, newcomers = %v, %v; want Nia", ns, err)
	}
	e.g.SetAuthorizer(nil)
	e.mustPass(testNow.Add(2 * time.Hour))
	e.mustPass(testNow.Add(3 * time.Hour))
	if got := histLanded(e); !slices.Equal(got, want) {
		t.Errorf("landed %q, want %q", got, want)
	}
}

// TestHistoryStopsWhereAnOlderLedgerForgot: a state file from a version
// that pruned the ledger a month past its window without recording it
// lets a history reach back only that far: older mail of a new contact may
// have been copied and forgotten, and is not copied again on a guess.
func TestHistoryStopsWhereAnOlderLedgerForgot(t *testing.T) {
	w := sandbox.Demo(testNow)
	e := newEnv(t, w)
	s := sandbox.Settings()
	s.HistoryDays = match.MaxHistoryDays
	if err := e.store.SaveSettings(s, storage.AppSettings{StartAtLogin: true}); err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	recent := histMessage(1, testNow.Add(-20*day), nia, []string{histUser}, "0")
	forgotten := histMessage(2, testNow.Add(-60*day), nia, []string{histUser}, "0")
	e.g.AddMessage(recent, "Hello")
	e.g.AddMessage(forgotten, "Hello")
	// The state the older version left: a directory read an hour ago, a
	// pass an hour ago, and no record of where the ledger forgot.
	last := testNow.Add(-time.Hour)
	var dir []storage.DirectoryContact
	for _, c := range w.Contacts {
		dir = append(dir, storage.DirectoryContact{ID: c.ID, ClientID: c.ClientID, Email: c.Email})
	}
	st := storage.DirectoryState{Source: storage.DirectorySearch, FullAt: last, LookedAt: last}
	if _, err := e.store.ReplaceDirectory(dir, st); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(last)
	addContact(e, 2901, nia)
	if _, err := e.store.ApplyDirectoryChanges([]storage.DirectoryContact{{ID: 2901, ClientID: histClient, Email: nia}}, st); err != nil {
		t.Fatal(err)
	}
	if err := e.store.UpdateMeta(func(m *storage.Meta) { m.ConnectedAt, m.LastSuccessStart = testNow.Add(-10*day), last }); err != nil {
		t.Fatal(err)
	}
	e.mustPass(testNow)
	if got, want := histLanded(e), []string{recent.InternetMessageID}; !slices.Equal(got, want) {
		t.Errorf("landed %q, want only %q (the 60-day-old message is older than what the ledger kept)", got, want)
	}
}
