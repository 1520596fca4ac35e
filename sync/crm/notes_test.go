package crm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailsync/sync/crm"
	"mailsync/sync/remote"
)

// notesPage is one v2 page object of notes from..from+n-1 (docs/evidence.md:
// the v2 page object; a note carries id, subject, interactionTypeId,
// createdTime, note and sanitizedNote).
func notesPage(page, from, n int, last bool) string {
	var items []string
	for i := range n {
		id := from + i
		items = append(items, fmt.Sprintf(`{"id":%d,"subject":"s","interactionTypeId":4,"createdTime":"2026-11-20T10:00:00.000Z","note":"<p>Message-ID: &lt;m%d@x&gt;</p>","sanitizedNote":"Message-ID: <m%d@x>"}`, id, id, id))
	}
	return fmt.Sprintf(`{"data":[%s],"page":%d,"first":%t,"last":%t,"size":%d,"totalPages":3,"totalElements":250}`,
		strings.Join(items, ","), page, page == 0, last, n)
}

func TestEachNoteStreamsPagesAndStopsEarly(t *testing.T) {
	r := newReplay(t, map[string]answer{
		"GET /v2/clientNote/search?page=0": {200, nil, notesPage(0, 1, 100, false)},
		"GET /v2/clientNote/search?page=1": {200, nil, notesPage(1, 101, 100, false)},
		"GET /v2/clientNote/search?page=2": {200, nil, notesPage(2, 201, 50, true)},
	})
	api := r.api()
	n := 0
	if err := api.EachNote(context.Background(), 7, func(in crm.Interaction) bool { n++; return true }); err != nil || n != 250 {
		t.Fatalf("whole timeline: %d notes, %v", n, err)
	}
	for _, g := range r.got {
		if strings.Contains(g, "clientNote") && !strings.Contains(g, "clientId=7") {
			t.Errorf("request without the client: %s", g)
		}
	}
	before := len(r.got)
	n = 0
	err := api.EachNote(context.Background(), 7, func(in crm.Interaction) bool { n++; return in.ID != 150 })
	if err != nil || n != 150 || len(r.got)-before != 2 {
		t.Errorf("stopping at note 150: %d notes, %d requests, %v; want 150, 2", n, len(r.got)-before, err)
	}
}

// A service that ignores the page parameter answers page 0 again: what was
// read says nothing about the rest, so the listing is an error, not an end.
func TestEachNotePagingIgnoredIsIncomplete(t *testing.T) {
	for name, answers := range map[string]map[string]answer{
		"same page, numbered as asked": {"GET /v2/clientNote/search": {200, nil, strings.Replace(notesPage(0, 1, 100, false), `"page":0,`, ``, 1)}},
		"page 0 for page 1":            {"GET /v2/clientNote/search": {200, nil, notesPage(0, 1, 100, false)}},
	} {
		t.Run(name, func(t *testing.T) {
			r := newReplay(t, answers)
			n := 0
			err := r.api().EachNote(context.Background(), 7, func(crm.Interaction) bool { n++; return true })
			if !errors.Is(err, crm.ErrIncomplete) || kindOf(t, err) != remote.Transient {
				t.Fatalf("err = %v, want ErrIncomplete", err)
			}
			if len(r.got) != 3 { // the sign-in and two pages
				t.Errorf("%d requests, want 3: %v", len(r.got), r.got)
			}
		})
	}
}

// A note that cannot be read could be the one looked for: the page is
// unreadable, never read in part.
func TestEachNoteUnreadableNote(t *testing.T) {
	r := newReplay(t, map[string]answer{
		"GET /v2/clientNote/search": {200, nil, `{"data":[{"id":1,"note":"x"},{"note":"no id"}],"last":true}`},
	})
	n := 0
	err := r.api().EachNote(context.Background(), 7, func(crm.Interaction) bool { n++; return true })
	if err == nil || kindOf(t, err) != remote.Permanent || n != 0 {
		t.Fatalf("err = %v after %d notes; want a Permanent error before any", err, n)
	}
	if errors.Is(err, crm.ErrIncomplete) {
		t.Error("an unreadable answer is not ErrIncomplete")
	}
}

// The pages of a listing that never ends are capped.
func TestEachNotePageCap(t *testing.T) {
	var pages atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/auth" {
			fmt.Fprint(w, `{"access_token":"t","expires_in":43200}`)
			return
		}
		p := pages.Add(1) - 1
		fmt.Fprintf(w, `{"data":[{"id":%d,"note":"x"}],"page":%d,"last":false}`, p+1, p)
	}))
	defer srv.Close()
	err := newAPI(srv.URL+"/v1", password).EachNote(context.Background(), 7, func(crm.Interaction) bool { return true })
	if !errors.Is(err, crm.ErrIncomplete) {
		t.Fatalf("err = %v, want ErrIncomplete", err)
	}
	if n := pages.Load(); n < 100 || n > 5000 {
		t.Errorf("%d pages read before giving up", n)
	}
}

// v1 listing: a page that repeats the one before is not taken for the end.
func TestEachInteractionRepeatedPageIsIncomplete(t *testing.T) {
	var items []string
	for i := range crm.InteractionsPageSize {
		items = append(items, fmt.Sprintf(`{"id":%d,"note":"x"}`, i+1))
	}
	r := newReplay(t, map[string]answer{
		"GET /v1/clients/7/interactions": {200, nil, "[" + strings.Join(items, ",") + "]"},
	})
	_, err := r.api().Interactions(context.Background(), 7)
	if !errors.Is(err, crm.ErrIncomplete) {
		t.Fatalf("err = %v, want ErrIncomplete", err)
	}
}

