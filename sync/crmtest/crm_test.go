package crmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
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

// docs/evidence.md: GET /v1/contacts?email= answers one object or null, never
// an array; /contacts/search?term= an array matching more than the address.
func TestListsAndContactLookup(t *testing.T) {
	c := newFake(t)
	acme := c.AddClient(crm.Client{Name: "Acme"})
	ct := c.AddContact(crm.Contact{ClientID: acme.ID, Email: "Bob@Acme.example", FirstName: "Bob"})
	c.AddContact(crm.Contact{ClientID: acme.ID, Email: "eve@acme.example"})
	tok := login(t, c)

	_, _, b := raw(t, "GET", c.URL+"/contacts?email="+url.QueryEscape("bob@ACME.example"), tok, "", "")
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil || got["id"] != float64(ct.ID) || got["clientId"] != float64(acme.ID) || got["email"] != "Bob@Acme.example" {
		t.Fatalf("contacts?email: %s (%v), want one object", b, err)
	}
	_, _, b = raw(t, "GET", c.URL+"/contacts?email=nobody@x.example", tok, "", "")
	if strings.TrimSpace(string(b)) != "null" {
		t.Errorf("miss: %s, want null", b)
	}
	_, _, b = raw(t, "GET", c.URL+"/contacts/search?term="+url.QueryEscape("'bob@acme.example'"), tok, "", "")
	var found []map[string]any
	if err := json.Unmarshal(b, &found); err != nil || len(found) != 2 {
		t.Errorf("contacts/search: %s (%v), want an array of both Acme contacts (the term matches the domain)", b, err)
	}
	_, _, b = raw(t, "GET", c.URL+"/clients", tok, "", "")
	if !bytes.HasPrefix(b, []byte("[")) || !strings.Contains(string(b), `"Acme"`) {
		t.Errorf("clients: %s", b)
	}
	_, _, b = raw(t, "GET", c.URL+"/clients/"+itoa(acme.ID)+"/contacts", tok, "", "")
	if err := json.Unmarshal(b, &found); err != nil || len(found) != 2 {
		t.Errorf("client contacts: %s", b)
	}
	if status, _, _ := raw(t, "GET", c.URL+"/clients/999999", tok, "", ""); status != 404 {
		t.Errorf("unknown client: HTTP %d", status)
	}
	c.RemoveContact(ct.ID)
	_, _, b = raw(t, "GET", c.URL+"/contacts?email=bob@acme.example", tok, "", "")
	if strings.TrimSpace(string(b)) != "null" {
		t.Errorf("removed contact still found: %s", b)
	}
	if n := c.Stats().ByRoute["GET /contacts"]; n != 3 {
		t.Errorf("ByRoute[GET /contacts] = %d, want 3", n)
	}
}

