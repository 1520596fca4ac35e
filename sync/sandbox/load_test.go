package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"mailsync/sync/crm"
	"mailsync/sync/crmtest"
	"mailsync/sync/graphtest"
)

// getJSON sends a GET with the given Authorization header and decodes the
// answer.
func getJSON(t *testing.T, u, auth string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func TestLoad(t *testing.T) {
	g, c := graphtest.NewGraph(), crmtest.NewCRM()
	defer g.Close()
	defer c.Close()
	w := Demo(now)
	w.Load(g, c)

	// The localized tree resolves by well-known name.
	var junk struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	getJSON(t, g.URL+"/me/mailFolders/junkemail", "Bearer sandbox", &junk)
	if junk.ID != FolderJunk || junk.DisplayName != "Junk-E-Mail" {
		t.Errorf("junkemail resolves to %+v", junk)
	}

	// Every message is listed, following the pages.
	listed := 0
	next := g.URL + "/me/messages?$top=10&$select=id"
	for next != "" {
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		getJSON(t, next, "Bearer sandbox", &page)
		listed += len(page.Value)
		next = page.NextLink
	}
	if listed != len(w.Messages) {
		t.Errorf("fake lists %d messages, world has %d", listed, len(w.Messages))
	}

	// The sandbox user signs in to ClientSuccess and finds the contacts.
	form := url.Values{"username": {w.CRMUser}, "password": {w.CRMPassword}}
	resp, err := http.Post(c.URL+"/auth", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	var auth crm.AuthResponse
	err = json.NewDecoder(resp.Body).Decode(&auth)
	resp.Body.Close()
	if err != nil || auth.AccessToken == "" {
		t.Fatalf("sign-in: %v %+v", err, auth)
	}
	// GET /contacts?email= answers one contact object or null.
	type contact struct {
		ID       int64 `json:"id"`
		ClientID int64 `json:"clientId"`
	}
	var found *contact
	getJSON(t, c.URL+"/contacts?email="+url.QueryEscape("Nancy.Davolio@northwind.example"), auth.AccessToken, &found)
	if found == nil || found.ClientID != ClientNorthwind {
		t.Errorf("contact look-up = %+v", found)
	}
	late := w.Late[0]
	found = nil
	getJSON(t, c.URL+"/contacts?email="+url.QueryEscape(late.Contact.Email), auth.AccessToken, &found)
	if found != nil {
		t.Errorf("late contact loaded early: %+v", found)
	}
	w.AddLate(c, late)
	getJSON(t, c.URL+"/contacts?email="+url.QueryEscape(late.Contact.Email), auth.AccessToken, &found)
	if found == nil || found.ClientID != ClientTailspin {
		t.Errorf("late contact after AddLate = %+v", found)
	}
	var clients []struct {
		ID int64 `json:"id"`
	}
	getJSON(t, c.URL+"/clients", auth.AccessToken, &clients)
	if len(clients) != len(w.Clients) {
		t.Errorf("%d clients loaded, want %d", len(clients), len(w.Clients))
	}
}

func TestLoadItemsStreams(t *testing.T) {
	g := graphtest.NewGraph()
	defer g.Close()
	o := Options{Now: now, Seed: 3, Messages: 1200, Contacts: 40}
	Account(o).Load(g, nil)
	LoadItems(g, o.Items())
	var page struct {
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"@odata.nextLink"`
	}
	getJSON(t, g.URL+"/me/messages?$top=1000&$select=id", "Bearer sandbox", &page)
	if len(page.Value) != 1000 || page.NextLink == "" {
		t.Fatalf("first page holds %d messages, next %q", len(page.Value), page.NextLink)
	}
}
