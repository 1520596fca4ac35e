package graphtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
)

const inboxID = "inbox-0000000000000000000001"

var t0 = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

func newMailbox(t *testing.T) *graphtest.Graph {
	t.Helper()
	g := graphtest.NewGraph()
	t.Cleanup(g.Close)
	g.AddFolder(graphtest.Folder{ID: inboxID, DisplayName: "Boîte de réception", WellKnownName: "inbox"})
	g.AddMessage(graph.Message{
		ID: "AAMkA", InternetMessageID: "<a@x>", Subject: "A",
		From:             &graph.Recipient{EmailAddress: graph.EmailAddress{Address: "kim@fabrikam.example"}},
		ReceivedDateTime: t0, ParentFolderID: inboxID,
		SingleValueExtendedProperties: []graph.ExtendedProperty{{ID: "String 0x001A", Value: "IPM.Note"}},
	}, "line one\nline <two>")
	g.AddMessage(graph.Message{ID: "AAMkB", Subject: "B", ReceivedDateTime: t0.Add(-time.Hour), ParentFolderID: inboxID}, "b")
	return g
}

// call sends one authorized request and decodes the JSON answer.
func call(t *testing.T, method, u string, body any, hdr map[string]string) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: decode: %v", method, u, err)
	}
	return resp.StatusCode, resp.Header, out
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestGraphRejectsWhatGraphRejects(t *testing.T) {
	g := newMailbox(t)
	cases := []struct {
		query string
		code  string
	}{
		{"$top=0", "ErrorInvalidParameter"},
		{"$top=1001", "ErrorInvalidParameter"},
		{"$top=ten", "ErrorInvalidParameter"},
		{"$filter=" + url.QueryEscape("subject eq 'A'"), "ErrorInvalidUrlQueryFilter"},
		{"$filter=" + url.QueryEscape("receivedDateTime ge 2026-05-04T09:00:00Z and isDraft eq false"), "ErrorInvalidUrlQueryFilter"},
		{"$filter=" + url.QueryEscape("receivedDateTime ge yesterday"), "BadRequest"},
		{"$filter=" + url.QueryEscape("receivedDateTime ge 2026-05-04T09:00:00Z and lastModifiedDateTime gt 2026-05-04T09:00:00Z"), "ErrorInvalidUrlQueryFilter"},
		{"$filter=" + url.QueryEscape("receivedDateTime ge 2026-05-04T09:00:00Z or lastModifiedDateTime ge 2026-05-04T09:00:00Z"), "ErrorInvalidUrlQueryFilter"},
		{"$filter=" + url.QueryEscape("receivedDateTime ge 2026-05-04T09:00:00Z AND lastModifiedDateTime ge 2026-05-04T09:00:00Z"), "ErrorInvalidUrlQueryFilter"},
		{"$filter=" + url.QueryEscape("receivedDateTime ge 2026-05-04T09:00:00Z and lastModifiedDateTime ge soon"), "BadRequest"},
		{"$filter=" + url.QueryEscape("receivedDateTime ge 2026-05-04T09:00:00Z and lastModifiedDateTime lt 2026-05-05T09:00:00Z"), "ErrorInvalidUrlQueryFilter"},
		{"$filter=" + url.QueryEscape("receivedDateTime ge 2026-05-04T09:00:00Z and receivedDateTime lt later"), "BadRequest"},
		{"$select=id,subjet", "RequestBroker--ParseUri"},
		{"$expand=attachments", "BadRequest"},
		{"$orderby=subject", "BadRequest"},
		{"foo=bar", "BadRequest"},
		{"$skip=-1", "BadRequest"},
	}
	for _, tc := range cases {
		status, _, body := call(t, "GET", g.URL+"/me/messages?"+tc.query, nil, nil)
		if status != 400 || errorCode(body) != tc.code {
			t.Errorf("%s: %d %q, want 400 %q", tc.query, status, errorCode(body), tc.code)
		}
	}
	if status, _, body := call(t, "GET", g.URL+"/me/contacts", nil, nil); status != 400 || errorCode(body) != "BadRequest" {
		t.Errorf("unknown segment: %d %v", status, body)
	}
}

