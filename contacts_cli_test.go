package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"mailsync/app/clitest"
	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/engine"
	"mailsync/sync/match"
	"mailsync/sync/sandbox"
)

// Add as contact by the command line: the client its domain suggests, the
// email copied at once, the candidates listed when the domain suggests
// none or several; and `activity` lists what the window's Activity does.
func TestContactsAddAndActivityCommands(t *testing.T) {
	needRealKeyring(t)
	e := newE2E(t)
	// A second client with a contact at fabrikam.example: that domain
	// suggests two clients.
	e.svc.CRM.AddContact(crm.Contact{ClientID: sandbox.ClientAdatum, Email: "liaison@fabrikam.example", FirstName: "Lia"})
	e.crmLogin(t)
	e.setBlocklist(t)
	e.svc.Identity.AutoApprove(true)
	if r := e.connect(t, clitest.AutoApprove); r.Code != 0 {
		t.Fatalf("connect: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	e.MustRun(t, nil, "sync")

	var late string
	for _, it := range e.svc.World.Messages {
		if it.Why == sandbox.WhyLate && strings.Contains(it.Msg.From.EmailAddress.Address, "olivia") {
			late = storage.LedgerKey(it.Msg.InternetMessageID)
		}
	}
	r := e.MustRun(t, nil, "activity", "--skipped", "--json")
	var rows []engine.Decision
	if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil {
		t.Fatalf("activity --json: %v\n%s", err, r.Stdout)
	}
	i := slices.IndexFunc(rows, func(d engine.Decision) bool { return d.Key == late })
	if i < 0 || rows[i].Reason != string(match.NoContact) || slices.ContainsFunc(rows, func(d engine.Decision) bool { return d.Synced }) {
		t.Fatalf("activity --skipped lacks Olivia's email, or lists a copied one:\n%s", r.Stdout)
	}

	r = e.Want(t, 0, "Added olivia.park@tailspin.example to Tailspin Toys (the client its domain suggests).", "",
		"contacts", "add", "olivia.park@tailspin.example")
	if made := e.svc.CRM.ContactsOf(sandbox.ClientTailspin, "olivia.park@tailspin.example"); len(made) != 1 || made[0].FirstName != "Olivia" || made[0].LastName != "Park" {
		t.Errorf("contacts in ClientSuccess: %+v (the names come from the email's display name)", made)
	}
	if !slices.Contains(e.svc.CRM.MessageIDs()[sandbox.ClientTailspin], late) {
		t.Errorf("Olivia's email is not on Tailspin's timeline after contacts add:\n%s", r.Stdout)
	}
	r = e.MustRun(t, nil, "activity")
	if !strings.Contains(r.Stdout, "Tailspin: introduction\n    Copied to Tailspin Toys") {
		t.Errorf("activity does not show the email copied:\n%s", r.Stdout)
	}

	// Several clients suggested: exit 1, both listed, nothing created.
	r = e.Run(t, nil, "contacts", "add", "new.person@fabrikam.example")
	if r.Code != 1 || !strings.Contains(r.Stdout, "Fabrikam Inc") || !strings.Contains(r.Stdout, "Adatum Corp") ||
		!strings.Contains(r.Stderr, "--client") {
		t.Errorf("several suggested: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	// None suggested: exit 1, every client listed.
	r = e.Run(t, nil, "contacts", "add", "someone@nowhere.example")
	if r.Code != 1 || !strings.Contains(r.Stdout, "Northwind Traders") || !strings.Contains(r.Stdout, "Tailspin Toys") {
		t.Errorf("none suggested: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	// Named after the address, by name, with the names given.
	e.Want(t, 0, "Added new.person@fabrikam.example to Adatum Corp.", "",
		"contacts", "add", "new.person@fabrikam.example", "--client", "adatum", "--first", "New", "--last", "Person")
	if made := e.svc.CRM.ContactsOf(sandbox.ClientAdatum, "new.person@fabrikam.example"); len(made) != 1 || made[0].LastName != "Person" {
		t.Errorf("contact with --client: %+v", made)
	}
	if r := e.Run(t, nil, "contacts", "add"); r.Code != 2 {
		t.Errorf("contacts add without an address: exit %d, want 2", r.Code)
	}
}