// docs/evidence.md: /v2/contact/search is paged (0-based page, size, last,
// totalElements, totalPages), honours modifiedAfter=YYYY-MM-DD and
// sortBy=modifiedTime, and takes the v1 token.
func TestContactSearchV2(t *testing.T) {
	c := newFake(t)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	c.SetClock(func() time.Time { return now })
	acme := c.AddClient(crm.Client{Name: "Acme"})
	var ids []int64
	for i := range 5 {
		ids = append(ids, c.AddContact(crm.Contact{ClientID: acme.ID, Email: "p" + itoa(int64(i)) + "@acme.example"}).ID)
	}
	now = now.Add(48 * time.Hour)
	c.TouchContact(ids[1])
	tok := login(t, c)
	v2 := strings.TrimSuffix(c.URL, "/v1") + "/v2"

	type page struct {
		Data []struct {
			ID             int64  `json:"id"`
			UUID           string `json:"uuid"`
			Email          string `json:"email"`
			TenantClientID int64  `json:"tenantClientId"`
			TenantClient   any    `json:"tenantClient"`
			CreatedTime    any    `json:"createdTime"`
			ModifiedTime   any    `json:"modifiedTime"`
		} `json:"data"`
		Page          int  `json:"page"`
		Last          bool `json:"last"`
		TotalElements int  `json:"totalElements"`
		TotalPages    int  `json:"totalPages"`
	}
	var seen []int64
	withoutID := 0
	for p := 0; ; p++ {
		status, _, b := raw(t, "GET", v2+"/contact/search?page="+itoa(int64(p))+"&size=2", tok, "", "")
		var pg page
		if status != 200 || json.Unmarshal(b, &pg) != nil {
			t.Fatalf("page %d: HTTP %d %s", p, status, b)
		}
		if pg.Page != p || pg.TotalElements != 5 || pg.TotalPages != 3 || pg.Last != (p == 2) {
			t.Errorf("page %d: page %d last %v total %d/%d", p, pg.Page, pg.Last, pg.TotalElements, pg.TotalPages)
		}
		for _, d := range pg.Data {
			tc, _ := d.TenantClient.(map[string]any)
			if d.UUID == "" || d.Email == "" || d.CreatedTime == nil || d.ModifiedTime == nil || tc == nil ||
				tc["id"] != float64(acme.ID) || tc["name"] != "Acme" || tc["uuid"] == nil || tc["status"] == nil {
				t.Errorf("contact %+v lacks a field", d)
			}
			switch d.TenantClientID {
			case 0:
				withoutID++
			case acme.ID:
			default:
				t.Errorf("contact %+v: tenantClientId %d", d, d.TenantClientID)
			}
			seen = append(seen, d.ID)
		}
		if pg.Last {
			break
		}
	}
	if !slices.Equal(seen, ids) {
		t.Errorf("pages gave %v, want %v", seen, ids)
	}
	if withoutID == 0 || withoutID == len(ids) {
		t.Errorf("%d of %d contacts without tenantClientId; want some of each", withoutID, len(ids))
	}
	// Sorted by modifiedTime: newest first unless told otherwise (the
	// direction is unknown).
	for oldest, want := range map[bool]int64{false: ids[1], true: ids[0]} {
		c.SetDirectoryOldestFirst(oldest)
		_, _, b := raw(t, "GET", v2+"/contact/search?page=0&size=1&sortBy=modifiedTime", tok, "", "")
		var pg page
		if err := json.Unmarshal(b, &pg); err != nil || len(pg.Data) != 1 || pg.Data[0].ID != want {
			t.Errorf("oldest first %v: %s, want contact %d first", oldest, b, want)
		}
	}
	_, _, b := raw(t, "GET", v2+"/contact/search?page=0&size=200&sortBy=modifiedTime&modifiedAfter="+now.Format(time.DateOnly), tok, "", "")
	var pg page
	if err := json.Unmarshal(b, &pg); err != nil || len(pg.Data) != 1 || pg.Data[0].ID != ids[1] || !pg.Last {
		t.Errorf("modifiedAfter: %s, want only the touched contact", b)
	}
	if status, _, _ := raw(t, "GET", v2+"/contact/search?page=0&size=2", "Bearer "+tok, "", ""); status != http.StatusUnauthorized {
		t.Errorf("v2 with Bearer: HTTP %d, want 401", status)
	}
	c.SetV2Unavailable(true)
	if status, _, _ := raw(t, "GET", v2+"/contact/search?page=0&size=2", tok, "", ""); status != http.StatusNotFound {
		t.Errorf("v2 unavailable: HTTP %d, want 404", status)
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
	date := `"interactionDate":"2026-11-20"`

	bad := map[string]string{
		"type 0":       `{"interactionTypeId":0,"subject":"s",` + date + `}`,
		"type 9":       `{"interactionTypeId":9,"subject":"s",` + date + `}`,
		"no subject":   `{"interactionTypeId":4,` + date + `}`,
		"no date":      `{"interactionTypeId":4,"subject":"s"}`,
		"RFC 3339 day": `{"interactionTypeId":4,"subject":"s","interactionDate":"2026-11-20T10:00:00Z"}`,
		"not JSON":     `{`,
	}
	for name, body := range bad {
		status, ct, b := raw(t, "POST", u, tok, "application/json", body)
		if status != 400 || !strings.HasPrefix(ct, "application/json") || !strings.Contains(string(b), `"userMessage"`) {
			t.Errorf("%s: HTTP %d %s %s, want 400 JSON error with userMessage", name, status, ct, b)
		}
	}
	// A contact of another client: refused with 200 null.
	status, _, b := raw(t, "POST", u, tok, "application/json", `{"interactionTypeId":4,"subject":"s",`+date+`,"contactIds":[`+itoa(stranger.ID)+`]}`)
	if status != 200 || strings.TrimSpace(string(b)) != "null" {
		t.Errorf("foreign contact: HTTP %d %s, want 200 null", status, b)
	}
	good := `{"interactionTypeId":4,"subject":"Hello",` + date + `,"note":"n","contactIds":[` + itoa(bob.ID) + `]}`
	var objects, with200, locations int
	for range 10 {
		req, _ := http.NewRequest("POST", u, strings.NewReader(good))
		req.Header.Set("Authorization", tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode != 201 && resp.StatusCode != 200:
			t.Fatalf("create: HTTP %d %s", resp.StatusCode, b)
		case len(b) == 0 && strings.HasPrefix(resp.Header.Get("Location"), "/v1/clients/") && resp.StatusCode == 201:
			locations++
		case strings.Contains(string(b), `"id"`):
			objects++
			if resp.StatusCode == 200 {
				with200++
			}
		default:
			t.Errorf("create: neither an object nor a Location: %q %q", b, resp.Header.Get("Location"))
		}
	}
	// docs/evidence.md: recorded creates answer 201 or 200 with the object;
	// an empty body with a relative Location only in stubs: rare.
	if objects == 0 || with200 == 0 || with200 == objects || locations != 1 {
		t.Errorf("%d object answers (%d with 200), %d Location answers; want both statuses and one Location in ten", objects, with200, locations)
	}
	got := c.Interactions(acme.ID)
	if len(got) != 10 || got[0].ID == got[1].ID || got[0].Subject != "Hello" || got[0].ContactIDs[0] != bob.ID ||
		!got[0].InteractionDate.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("stored %+v, want ten distinct copies", got)
	}
	got[0].ContactIDs[0] = -1
	if c.Interactions(acme.ID)[0].ContactIDs[0] != bob.ID {
		t.Error("Interactions returned shared storage")
	}
	if status, _, _ := raw(t, "POST", c.URL+"/clients/424242/interactions", tok, "application/json", good); status != 404 {
		t.Errorf("unknown client: HTTP %d, want 404", status)
	}
	if n := len(c.AllInteractions()); n != 10 {
		t.Errorf("AllInteractions: %d, want 10", n)
	}
}