func TestGraphSelectExpandAndOrder(t *testing.T) {
	g := newMailbox(t)
	q := "$select=id,subject&$expand=" + url.QueryEscape("singleValueExtendedProperties($filter=id eq 'String 0x001A')")
	status, _, body := call(t, "GET", g.URL+"/me/messages?"+q, nil, nil)
	if status != 200 {
		t.Fatalf("status %d: %v", status, body)
	}
	value := body["value"].([]any)
	if len(value) != 2 {
		t.Fatalf("%d messages, want 2", len(value))
	}
	a, b := value[0].(map[string]any), value[1].(map[string]any)
	if a["id"] != "AAMkA" || b["id"] != "AAMkB" {
		t.Errorf("order %v, %v; want newest first", a["id"], b["id"])
	}
	if got, want := slices.Sorted(maps.Keys(a)), []string{"@odata.etag", "id", "singleValueExtendedProperties", "subject"}; !slices.Equal(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	props := a["singleValueExtendedProperties"].([]any)
	if p := props[0].(map[string]any); p["id"] != "String 0x1a" || p["value"] != "IPM.Note" {
		t.Errorf("property %v, want the normalised id", p)
	}
	if _, ok := b["singleValueExtendedProperties"]; ok {
		t.Error("a message without the property came back with it")
	}

	// Without $select, Graph's default projection: body as HTML, no
	// extended properties.
	_, _, body = call(t, "GET", g.URL+"/me/messages/AAMkA", nil, nil)
	if _, ok := body["singleValueExtendedProperties"]; ok || body["bccRecipients"] == nil || body["isRead"] == nil {
		t.Errorf("default projection wrong: %v", slices.Sorted(maps.Keys(body)))
	}
	html := body["body"].(map[string]any)
	if html["contentType"] != "html" || !strings.Contains(html["content"].(string), "line one<br>") ||
		!strings.Contains(html["content"].(string), "line &lt;two&gt;") {
		t.Errorf("html body = %v", html)
	}
	_, hdr, body := call(t, "GET", g.URL+"/me/messages/AAMkA?$select=body", nil, map[string]string{"Prefer": `outlook.body-content-type="text"`})
	text := body["body"].(map[string]any)
	if text["contentType"] != "text" || text["content"] != "line one\nline <two>" || hdr.Get("Preference-Applied") == "" {
		t.Errorf("text body = %v", text)
	}
}

func TestGraphPagingAndFilter(t *testing.T) {
	g := newMailbox(t)
	for i := range 25 {
		g.AddMessage(graph.Message{Subject: "n", ReceivedDateTime: t0.Add(time.Duration(i+1) * time.Minute), ParentFolderID: inboxID}, "")
	}
	// Default $top is 10; the filter keeps the 25 new ones and A (edge).
	u := g.URL + "/me/messages?$filter=" + url.QueryEscape("receivedDateTime ge "+t0.Format(time.RFC3339)) + "&$select=id"
	var sizes []int
	seen := map[string]bool{}
	for u != "" {
		status, _, body := call(t, "GET", u, nil, nil)
		if status != 200 {
			t.Fatalf("status %d: %v", status, body)
		}
		for _, v := range body["value"].([]any) {
			seen[v.(map[string]any)["id"].(string)] = true
		}
		sizes = append(sizes, len(body["value"].([]any)))
		u, _ = body["@odata.nextLink"].(string)
	}
	if !slices.Equal(sizes, []int{10, 10, 6}) || len(seen) != 26 || !seen["AAMkA"] || seen["AAMkB"] {
		t.Errorf("pages %v, %d distinct ids", sizes, len(seen))
	}
}

// A range of receive times, as a backfill lists one day: the start is in
// it, the end is not.
func TestGraphFilterRange(t *testing.T) {
	g := newMailbox(t)
	for i := range 10 {
		g.AddMessage(graph.Message{Subject: fmt.Sprint(i), ReceivedDateTime: t0.Add(-time.Duration(i) * 24 * time.Hour), ParentFolderID: inboxID}, "")
	}
	from, to := t0.Add(-5*24*time.Hour), t0.Add(-2*24*time.Hour)
	u := g.URL + "/me/messages?$top=1000&$select=subject&$filter=" + url.QueryEscape(
		"receivedDateTime ge "+from.Format(time.RFC3339)+" and receivedDateTime lt "+to.Format(time.RFC3339))
	status, _, body := call(t, "GET", u, nil, nil)
	if status != 200 {
		t.Fatalf("status %d: %v", status, body)
	}
	var got []string
	for _, v := range body["value"].([]any) {
		got = append(got, v.(map[string]any)["subject"].(string))
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"3", "4", "5"}) {
		t.Errorf("listed %v, want the messages 3, 4 and 5 days old", got)
	}
}