// Every answer is bounded: one too large is not read, and not asked again.
func TestAnswerTooLarge(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/auth" {
			fmt.Fprint(w, `{"access_token":"t","expires_in":43200}`)
			return
		}
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":1,"name":"`)
		chunk := strings.Repeat("x", 1<<20)
		for range 40 {
			fmt.Fprint(w, chunk)
		}
		fmt.Fprint(w, `"}]`)
	}))
	defer srv.Close()
	_, err := newAPI(srv.URL+"/v1", password).Clients(context.Background())
	if err == nil || kindOf(t, err) != remote.Permanent || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a Permanent error saying the answer is too large", err)
	}
	if n.Load() != 1 {
		t.Errorf("asked %d times, want once", n.Load())
	}
}

// The published v2 schema has tenantClient as an object {id, uuid, name,
// status} (docs/evidence.md); other answers give the name. A contact without a
// client is left out with a reason, and the rest of the page is read.
func TestContactPageTenantClientShapesAndSkips(t *testing.T) {
	r := newReplay(t, map[string]answer{
		"GET /v2/contact/search": {200, nil, `{"data":[
			{"id":1,"email":"a@x","tenantClient":{"id":7,"uuid":"u","name":"Acme","status":"Active"}},
			{"id":2,"email":"b@x","tenantClientId":8,"tenantClient":"Globex"},
			{"id":3,"email":"c@x","tenantClient":"Initech"},
			{"id":4,"email":"d@x","tenantClientId":null,"tenantClient":null},
			{"email":"e@x","tenantClientId":9},
			"odd"
		],"page":0,"last":true}`},
	})
	p, err := r.api().SearchContacts(context.Background(), 0, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Contacts) != 2 || p.Contacts[0].ClientID != 7 || p.Contacts[1].ClientID != 8 || !p.Last {
		t.Errorf("contacts = %+v", p)
	}
	if len(p.Skipped) != 4 || !strings.Contains(strings.Join(p.Skipped, "|"), "without a client") {
		t.Errorf("skipped = %q", p.Skipped)
	}
	for _, s := range p.Skipped {
		if strings.Contains(s, "@x") || strings.Contains(s, "Initech") {
			t.Errorf("a reason holds a value: %q", s)
		}
	}
}

// A page that does not say whether it is the last, nor its size, may be
// shorter than asked because the service gives fewer: only an empty page
// ends the timeline.
func TestEachNoteShortPageWithoutLastIsNotTheEnd(t *testing.T) {
	strip := func(s string) string {
		for _, k := range []string{`,"last":false`, `,"last":true`, `,"totalPages":3`, `,"size":50`} {
			s = strings.Replace(s, k, "", 1)
		}
		return s
	}
	r := newReplay(t, map[string]answer{
		"GET /v2/clientNote/search?page=0": {200, nil, strip(notesPage(0, 1, 50, false))},
		"GET /v2/clientNote/search?page=1": {200, nil, strip(notesPage(1, 51, 50, false))},
		"GET /v2/clientNote/search?page=2": {200, nil, `{"data":[],"page":2}`},
	})
	n := 0
	if err := r.api().EachNote(context.Background(), 7, func(crm.Interaction) bool { n++; return true }); err != nil || n != 100 {
		t.Fatalf("%d notes, %v; want 100", n, err)
	}
}

// A page that says its size is short of it only when it is the last.
func TestEachNoteUsesTheSizeAnswered(t *testing.T) {
	strip := func(s string) string {
		for _, k := range []string{`,"last":false`, `,"last":true`, `,"totalPages":3`} {
			s = strings.Replace(s, k, "", 1)
		}
		return s
	}
	r := newReplay(t, map[string]answer{
		"GET /v2/clientNote/search?page=0": {200, nil, strip(notesPage(0, 1, 50, false))},
		"GET /v2/clientNote/search?page=1": {200, nil, strip(notesPage(1, 51, 50, false))},
		"GET /v2/clientNote/search?page=2": {200, nil, strings.Replace(strip(notesPage(2, 101, 20, false)), `"size":20`, `"size":50`, 1)},
	})
	n := 0
	if err := r.api().EachNote(context.Background(), 7, func(crm.Interaction) bool { n++; return true }); err != nil || n != 120 {
		t.Fatalf("%d notes, %v; want 120", n, err)
	}
}

// v1 look-ups leave a contact without a client out, and still refuse an
// answer that is not contacts.
func TestContactsWithoutClientLeftOut(t *testing.T) {
	r := newReplay(t, map[string]answer{
		"GET /v1/contacts/search": {200, nil, `[{"id":1,"email":"a@x.example","clientId":null},{"id":2,"email":"a@x.example","clientId":7}]`},
		"GET /v1/contacts":        {200, nil, `{"id":1,"email":"a@x.example","clientId":null,"client":null}`},
	})
	api := r.api()
	cs, err := api.FindContacts(context.Background(), "a@x.example")
	if err != nil || len(cs) != 1 || cs[0].ID != 2 {
		t.Errorf("FindContacts = %+v, %v; want contact 2 only", cs, err)
	}
	cs, err = api.ContactsByEmail(context.Background(), "a@x.example")
	if err != nil || len(cs) != 0 {
		t.Errorf("ContactsByEmail = %+v, %v; want none", cs, err)
	}
	r2 := newReplay(t, map[string]answer{"GET /v1/contacts/search": {200, nil, `[{"email":"a@x.example","clientId":7}]`}})
	if _, err := r2.api().FindContacts(context.Background(), "a@x.example"); err == nil {
		t.Error("a contact without an id was read")
	}
}