// docs/evidence.md: the list is read in pages of 100 (0-based page), has no
// interactionDate, and notes are HTML.
func TestInteractionsPagedWithTransformedNotes(t *testing.T) {
	c := newFake(t)
	acme := c.AddClient(crm.Client{Name: "Acme"})
	tok := login(t, c)
	u := c.URL + "/clients/" + itoa(acme.ID) + "/interactions"
	// A note as Mail Sync posts it: escaped HTML, with a newline between
	// blocks.
	const note = "<p>From: Ann &lt;ann@x&gt;<br>Message-ID: &lt;m@x&gt;</p>\n<p>a &amp; b</p>"
	for i := range 250 {
		body, _ := json.Marshal(map[string]any{"interactionTypeId": 4, "subject": "s" + itoa(int64(i)), "interactionDate": "2026-11-20", "note": note})
		if status, _, b := raw(t, "POST", u, tok, "application/json", string(body)); status != 201 && status != 200 {
			t.Fatalf("create: HTTP %d %s", status, b)
		}
	}
	// v1 paging is unknown (docs/evidence.md): by default the fake ignores
	// ?page= and answers the first page.
	_, _, p0 := raw(t, "GET", u+"?page=0", tok, "", "")
	_, _, p1 := raw(t, "GET", u+"?page=1", tok, "", "")
	if string(p0) != string(p1) {
		t.Error("the fake honours v1 ?page= by default")
	}
	c.SetV1Paging(true)
	want := map[string]string{
		note: "as sent",
		strings.ReplaceAll(html.EscapeString(note), "\n", "<br>"): "escaped",
		strings.ReplaceAll(note, "\n", "<br>"):                    "breaks",
		"\nFrom: Ann <ann@x>\nMessage-ID: <m@x>\n\n\na & b\n":     "stripped",
	}
	forms := map[string]bool{}
	var subjects []string
	for p, n := range []int{100, 100, 50, 0} {
		_, _, b := raw(t, "GET", u+"?page="+itoa(int64(p)), tok, "", "")
		var page []map[string]any
		if err := json.Unmarshal(b, &page); err != nil || len(page) != n {
			t.Fatalf("page %d: %d items (%v), want %d", p, len(page), err, n)
		}
		for _, in := range page {
			if _, ok := in["interactionDate"]; ok {
				t.Fatal("interactionDate in a listed interaction")
			}
			subjects = append(subjects, in["subject"].(string))
			form, ok := want[in["note"].(string)]
			if !ok {
				t.Fatalf("note came back as %q", in["note"])
			}
			forms[form] = true
		}
	}
	if subjects[0] != "s0" || subjects[249] != "s249" {
		t.Errorf("order %s … %s, want oldest first", subjects[0], subjects[249])
	}
	if len(forms) != 4 || !forms["as sent"] || !forms["escaped"] || !forms["breaks"] || !forms["stripped"] {
		t.Errorf("note forms %v, want as sent, escaped, breaks and stripped in one run", forms)
	}
}