func TestGraphMoveCopyDelete(t *testing.T) {
	g := newMailbox(t)
	g.AddFolder(graphtest.Folder{ID: "archive-00000000000000000001", DisplayName: "Archiv", WellKnownName: "archive"})
	moved := g.MoveMessage("AAMkA", "archive-00000000000000000001")
	copied := g.CopyMessage(moved, inboxID)
	if moved == "AAMkA" || copied == moved || moved == "" {
		t.Fatalf("ids: moved %q, copied %q", moved, copied)
	}
	if status, _, body := call(t, "GET", g.URL+"/me/messages/AAMkA", nil, nil); status != 404 || errorCode(body) != "ErrorItemNotFound" {
		t.Errorf("old id: %d %v", status, body)
	}
	for _, id := range []string{moved, copied} {
		_, _, body := call(t, "GET", g.URL+"/me/messages/"+url.PathEscape(id)+"?$select=internetMessageId,parentFolderId", nil, nil)
		if body["internetMessageId"] != "<a@x>" {
			t.Errorf("%s lost its internetMessageId: %v", id, body)
		}
	}
	g.DeleteMessage(copied)
	if status, _, _ := call(t, "GET", g.URL+"/me/messages/"+url.PathEscape(copied), nil, nil); status != 404 {
		t.Errorf("deleted message answered %d", status)
	}
}

func TestGraphFolders(t *testing.T) {
	g := newMailbox(t)
	g.AddFolder(graphtest.Folder{ID: "sync-000000000000000000000001", DisplayName: "Problèmes de synchronisation", WellKnownName: "syncissues"})
	for i := range 3 {
		g.AddFolder(graphtest.Folder{ID: "child-00000000000000000000000" + string(rune('a'+i)), ParentID: "sync-000000000000000000000001", DisplayName: "Conflits"})
	}
	status, _, body := call(t, "GET", g.URL+"/me/mailFolders/SyncIssues?$select=id,childFolderCount", nil, nil)
	if status != 200 || body["id"] != "sync-000000000000000000000001" || body["childFolderCount"] != 3.0 {
		t.Errorf("well-known look-up: %d %v", status, body)
	}
	if status, _, body := call(t, "GET", g.URL+"/me/mailFolders/junkemail", nil, nil); status != 404 || errorCode(body) != "ErrorFolderNotFound" {
		t.Errorf("missing well-known folder: %d %v", status, body)
	}
	if status, _, body := call(t, "GET", g.URL+"/me/mailFolders/rssfeeds", nil, nil); status != 400 || errorCode(body) != "ErrorInvalidIdMalformed" {
		t.Errorf("not a well-known name: %d %v", status, body)
	}
	status, _, body = call(t, "GET", g.URL+"/me/mailFolders/syncissues/childFolders?$top=2", nil, nil)
	next, _ := body["@odata.nextLink"].(string)
	if status != 200 || len(body["value"].([]any)) != 2 || next == "" {
		t.Fatalf("first child page: %d %v", status, body)
	}
	_, _, body = call(t, "GET", next, nil, nil)
	if len(body["value"].([]any)) != 1 || body["@odata.nextLink"] != nil {
		t.Errorf("second child page: %v", body)
	}
}

