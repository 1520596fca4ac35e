package crmtest

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"mailsync/sync/crm"
)

// raw sends one request to the fake and returns status, content type and body.
func raw(t *testing.T, method, u, auth, contentType, body string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, u, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func login(t *testing.T, c *CRM) string {
	t.Helper()
	status, _, b := raw(t, "POST", c.URL+"/auth", "", "application/json", `{"username":"ann","password":"pw1"}`)
	if status != 200 {
		t.Fatalf("auth: HTTP %d %s", status, b)
	}
	var a crm.AuthResponse
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a.AccessToken
}

func newFake(t *testing.T) *CRM {
	c := NewCRM()
	t.Cleanup(c.Close)
	c.AddUser("ann", "pw1")
	return c
}

func TestAuthJSONAndForm(t *testing.T) {
	c := newFake(t)
	status, _, b := raw(t, "POST", c.URL+"/auth", "", "application/json", `{"username":"ann","password":"pw1"}`)
	var a crm.AuthResponse
	if status != 200 || json.Unmarshal(b, &a) != nil || a.AccessToken == "" || a.ExpiresIn != 43200 {
		t.Fatalf("JSON auth: HTTP %d %s", status, b)
	}
	form := url.Values{"username": {"ann"}, "password": {"pw1"}}.Encode()
	status, _, b = raw(t, "POST", c.URL+"/auth", "", "application/x-www-form-urlencoded", form)
	var f crm.AuthResponse
	if status != 200 || json.Unmarshal(b, &f) != nil || f.AccessToken == "" || f.AccessToken == a.AccessToken {
		t.Fatalf("form auth: HTTP %d %s", status, b)
	}
	status, _, _ = raw(t, "POST", c.URL+"/auth", "", "application/json", `{"username":"ann","password":"nope"}`)
	if status != http.StatusUnauthorized {
		t.Errorf("wrong password: HTTP %d, want 401", status)
	}
	if got := c.Stats().Auths; got != 2 {
		t.Errorf("Auths = %d, want 2", got)
	}
}

func TestBareTokenOnly(t *testing.T) {
	c := newFake(t)
	tok := login(t, c)
	if status, _, _ := raw(t, "GET", c.URL+"/clients", tok, "", ""); status != 200 {
		t.Errorf("bare token: HTTP %d", status)
	}
	for _, h := range []string{"Bearer " + tok, "", "nonsense"} {
		if status, _, _ := raw(t, "GET", c.URL+"/clients", h, "", ""); status != http.StatusUnauthorized {
			t.Errorf("Authorization %q: HTTP %d, want 401", h, status)
		}
	}
	c.ExpireTokens()
	if status, _, _ := raw(t, "GET", c.URL+"/clients", tok, "", ""); status != http.StatusUnauthorized {
		t.Errorf("expired token: HTTP %d, want 401", status)
	}
}

func TestListsAndContactLookup(t *testing.T) {
	c := newFake(t)
	acme := c.AddClient(crm.Client{Name: "Acme"})
	ct := c.AddContact(crm.Contact{ClientID: acme.ID, Email: "Bob@Acme.example", FirstName: "Bob"})
	c.AddContact(crm.Contact{ClientID: acme.ID, Email: "eve@acme.example"})
	tok := login(t, c)

	_, _, b := raw(t, "GET", c.URL+"/contacts?email="+url.QueryEscape("bob@ACME.example"), tok, "", "")
	var got []crm.Contact
	if err := json.Unmarshal(b, &got); err != nil || len(got) != 1 || got[0] != ct {
		t.Fatalf("contacts?email: %s (%v)", b, err)
	}
	_, _, b = raw(t, "GET", c.URL+"/contacts?email=nobody@x.example", tok, "", "")
	if strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("miss: %s, want []", b)
	}
	_, _, b = raw(t, "GET", c.URL+"/clients", tok, "", "")
	if !bytes.HasPrefix(b, []byte("[")) || !strings.Contains(string(b), `"Acme"`) {
		t.Errorf("clients: %s", b)
	}
	_, _, b = raw(t, "GET", c.URL+"/clients/"+itoa(acme.ID)+"/contacts", tok, "", "")
	if err := json.Unmarshal(b, &got); err != nil || len(got) != 2 {
		t.Errorf("client contacts: %s", b)
	}
	if status, _, _ := raw(t, "GET", c.URL+"/clients/999999", tok, "", ""); status != 404 {
		t.Errorf("unknown client: HTTP %d", status)
	}
	c.RemoveContact(ct.ID)
	_, _, b = raw(t, "GET", c.URL+"/contacts?email=bob@acme.example", tok, "", "")
	if strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("removed contact still found: %s", b)
	}
	if n := c.Stats().ByRoute["GET /contacts"]; n != 3 {
		t.Errorf("ByRoute[GET /contacts] = %d, want 3", n)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestCreateInteractionValidatesAndDuplicates(t *testing.T) {
	c := newFake(t)
	acme := c.AddClient(crm.Client{Name: "Acme"})
	other := c.AddClient(crm.Client{Name: "Other"})
	bob := c.AddContact(crm.Contact{ClientID: acme.ID, Email: "bob@acme.example"})
	stranger := c.AddContact(crm.Contact{ClientID: other.ID, Email: "s@other.example"})
	tok := login(t, c)
	u := c.URL + "/clients/" + itoa(acme.ID) + "/interactions"
	date := `"interactionDate":"2026-11-20T10:00:00Z"`

	bad := map[string]string{
		"type 0":         `{"interactionTypeId":0,"subject":"s",` + date + `}`,
		"type 9":         `{"interactionTypeId":9,"subject":"s",` + date + `}`,
		"no subject":     `{"interactionTypeId":4,` + date + `}`,
		"no date":        `{"interactionTypeId":4,"subject":"s"}`,
		"foreign person": `{"interactionTypeId":4,"subject":"s",` + date + `,"contactIds":[` + itoa(stranger.ID) + `]}`,
		"not JSON":       `{`,
	}
	for name, body := range bad {
		status, ct, b := raw(t, "POST", u, tok, "application/json", body)
		if status != 400 || !strings.HasPrefix(ct, "application/json") || !strings.Contains(string(b), "message") {
			t.Errorf("%s: HTTP %d %s %s, want 400 JSON error", name, status, ct, b)
		}
	}
	good := `{"interactionTypeId":4,"subject":"Hello",` + date + `,"note":"n","contactIds":[` + itoa(bob.ID) + `]}`
	for range 2 {
		if status, _, b := raw(t, "POST", u, tok, "application/json", good); status != 201 || !strings.Contains(string(b), `"id"`) {
			t.Fatalf("create: HTTP %d %s", status, b)
		}
	}
	got := c.Interactions(acme.ID)
	if len(got) != 2 || got[0].ID == got[1].ID || got[0].Subject != "Hello" || got[0].ContactIDs[0] != bob.ID {
		t.Fatalf("stored %+v, want two distinct copies", got)
	}
	got[0].ContactIDs[0] = -1
	if c.Interactions(acme.ID)[0].ContactIDs[0] != bob.ID {
		t.Error("Interactions returned shared storage")
	}
	if status, _, _ := raw(t, "POST", c.URL+"/clients/424242/interactions", tok, "application/json", good); status != 404 {
		t.Errorf("unknown client: HTTP %d, want 404", status)
	}
	if n := len(c.AllInteractions()); n != 2 {
		t.Errorf("AllInteractions: %d, want 2", n)
	}
}

func TestMaintenancePage(t *testing.T) {
	c := newFake(t)
	c.SetMaintenance(true)
	for _, p := range []string{"/auth", "/clients"} {
		method := "GET"
		if p == "/auth" {
			method = "POST"
		}
		status, ct, b := raw(t, method, c.URL+p, "", "application/json", `{}`)
		if status != 503 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(b), "System Maintenance") {
			t.Errorf("%s: HTTP %d %s %q", p, status, ct, b)
		}
	}
	c.SetMaintenance(false)
	login(t, c)
}