// docs/evidence.md (the token): 12 hours; expired → 401 invalid_token with
// WWW-Authenticate: Bearer.
func TestTokenExpiresAfter12Hours(t *testing.T) {
	c := newFake(t)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	_, _, b := raw(t, "POST", c.URL+"/auth", "", "application/x-www-form-urlencoded", "username=ann&password=pw1")
	var a map[string]any
	if err := json.Unmarshal(b, &a); err != nil || a["expires_in"] != float64(43200) || a["token_type"] != "Bearer" {
		t.Fatalf("auth: %s", b)
	}
	tok := a["access_token"].(string)
	mu.Lock()
	now = now.Add(12*time.Hour - time.Second)
	mu.Unlock()
	if status, _, _ := raw(t, "GET", c.URL+"/clients", tok, "", ""); status != 200 {
		t.Errorf("before 12 h: HTTP %d", status)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	req, _ := http.NewRequest("GET", c.URL+"/clients", nil)
	req.Header.Set("Authorization", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") || !strings.Contains(string(b), `"error":"invalid_token"`) {
		t.Errorf("after 12 h: HTTP %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), b)
	}
	if status, _, b := raw(t, "POST", c.URL+"/auth", "", "application/json", `{"username":"ann","password":"wrong"}`); status != 401 || !strings.Contains(string(b), `"code":"Unauthorized"`) {
		t.Errorf("bad password: HTTP %d %s", status, b)
	}
}

func TestMaintenancePage(t *testing.T) {
	c := newFake(t)
	c.SetMaintenance(true)
	// The first request meets the page, the second a reset.
	if _, err := http.Get(c.URL + "/clients"); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(c.URL + "/clients"); err == nil {
		resp.Body.Close()
		t.Error("second request in maintenance: no reset")
	}
	for _, p := range []string{"/auth", "/clients"} {
		c.SetMaintenance(true)
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
	c.SetCreateAnswer(CreateObject)
	for _, k := range []FaultKind{ConnReset, TruncatedBody, ResetAfterApply} {
		c.SetFaults(Faults{Rate: 1, Kinds: []FaultKind{k}, Max: 1})
		req, _ := http.NewRequest("POST", c.URL+"/clients/"+itoa(acme.ID)+"/interactions",
			strings.NewReader(`{"interactionTypeId":1,"subject":"s","interactionDate":"2026-11-20"}`))
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
		{acme.ID, "<p>From: a@acme.example<br>Message-ID:  &lt;a@x&gt; </p><p>body</p>"},
		{acme.ID, "From: a@acme.example\nMessage-ID: <b@x>\n\nbody"},
		{globex.ID, "From: g@globex.example\n\nMessage-ID: <in-the-body@x>"},
	} {
		b, _ := json.Marshal(map[string]any{"interactionTypeId": 1, "subject": "s", "interactionDate": "2026-11-20", "note": in.note})
		if status, _, body := raw(t, "POST", c.URL+"/clients/"+itoa(in.client)+"/interactions", tok, "application/json", string(b)); status != 201 && status != 200 {
			t.Fatalf("create interaction: HTTP %d %s", status, body)
		}
	}
	want := map[int64][]string{acme.ID: {"<a@x>", "<b@x>", "<b@x>"}, globex.ID: {""}}
	if got := c.MessageIDs(); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("MessageIDs = %v, want %v", got, want)
	}
}

// docs/evidence.md (GET /v1/clients/{id}/interactions): the documented, paged
// way to read a timeline is v2 /clientNote/search?clientId=&page=&size=,
// answering the v2 page object. The fake caps the size, and can ignore the
// page or answer in a shape that is not a page.
func TestNoteSearchV2(t *testing.T) {
	c := newFake(t)
	acme := c.AddClient(crm.Client{Name: "Acme"})
	globex := c.AddClient(crm.Client{Name: "Globex"})
	tok := login(t, c)
	for i := range 120 {
		cl := acme.ID
		if i%3 == 0 {
			cl = globex.ID
		}
		body, _ := json.Marshal(map[string]any{"interactionTypeId": 4, "subject": "s" + itoa(int64(i)), "interactionDate": "2026-11-20",
			"note": "<p>Message-ID: &lt;m" + itoa(int64(i)) + "@x&gt;</p>"})
		if status, _, b := raw(t, "POST", c.URL+"/clients/"+itoa(cl)+"/interactions", tok, "application/json", string(body)); status != 201 && status != 200 {
			t.Fatalf("create: HTTP %d %s", status, b)
		}
	}
	v2 := strings.TrimSuffix(c.URL, "/v1") + "/v2/clientNote/search?clientId=" + itoa(acme.ID)
	type page struct {
		Data          []map[string]any `json:"data"`
		Page          int              `json:"page"`
		Last          bool             `json:"last"`
		Size          int              `json:"size"`
		TotalElements int              `json:"totalElements"`
		TotalPages    int              `json:"totalPages"`
	}
	get := func(u string) page {
		t.Helper()
		status, _, b := raw(t, "GET", u, tok, "", "")
		var pg page
		if status != 200 || json.Unmarshal(b, &pg) != nil {
			t.Fatalf("%s: HTTP %d %s", u, status, b)
		}
		return pg
	}
	seen := map[any]bool{}
	for p := 0; ; p++ {
		pg := get(v2 + "&size=100&page=" + itoa(int64(p)))
		if pg.Page != p || pg.Size != 50 || pg.TotalElements != 80 || pg.TotalPages != 2 {
			t.Errorf("page %d: %+v", p, pg)
		}
		for _, n := range pg.Data {
			hasKeys(t, "note", n, "id", "subject", "interactionTypeId", "createdTime", "note", "sanitizedNote")
			seen[n["id"]] = true
		}
		if pg.Last {
			break
		}
	}
	if len(seen) != 80 {
		t.Errorf("%d notes, want Acme's 80", len(seen))
	}

	c.SetNoteSearch(NotesIgnorePage)
	if p0, p1 := get(v2+"&size=50&page=0"), get(v2+"&size=50&page=1"); p1.Page != 1 || fmt.Sprint(p0.Data) != fmt.Sprint(p1.Data) {
		t.Error("NotesIgnorePage: page 1 is not page 0 numbered 1")
	}
	c.SetNoteSearch(NotesUnreadable)
	if _, _, b := raw(t, "GET", v2, tok, "", ""); strings.Contains(string(b), `"data"`) {
		t.Errorf("NotesUnreadable answered a page: %s", b)
	}
	if status, _, _ := raw(t, "GET", strings.TrimSuffix(c.URL, "/v1")+"/v2/clientNote/search?clientId=424242", tok, "", ""); status != http.StatusNotFound {
		t.Errorf("unknown client: HTTP %d, want 404", status)
	}
}

func hasKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks %q: %v", what, k, m)
		}
	}
}