func TestGraphBatch(t *testing.T) {
	g := newMailbox(t)
	reqs := []map[string]any{
		{"id": "1", "method": "GET", "url": "/me/messages/AAMkA?$select=body", "headers": map[string]string{"Prefer": `outlook.body-content-type="text"`}},
		{"id": "2", "method": "GET", "url": "/me/messages/gone?$select=body"},
		{"id": "3", "method": "GET", "url": "me/mailFolders/inbox?$select=id"},
	}
	status, _, body := call(t, "POST", g.URL+"/$batch", map[string]any{"requests": reqs}, nil)
	if status != 200 {
		t.Fatalf("batch: %d %v", status, body)
	}
	got := map[string]map[string]any{}
	for _, r := range body["responses"].([]any) {
		r := r.(map[string]any)
		got[r["id"].(string)] = r
	}
	if r := got["1"]; r["status"] != 200.0 || r["body"].(map[string]any)["body"].(map[string]any)["contentType"] != "text" {
		t.Errorf("item 1: %v", r)
	}
	if r := got["2"]; r["status"] != 404.0 || r["body"].(map[string]any)["error"] == nil {
		t.Errorf("item 2: %v", r)
	}
	if r := got["3"]; r["status"] != 200.0 || r["body"].(map[string]any)["id"] != inboxID {
		t.Errorf("item 3: %v", r)
	}
	var many []map[string]any
	for i := range 21 {
		many = append(many, map[string]any{"id": string(rune('a' + i)), "method": "GET", "url": "/me"})
	}
	if status, _, body := call(t, "POST", g.URL+"/$batch", map[string]any{"requests": many}, nil); status != 400 || errorCode(body) != "BadRequest" {
		t.Errorf("21 requests: %d %v", status, body)
	}
	if st := g.Stats(); st.ByRoute["POST /$batch"] != 2 || st.BatchItems != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestGraphAuthorization(t *testing.T) {
	g := newMailbox(t)
	resp, err := http.Get(g.URL + "/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	g.SetAuthorizer(func(tok string) bool { return tok == "good" })
	if status, _, body := call(t, "GET", g.URL+"/me", nil, nil); status != 401 || errorCode(body) != "InvalidAuthenticationToken" {
		t.Errorf("refused token: %d %v", status, body)
	}
}

// TestGraphCountsEarlyRetries shows the Retry-After check can fail: a
// client that comes straight back after a 429 is counted.
func TestGraphCountsEarlyRetries(t *testing.T) {
	g := newMailbox(t)
	g.SetFaults(graphtest.Faults{Rate: 1, Kinds: []graphtest.FaultKind{graphtest.Throttle429}, RetryAfter: 30 * time.Second})
	status, hdr, body := call(t, "GET", g.URL+"/me", nil, nil)
	if status != 429 || hdr.Get("Retry-After") != "30" || errorCode(body) == "" {
		t.Fatalf("throttle: %d %q %v", status, hdr.Get("Retry-After"), body)
	}
	call(t, "GET", g.URL+"/me", nil, nil)
	if st := g.Stats(); st.EarlyRetries != 1 || st.Injected[graphtest.Throttle429] != 2 {
		t.Errorf("early retries %d after %d throttles, want 1 after 2", st.EarlyRetries, st.Injected[graphtest.Throttle429])
	}
}

func TestGraphConnectionFaults(t *testing.T) {
	g := newMailbox(t)
	g.SetFaults(graphtest.Faults{Rate: 1, Kinds: []graphtest.FaultKind{graphtest.ConnReset}})
	req, _ := http.NewRequest("GET", g.URL+"/me", nil)
	req.Header.Set("Authorization", "Bearer tok")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("connection reset answered")
	}
	g.SetFaults(graphtest.Faults{Rate: 1, Kinds: []graphtest.FaultKind{graphtest.TruncatedBody}})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) || resp.ContentLength <= 0 {
		t.Errorf("truncated body: err %v, length %d", err, resp.ContentLength)
	}
}

// listIDs lists /me/messages with filter and returns the ids.
func listIDs(t *testing.T, g *graphtest.Graph, filter string) []string {
	t.Helper()
	status, _, body := call(t, "GET", g.URL+"/me/messages?$select=id,lastModifiedDateTime&$filter="+url.QueryEscape(filter), nil, nil)
	if status != 200 {
		t.Fatalf("%s: status %d: %v", filter, status, body)
	}
	var ids []string
	for _, v := range body["value"].([]any) {
		ids = append(ids, v.(map[string]any)["id"].(string))
	}
	slices.Sort(ids)
	return ids
}