func TestRetryAfterAndEarlyRetries(t *testing.T) {
	c := newFake(t)
	tok := login(t, c)
	c.SetFaults(Faults{Rate: 1, Kinds: []FaultKind{Throttle429}, RetryAfter: 1500 * time.Millisecond, Max: 1})
	req, _ := http.NewRequest("GET", c.URL+"/clients", nil)
	req.Header.Set("Authorization", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("HTTP %d Retry-After %q, want 429 and 2 (1.5 s rounded up)", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Repeating at once is early; the fault budget (Max 1) is spent.
	if status, _, _ := raw(t, "GET", c.URL+"/clients", tok, "", ""); status != 200 {
		t.Fatalf("retry: HTTP %d", status)
	}
	if s := c.Stats(); s.EarlyRetries != 1 {
		t.Errorf("EarlyRetries = %d, want 1", s.EarlyRetries)
	}
}

func TestConnectionFaults(t *testing.T) {
	c := newFake(t)
	acme := c.AddClient(crm.Client{Name: "Acme"})
	tok := login(t, c)
	for _, k := range []FaultKind{ConnReset, TruncatedBody, ResetAfterApply} {
		c.SetFaults(Faults{Rate: 1, Kinds: []FaultKind{k}, Max: 1})
		req, _ := http.NewRequest("POST", c.URL+"/clients/"+itoa(acme.ID)+"/interactions",
			strings.NewReader(`{"interactionTypeId":1,"subject":"s","interactionDate":"2026-11-20T10:00:00Z"}`))
		req.Header.Set("Authorization", tok)
		before := len(c.Interactions(acme.ID))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err == nil {
			t.Errorf("%v: the request succeeded", k)
		}
		applied := len(c.Interactions(acme.ID)) - before
		if want := map[FaultKind]int{ConnReset: 0, TruncatedBody: 1, ResetAfterApply: 1}[k]; applied != want {
			t.Errorf("%v: %d interactions stored, want %d", k, applied, want)
		}
	}
}

func TestMessageIDs(t *testing.T) {
	c := newFake(t)
	acme, globex := c.AddClient(crm.Client{Name: "Acme"}), c.AddClient(crm.Client{Name: "Globex"})
	tok := login(t, c)
	for _, in := range []struct {
		client int64
		note   string
	}{
		{acme.ID, "From: a@acme.example\nMessage-ID: <b@x>\n\nbody"},
		{acme.ID, "From: a@acme.example\nMessage-ID:  <a@x> \n\nbody"},
		{acme.ID, "From: a@acme.example\nMessage-ID: <b@x>\n\nbody"},
		{globex.ID, "From: g@globex.example\n\nMessage-ID: <in-the-body@x>"},
	} {
		b, _ := json.Marshal(crm.Interaction{InteractionTypeID: 1, Subject: "s", InteractionDate: time.Now(), Note: in.note})
		if status, _, body := raw(t, "POST", c.URL+"/clients/"+itoa(in.client)+"/interactions", tok, "application/json", string(b)); status != 201 && status != 200 {
			t.Fatalf("create interaction: HTTP %d %s", status, body)
		}
	}
	want := map[int64][]string{acme.ID: {"<a@x>", "<b@x>", "<b@x>"}, globex.ID: {""}}
	if got := c.MessageIDs(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("MessageIDs = %v, want %v", got, want)
	}
}