// TestGraphFilterModified: with SetMoveStampsModified, a move and a read
// flag stamp lastModifiedDateTime with the fake's clock, the received time
// stays, and the "and" of the two range conditions keeps what both keep.
func TestGraphFilterModified(t *testing.T) {
	g := newMailbox(t)
	now := t0.Add(5 * time.Hour)
	g.SetClock(func() time.Time { return now })
	g.SetMoveStampsModified(true)
	g.AddFolder(graphtest.Folder{ID: "junk-000000000000000000001", DisplayName: "Junk-E-Mail", WellKnownName: "junkemail"})
	g.AddMessage(graph.Message{ID: "AAMkJ", Subject: "J", ReceivedDateTime: t0.Add(-2 * time.Hour), ParentFolderID: "junk-000000000000000000001"}, "j")
	moved := g.MoveMessage("AAMkJ", inboxID)
	if !g.SetRead("AAMkB", true) || g.SetRead("AAMkGone", true) {
		t.Fatal("SetRead found the wrong messages")
	}
	window := t0.Add(-3 * time.Hour).Format(time.RFC3339)
	since := t0.Add(4 * time.Hour).Format(time.RFC3339)
	want := []string{"AAMkA", "AAMkB", moved}
	slices.Sort(want)
	if got := listIDs(t, g, "receivedDateTime ge "+window); !slices.Equal(got, want) {
		t.Errorf("window: %v, want %v", got, want)
	}
	want = []string{"AAMkB", moved}
	slices.Sort(want)
	if got := listIDs(t, g, "receivedDateTime ge "+window+" and lastModifiedDateTime ge "+since); !slices.Equal(got, want) {
		t.Errorf("changed since %s: %v, want %v", since, got, want)
	}
	if got := listIDs(t, g, "lastModifiedDateTime ge "+since+" and receivedDateTime ge "+t0.Add(-90*time.Minute).Format(time.RFC3339)); !slices.Equal(got, []string{"AAMkB"}) {
		t.Errorf("both bounds, other order: %v, want [AAMkB]", got)
	}
	_, _, body := call(t, "GET", g.URL+"/me/messages/"+url.PathEscape(moved)+"?$select=receivedDateTime,lastModifiedDateTime", nil, nil)
	if body["receivedDateTime"] != t0.Add(-2*time.Hour).Format(time.RFC3339) || body["lastModifiedDateTime"] != now.Format(time.RFC3339) {
		t.Errorf("moved message: %v", body)
	}
}

// TestGraphMoveKeepsModifiedByDefault: by default a move gives the message a
// new id and keeps its lastModifiedDateTime (the adverse reading of
// undocumented behaviour), so a filter on lastModifiedDateTime misses it
// while one on receivedDateTime finds it.
func TestGraphMoveKeepsModifiedByDefault(t *testing.T) {
	g := newMailbox(t)
	now := t0.Add(5 * time.Hour)
	g.SetClock(func() time.Time { return now })
	g.AddFolder(graphtest.Folder{ID: "junk-000000000000000000001", DisplayName: "Junk-E-Mail", WellKnownName: "junkemail"})
	g.AddMessage(graph.Message{ID: "AAMkJ", Subject: "J", ReceivedDateTime: t0.Add(-2 * time.Hour), ParentFolderID: "junk-000000000000000000001"}, "j")
	g.PoisonMessage("AAMkJ", http.StatusInternalServerError)
	moved := g.MoveMessage("AAMkJ", inboxID)
	if moved == "" || moved == "AAMkJ" {
		t.Fatalf("moved to id %q, want a new one", moved)
	}
	since := t0.Add(4 * time.Hour).Format(time.RFC3339)
	if got := listIDs(t, g, "receivedDateTime ge "+t0.Add(-3*time.Hour).Format(time.RFC3339)+" and lastModifiedDateTime ge "+since); len(got) != 0 {
		t.Errorf("changed since the move: %v, want none", got)
	}
	if got := listIDs(t, g, "receivedDateTime ge "+t0.Add(-3*time.Hour).Format(time.RFC3339)); !slices.Contains(got, moved) {
		t.Errorf("window: %v, want %s in it", got, moved)
	}
	_, _, body := call(t, "GET", g.URL+"/me/messages/"+url.PathEscape(moved)+"?$select=body", nil, nil)
	if errorCode(body) != "InternalServerError" {
		t.Errorf("the body of a poisoned message moved is readable: %v", body)
	}
	_, _, body = call(t, "GET", g.URL+"/me/messages/"+url.PathEscape(moved)+"?$select=lastModifiedDateTime", nil, nil)
	if body["lastModifiedDateTime"] != t0.Add(-2*time.Hour).Format(time.RFC3339) {
		t.Errorf("moved message: %v, want the received time as last modified", body)
	}
}

// TestGraphCombinedExpand: the class and the sensitivity asked together
// come back with no properties by default (200, nothing), with both when
// the knob says so; asked one at a time, each comes back either way. A
// Teams chat item is listed like mail, told apart by its class only.
func TestGraphCombinedExpand(t *testing.T) {
	g := newMailbox(t)
	g.AddMessage(graph.Message{
		ID: "AAMkT", Subject: "chat", ReceivedDateTime: t0.Add(-time.Minute), ParentFolderID: inboxID,
		SingleValueExtendedProperties: []graph.ExtendedProperty{
			{ID: "String 0x001A", Value: graphtest.TeamsChatClass}, {ID: "Integer 0x0036", Value: "0"}},
	}, "hi")
	props := func(expand string) map[string][]string {
		t.Helper()
		q := "$select=id&$expand=" + url.QueryEscape(expand)
		status, _, body := call(t, "GET", g.URL+"/me/messages?"+q, nil, nil)
		if status != 200 {
			t.Fatalf("status %d: %v", status, body)
		}
		out := map[string][]string{}
		for _, v := range body["value"].([]any) {
			m := v.(map[string]any)
			id := m["id"].(string)
			out[id] = []string{}
			ps, _ := m["singleValueExtendedProperties"].([]any)
			for _, p := range ps {
				pm := p.(map[string]any)
				out[id] = append(out[id], pm["id"].(string)+"="+pm["value"].(string))
			}
		}
		return out
	}
	both := "singleValueExtendedProperties($filter=id eq 'String 0x001A' or id eq 'Integer 0x0036')"
	got := props(both)
	if len(got) != 3 {
		t.Fatalf("listed %v, want 3 messages, the Teams chat item among them", got)
	}
	for id, ps := range got {
		if len(ps) != 0 {
			t.Errorf("by default %s came back with %v, want no properties", id, ps)
		}
	}
	if ps := props("singleValueExtendedProperties($filter=id eq 'String 0x001A')")["AAMkT"]; !slices.Equal(ps, []string{"String 0x1a=" + graphtest.TeamsChatClass}) {
		t.Errorf("class alone: %v", ps)
	}
	if ps := props("singleValueExtendedProperties($filter=id eq 'Integer 0x0036')")["AAMkT"]; !slices.Equal(ps, []string{"Integer 0x36=0"}) {
		t.Errorf("sensitivity alone: %v", ps)
	}
	g.SetCombinedExpand(graphtest.CombinedExpandAnswered)
	if ps := props(both)["AAMkT"]; !slices.Equal(ps, []string{"String 0x1a=" + graphtest.TeamsChatClass, "Integer 0x36=0"}) {
		t.Errorf("answered: %v", ps)
	}
	// A single message asked for both, in either mode.
	g.SetCombinedExpand(graphtest.CombinedExpandEmpty)
	_, _, body := call(t, "GET", g.URL+"/me/messages/AAMkT?$select=id&$expand="+url.QueryEscape(both), nil, nil)
	if _, ok := body["singleValueExtendedProperties"]; ok {
		t.Errorf("one message asked for both: %v, want no properties", body)
	}
}
