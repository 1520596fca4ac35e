package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/remote"
)

// bearer adds a bearer token to every request, as the oauth2 transport does.
type bearer struct {
	token func() string
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token())
	return http.DefaultTransport.RoundTrip(r)
}

// bodiesOf reads the bodies of ids uncut, as a map: a message gone is left
// out; the first other per-message failure is the error.
func bodiesOf(c *graph.Client, ctx context.Context, ids []string) (map[string]graph.Body, error) {
	out := map[string]graph.Body{}
	var first error
	err := c.Bodies(ctx, ids, 0, func(id string, b graph.Body, err error) error {
		switch {
		case errors.Is(err, graph.ErrMessageGone):
		case err != nil:
			if first == nil {
				first = err
			}
		default:
			out[id] = b
		}
		return nil
	})
	if err == nil {
		err = first
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// testPolicy retries quickly: the fake's faults are injected, not real.
var testPolicy = remote.Policy{MaxAttempts: 10, BaseDelay: 5 * time.Millisecond, MaxDelay: 3 * time.Second}

func newClient(t *testing.T, g *graphtest.Graph) *graph.Client {
	t.Helper()
	c := graph.NewClient(g.URL, &http.Client{Transport: bearer{token: func() string { return "token-1" }}})
	c.Policy = testPolicy
	c.Timeout = 10 * time.Second
	return c
}

func newFake(t *testing.T) *graphtest.Graph {
	t.Helper()
	g := graphtest.NewGraph()
	t.Cleanup(g.Close)
	g.AddFolder(graphtest.Folder{ID: "inbox-id-0000000000000001", DisplayName: "Inbox", WellKnownName: "inbox"})
	return g
}

var epoch = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// addMessages adds n mail messages to the inbox, one a minute going back
// from epoch, and returns their ids newest first.
func addMessages(g *graphtest.Graph, n int) []string {
	ids := make([]string, n)
	for i := range n {
		id := fmt.Sprintf("AAMkMSG%06d", i)
		ids[i] = id
		g.AddMessage(graph.Message{
			ID:                id,
			InternetMessageID: fmt.Sprintf("<m%d@contoso.example>", i),
			Subject:           fmt.Sprintf("Renewal %d", i),
			From:              &graph.Recipient{EmailAddress: graph.EmailAddress{Name: "Kim", Address: "kim@fabrikam.example"}},
			ToRecipients:      []graph.Recipient{{EmailAddress: graph.EmailAddress{Address: "avery@contoso.example"}}},
			ReceivedDateTime:  epoch.Add(-time.Duration(i) * time.Minute),
			SentDateTime:      epoch.Add(-time.Duration(i)*time.Minute - time.Second),
			ParentFolderID:    "inbox-id-0000000000000001",
			ConversationID:    fmt.Sprintf("conv-%d", i/3),
			SingleValueExtendedProperties: []graph.ExtendedProperty{
				{ID: graph.MessageClassPropertyID, Value: "IPM.Note"},
			},
		}, fmt.Sprintf("Hello %d,\nthe renewal is due.", i))
	}
	return ids
}

func listAll(t *testing.T, c *graph.Client, since time.Time) ([]graph.Message, []int) {
	t.Helper()
	var all []graph.Message
	var sizes []int
	err := c.ListMessages(context.Background(), since, func(page []graph.Message) error {
		sizes = append(sizes, len(page))
		all = append(all, page...)
		return nil
	})
	if err != nil {
		t.Fatalf("ListMessages: %v", err)
	}
	return all, sizes
}

func TestClientListMessagesPagesOver1000(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 2500)
	c := newClient(t, g)

	msgs, sizes := listAll(t, c, epoch.Add(-365*24*time.Hour))
	if want := []int{1000, 1000, 500}; !slices.Equal(sizes, want) {
		t.Errorf("page sizes = %v, want %v", sizes, want)
	}
	got := make([]string, len(msgs))
	for i, m := range msgs {
		got[i] = m.ID
	}
	if !slices.Equal(got, ids) {
		t.Errorf("listed %d messages, want all %d newest first", len(got), len(ids))
	}
	st := g.Stats()
	if n := st.ByRoute["GET /me/messages"]; n != 3 {
		t.Errorf("list requests = %d, want 3", n)
	}
}

func TestClientListMessagesSince(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 100)
	c := newClient(t, g)

	// Message i was received i minutes before epoch: since epoch-30m takes
	// 0..30, the edge included (ge).
	msgs, _ := listAll(t, c, epoch.Add(-30*time.Minute).In(time.FixedZone("CET", 3600)))
	var got []string
	for _, m := range msgs {
		got = append(got, m.ID)
		if m.ReceivedDateTime.Before(epoch.Add(-30 * time.Minute)) {
			t.Errorf("message %s received %v, before the window", m.ID, m.ReceivedDateTime)
		}
	}
	if want := ids[:31]; !slices.Equal(got, want) {
		t.Errorf("since filter gave %d messages, want %d", len(got), len(want))
	}
}

func TestClientListMessagesFieldsAndClass(t *testing.T) {
	g := newFake(t)
	g.SetCombinedExpand(graphtest.CombinedExpandAnswered)
	g.AddFolder(graphtest.Folder{ID: "calendar-id-0000000000001", DisplayName: "Calendar"})
	g.AddMessage(graph.Message{
		ID: "AAMkNOTE", InternetMessageID: "<n@x>", Subject: "Quote",
		From:             &graph.Recipient{EmailAddress: graph.EmailAddress{Name: "Kim", Address: "kim@fabrikam.example"}},
		Sender:           &graph.Recipient{EmailAddress: graph.EmailAddress{Address: "kim@fabrikam.example"}},
		ToRecipients:     []graph.Recipient{{EmailAddress: graph.EmailAddress{Address: "avery@contoso.example"}}},
		CcRecipients:     []graph.Recipient{{EmailAddress: graph.EmailAddress{Address: "lee@fabrikam.example"}}},
		BccRecipients:    []graph.Recipient{{EmailAddress: graph.EmailAddress{Address: "boss@contoso.example"}}},
		ReceivedDateTime: epoch, SentDateTime: epoch.Add(-time.Minute),
		ParentFolderID: "inbox-id-0000000000000001", IsDraft: false,
		Categories: []string{"Customer"}, ConversationID: "conv-1",
		SingleValueExtendedProperties: []graph.ExtendedProperty{{ID: "String 0x001A", Value: "IPM.Note.SMIME"}},
	}, "signed")
	g.AddMessage(graph.Message{
		ID: "AAMkMEET", Subject: "Review", ReceivedDateTime: epoch.Add(-time.Hour),
		ParentFolderID:                "calendar-id-0000000000001",
		SingleValueExtendedProperties: []graph.ExtendedProperty{{ID: "String 0x1A", Value: "IPM.Schedule.Meeting.Request"}},
	}, "")
	g.AddMessage(graph.Message{
		ID: "AAMkBARE", Subject: "No class", ReceivedDateTime: epoch.Add(-2 * time.Hour),
		ParentFolderID: "inbox-id-0000000000000001",
	}, "")
	c := newClient(t, g)

	msgs, _ := listAll(t, c, epoch.Add(-24*time.Hour))
	if len(msgs) != 3 {
		t.Fatalf("listed %d messages, want 3", len(msgs))
	}
	note := msgs[0]
	if note.ID != "AAMkNOTE" || note.Subject != "Quote" || note.InternetMessageID != "<n@x>" ||
		note.From == nil || note.From.EmailAddress.Address != "kim@fabrikam.example" ||
		note.Sender == nil || len(note.ToRecipients) != 1 || len(note.CcRecipients) != 1 ||
		len(note.BccRecipients) != 1 || !note.ReceivedDateTime.Equal(epoch) ||
		!note.SentDateTime.Equal(epoch.Add(-time.Minute)) || note.ParentFolderID != "inbox-id-0000000000000001" ||
		!slices.Equal(note.Categories, []string{"Customer"}) || note.ConversationID != "conv-1" {
		t.Errorf("listed message lost selected fields: %+v", note)
	}
	if len(note.SingleValueExtendedProperties) != 1 || note.SingleValueExtendedProperties[0].ID != "String 0x1a" {
		t.Errorf("extended property = %+v, want Graph's normalised id \"String 0x1a\"", note.SingleValueExtendedProperties)
	}
	if got := note.MessageClass(); got != "IPM.Note.SMIME" {
		t.Errorf("MessageClass = %q, want IPM.Note.SMIME", got)
	}
	if got := msgs[1].MessageClass(); got != "IPM.Schedule.Meeting.Request" {
		t.Errorf("meeting MessageClass = %q", got)
	}
	if got := msgs[2]; got.MessageClass() != "" || got.SingleValueExtendedProperties != nil {
		t.Errorf("message without a class came back with %+v", got.SingleValueExtendedProperties)
	}
}

func TestClientMe(t *testing.T) {
	g := newFake(t)
	want := graph.Me{ID: "u1", DisplayName: "Avery Quinn", Mail: "Avery@Contoso.example",
		UserPrincipalName: "aquinn@contoso.onmicrosoft.example",
		ProxyAddresses:    []string{"SMTP:Avery@Contoso.example", "smtp:aq@contoso.example", "X500:/o=x"}}
	g.SetMe(want)
	me, err := newClient(t, g).Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(me, want) {
		t.Errorf("Me = %+v, want %+v", me, want)
	}
}

func TestClientBodiesBatches(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 45)
	c := newClient(t, g)

	bodies, err := bodiesOf(c, context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 45 {
		t.Fatalf("got %d bodies, want 45", len(bodies))
	}
	for i, id := range ids {
		want := graph.Body{ContentType: "text", Content: fmt.Sprintf("Hello %d,\nthe renewal is due.", i)}
		if bodies[id] != want {
			t.Errorf("body of %s = %+v, want %+v", id, bodies[id], want)
		}
	}
	st := g.Stats()
	if st.ByRoute["POST /$batch"] != 3 || st.BatchItems != 45 || st.Requests != 3 {
		t.Errorf("requests = %d, batches = %d, batch items = %d; want 3, 3, 45",
			st.Requests, st.ByRoute["POST /$batch"], st.BatchItems)
	}
}

func TestClientBodiesOmitsDeleted(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 25)
	g.DeleteMessage(ids[3])
	g.DeleteMessage(ids[21])
	moved := g.MoveMessage(ids[7], "inbox-id-0000000000000001")

	bodies, err := bodiesOf(newClient(t, g), context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 22 {
		t.Errorf("got %d bodies, want 22", len(bodies))
	}
	for _, gone := range []string{ids[3], ids[21], ids[7]} {
		if _, ok := bodies[gone]; ok {
			t.Errorf("body for %s that no longer exists", gone)
		}
	}
	if moved == ids[7] || moved == "" {
		t.Errorf("moved message kept its id %q", moved)
	}
}

// localizedMailbox builds a German folder tree: display names are useless
// for finding the excluded folders; only well-known names work. Clutter and
// Conversation History do not exist. It returns the folders that must be
// excluded, id → the kind the client must report.
func localizedMailbox(g *graphtest.Graph) map[string]string {
	add := func(id, parent, name, wk string) string {
		g.AddFolder(graphtest.Folder{ID: id, ParentID: parent, DisplayName: name, WellKnownName: wk})
		return id
	}
	root := add("root-00000000000000000000", "", "Oberste Ebene des Informationsspeichers", "msgfolderroot")
	add("posteingang-000000000000000", root, "Posteingang", "")
	add("geloescht-0000000000000000", root, "Gelöschte Elemente", "deleteditems")
	add("gesendet-00000000000000000", root, "Gesendete Elemente", "sentitems")
	want := map[string]string{
		add("junk-000000000000000000000", root, "Junk-E-Mail", "junkemail"): "junkemail",
		add("entwuerfe-0000000000000000", root, "Entwürfe", "drafts"):       "drafts",
		add("postausgang-00000000000000", root, "Postausgang", "outbox"):    "outbox",
	}
	sync := add("sync-issues-00000000000000", root, "Synchronisierungsprobleme", "syncissues")
	want[sync] = "syncissues"
	want[add("konflikte-0000000000000000", sync, "Konflikte", "conflicts")] = "conflicts"
	want[add("lokal-00000000000000000000", sync, "Lokale Fehler", "localfailures")] = "localfailures"
	want[add("server-0000000000000000000", sync, "Serverfehler", "serverfailures")] = "serverfailures"
	// More children than one page of childFolders, and a nested level.
	for i := range 130 {
		id := add(fmt.Sprintf("sync-child-%015d", i), sync, fmt.Sprintf("Protokoll %d", i), "")
		want[id] = "syncissues"
		if i == 129 {
			want[add("sync-grandchild-0000000000", id, "Unterordner", "")] = "syncissues"
		}
	}
	// A user folder named like an excluded one must not be excluded.
	add("user-junk-0000000000000000", root, "Junk-E-Mail", "")
	return want
}

func TestClientExcludedFolders(t *testing.T) {
	g := newFake(t)
	want := localizedMailbox(g)
	c := newClient(t, g)

	folders, err := c.ExcludedFolders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range folders {
		if _, dup := got[f.ID]; dup {
			t.Errorf("folder %s listed twice", f.ID)
		}
		got[f.ID] = f.WellKnownName
	}
	if !maps.Equal(got, want) {
		t.Errorf("excluded %d folders, want %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	st := g.Stats()
	if st.ByRoute["POST /$batch"] != 1 || st.ByRoute["GET /me/mailFolders/{id}"] != 0 {
		t.Errorf("well-known look-ups: %d batches, %d single requests; want 1 batch", st.ByRoute["POST /$batch"], st.ByRoute["GET /me/mailFolders/{id}"])
	}
}

// outcome is everything one pass reads from Graph.
type outcome struct {
	Me       graph.Me
	Folders  []graph.ExcludedFolder
	Messages []graph.Message
	Bodies   map[string]graph.Body
}

func readAll(t *testing.T, c *graph.Client) outcome {
	t.Helper()
	ctx := context.Background()
	var o outcome
	var err error
	if o.Me, err = c.Me(ctx); err != nil {
		t.Fatalf("Me: %v", err)
	}
	if o.Folders, err = c.ExcludedFolders(ctx); err != nil {
		t.Fatalf("ExcludedFolders: %v", err)
	}
	slices.SortFunc(o.Folders, func(a, b graph.ExcludedFolder) int { return strings.Compare(a.ID, b.ID) })
	o.Messages, _ = listAll(t, c, epoch.Add(-48*time.Hour))
	ids := make([]string, 0, 400)
	for _, m := range o.Messages[:400] {
		ids = append(ids, m.ID)
	}
	if o.Bodies, err = bodiesOf(c, ctx, ids); err != nil {
		t.Fatalf("Bodies: %v", err)
	}
	return o
}

func TestClientFaultsGiveSameResult(t *testing.T) {
	g := newFake(t)
	localizedMailbox(g)
	addMessages(g, 1200)
	c := newClient(t, g)
	want := readAll(t, c)

	for _, kind := range []graphtest.FaultKind{graphtest.Throttle429, graphtest.Unavailable503,
		graphtest.ConnReset, graphtest.TruncatedBody, graphtest.Slow} {
		t.Run(kind.String(), func(t *testing.T) {
			g.ResetStats()
			g.SetFaults(graphtest.Faults{Rate: 0.2, Kinds: []graphtest.FaultKind{kind}, Seed: int64(kind), SlowDelay: 20 * time.Millisecond})
			defer g.SetFaults(graphtest.Faults{})
			got := readAll(t, newClient(t, g))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("with %v faults the result differs from the fault-free one", kind)
			}
			if n := g.Stats().Injected[kind]; n == 0 {
				t.Errorf("no %v fault was injected", kind)
			}
		})
	}
}

func TestClientHonoursRetryAfter(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 1100)
	c := newClient(t, g)
	want, _ := listAll(t, c, epoch.Add(-48*time.Hour))

	g.SetFaults(graphtest.Faults{Rate: 0.25, Kinds: []graphtest.FaultKind{graphtest.Throttle429}, RetryAfter: time.Second, Seed: 2})
	got, _ := listAll(t, c, epoch.Add(-48*time.Hour))
	if !reflect.DeepEqual(got, want) {
		t.Error("throttled listing differs from the unthrottled one")
	}
	bodies, err := bodiesOf(c, context.Background(), ids[:4])
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 4 {
		t.Errorf("got %d bodies, want 4", len(bodies))
	}
	st := g.Stats()
	if st.Injected[graphtest.Throttle429] == 0 {
		t.Fatal("the fake issued no 429: the test proves nothing")
	}
	if st.EarlyRetries != 0 {
		t.Errorf("%d requests came before the Retry-After the fake gave (%d 429s issued)", st.EarlyRetries, st.Injected[graphtest.Throttle429])
	}
}

func TestClientPeakConcurrency(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 60)
	g.SetLatency(15 * time.Millisecond)
	c := newClient(t, g)

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				b, err := bodiesOf(c, context.Background(), ids[:45])
				if err == nil && len(b) != 45 {
					err = fmt.Errorf("got %d bodies", len(b))
				}
				errs <- err
				return
			}
			n := 0
			err := c.ListMessages(context.Background(), epoch.Add(-time.Hour), func(p []graph.Message) error { n += len(p); return nil })
			if err == nil && n != 60 {
				err = fmt.Errorf("listed %d messages", n)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	st := g.Stats()
	if st.PeakInFlight > graph.MaxInFlight {
		t.Errorf("peak in flight = %d, limit %d", st.PeakInFlight, graph.MaxInFlight)
	}
	if want := 25*3 + 25; st.Requests != want {
		t.Errorf("requests = %d, want %d", st.Requests, want)
	}
}

// TestClientListsConcurrently: listings from several goroutines run side
// by side within the budget. The fake holds every request until two are
// in flight together, so a client that sent one at a time would never get
// an answer (and the test would end at its deadline).
func TestClientListsConcurrently(t *testing.T) {
	g := newFake(t)
	addMessages(g, 10)
	g.HoldUntilInFlight(2)
	c := newClient(t, g)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			errs <- c.ListMessages(ctx, epoch.Add(-time.Hour), func([]graph.Message) error { return nil })
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("listing: %v (the client never had two requests in flight)", err)
		}
	}
	if st := g.Stats(); st.PeakInFlight < 2 || st.PeakInFlight > graph.MaxInFlight {
		t.Errorf("peak in flight = %d, want 2..%d", st.PeakInFlight, graph.MaxInFlight)
	}
}

func TestClientErrorKindsFromFake(t *testing.T) {
	cases := []struct {
		name   string
		faults graphtest.Faults
		auth   func(string) bool
		kind   remote.Kind
		status int
		code   string
	}{
		{"refused token", graphtest.Faults{}, func(string) bool { return false }, remote.NeedsReconnect, 401, "InvalidAuthenticationToken"},
		{"always throttled", graphtest.Faults{Rate: 1, Kinds: []graphtest.FaultKind{graphtest.Throttle429}}, nil, remote.Transient, 429, "ApplicationThrottled"},
		{"always unavailable", graphtest.Faults{Rate: 1, Kinds: []graphtest.FaultKind{graphtest.Unavailable503}}, nil, remote.Transient, 503, "ServiceUnavailable"},
		{"always reset", graphtest.Faults{Rate: 1, Kinds: []graphtest.FaultKind{graphtest.ConnReset}}, nil, remote.Transient, 0, ""},
		{"always truncated", graphtest.Faults{Rate: 1, Kinds: []graphtest.FaultKind{graphtest.TruncatedBody}}, nil, remote.Transient, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake(t)
			g.SetFaults(tc.faults)
			g.SetAuthorizer(tc.auth)
			c := newClient(t, g)
			c.Policy = remote.Policy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}
			_, err := c.Me(context.Background())
			var re *remote.Error
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *remote.Error", err)
			}
			if re.Kind != tc.kind || re.Status != tc.status || re.Code != tc.code || re.Service != "graph" || re.Op != "read user" {
				t.Errorf("error = %+v, want kind %v, status %d, code %q", re, tc.kind, tc.status, tc.code)
			}
			if tc.kind == remote.Transient && g.Stats().Requests != 3 {
				t.Errorf("requests = %d, want 3 attempts", g.Stats().Requests)
			}
		})
	}
}

// TestClientErrorKindsFromJSON checks the mapping of Graph's error JSON for
// answers the fake has no reason to give (403, 500, ...).
func TestClientErrorKindsFromJSON(t *testing.T) {
	cases := []struct {
		status int
		code   string
		kind   remote.Kind
	}{
		{400, "ErrorInvalidParameter", remote.Permanent},
		{403, "ErrorAccessDenied", remote.Permanent},
		{403, "InvalidAuthenticationToken", remote.NeedsReconnect},
		{404, "ErrorItemNotFound", remote.Permanent},
		{500, "UnknownError", remote.Transient},
		{504, "GatewayTimeout", remote.Transient},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status, tc.code), func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": tc.code, "message": "Graph says " + tc.code}})
			}))
			defer srv.Close()
			c := graph.NewClient(srv.URL+"/v1.0", srv.Client())
			c.Policy = remote.Policy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
			err := c.ListMessages(context.Background(), epoch, func([]graph.Message) error { return nil })
			var re *remote.Error
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *remote.Error", err)
			}
			if re.Kind != tc.kind || re.Status != tc.status || re.Code != tc.code || re.Op != "list messages" {
				t.Errorf("error = %+v, want kind %v", re, tc.kind)
			}
			if tc.kind != remote.NeedsReconnect && re.Message != "Graph says "+tc.code {
				t.Errorf("message = %q, want Graph's", re.Message)
			}
			wantCalls := int32(1)
			if tc.kind == remote.Transient {
				wantCalls = 2
			}
			if calls.Load() != wantCalls {
				t.Errorf("%d requests, want %d", calls.Load(), wantCalls)
			}
		})
	}
}

func TestClientInvalidateOn401(t *testing.T) {
	t.Run("fresh token accepted", func(t *testing.T) {
		g := newFake(t)
		var token atomic.Value
		token.Store("stale")
		g.SetAuthorizer(func(tok string) bool { return tok == "fresh" })
		c := graph.NewClient(g.URL, &http.Client{Transport: bearer{token: func() string { return token.Load().(string) }}})
		c.Policy = testPolicy
		var invalidated atomic.Int32
		c.SetInvalidate(func() { invalidated.Add(1); token.Store("fresh") })
		if _, err := c.Me(context.Background()); err != nil {
			t.Fatalf("Me after a refreshed token: %v", err)
		}
		if invalidated.Load() != 1 {
			t.Errorf("invalidate called %d times, want 1", invalidated.Load())
		}
	})
	t.Run("second 401 needs reconnect", func(t *testing.T) {
		g := newFake(t)
		g.SetAuthorizer(func(string) bool { return false })
		c := newClient(t, g)
		var invalidated atomic.Int32
		c.SetInvalidate(func() { invalidated.Add(1) })
		_, err := c.Me(context.Background())
		if !remote.IsNeedsReconnect(err) {
			t.Fatalf("error %v, want needs reconnect", err)
		}
		if invalidated.Load() != 1 || g.Stats().Requests != 2 {
			t.Errorf("invalidate called %d times over %d requests, want 1 over 2", invalidated.Load(), g.Stats().Requests)
		}
	})
}

func TestClientContextCancelStops(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 30)
	g.SetLatency(time.Minute)
	c := newClient(t, g)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	done := make(chan error, 2)
	go func() { done <- c.ListMessages(ctx, epoch.Add(-time.Hour), func([]graph.Message) error { return nil }) }()
	go func() { _, err := bodiesOf(c, ctx, ids); done <- err }()
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) || remote.KindOf(err) != remote.Transient {
				t.Errorf("error = %v, want a transient context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("calls still running 10 s after their context was cancelled (latency is a minute)")
		}
	}
}

func TestClientListStopsOnCallbackError(t *testing.T) {
	g := newFake(t)
	addMessages(g, 2500)
	stop := errors.New("stop")
	pages := 0
	err := newClient(t, g).ListMessages(context.Background(), epoch.Add(-48*time.Hour), func([]graph.Message) error {
		pages++
		return stop
	})
	if !errors.Is(err, stop) || pages != 1 || g.Stats().Requests != 1 {
		t.Errorf("err = %v after %d pages and %d requests; want the callback's error after 1", err, pages, g.Stats().Requests)
	}
}

// The list asks for PR_SENSITIVITY next to the message class (the message
// resource has no sensitivity property), and Sensitivity reads it however
// Graph writes the id.
func TestClientListReadsSensitivity(t *testing.T) {
	g := newFake(t)
	g.SetCombinedExpand(graphtest.CombinedExpandAnswered)
	ids := addMessages(g, 3)
	for i, v := range []string{"2", "3"} {
		g.DeleteMessage(ids[i])
		g.AddMessage(graph.Message{
			ID: ids[i], InternetMessageID: fmt.Sprintf("<s%d@x>", i), ReceivedDateTime: epoch, ParentFolderID: "inbox-id-0000000000000001",
			SingleValueExtendedProperties: []graph.ExtendedProperty{{ID: "String 0x001A", Value: "IPM.Note"}, {ID: "Integer 0x0036", Value: v}},
		}, "x")
	}
	got := map[string]graph.Message{}
	err := newClient(t, g).ListMessages(context.Background(), epoch.Add(-time.Hour), func(p []graph.Message) error {
		for _, m := range p {
			got[m.ID] = m
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{ids[0]: "private", ids[1]: "confidential", ids[2]: ""} {
		m := got[id]
		if s := m.Sensitivity(); s != want {
			t.Errorf("sensitivity of %s = %q, want %q (properties %v)", id, s, want, m.SingleValueExtendedProperties)
		}
	}
	if c := got[ids[0]]; c.MessageClass() != "IPM.Note" {
		t.Errorf("the message class got lost next to the sensitivity: %q", c.MessageClass())
	}
	for _, tc := range []struct{ id, value, want string }{
		{"Integer 0x36", "0", "normal"}, {"integer 0X0036", "1", "personal"}, {"Integer 0x0036", "9", ""}, {"String 0x0036", "2", ""},
	} {
		m := graph.Message{SingleValueExtendedProperties: []graph.ExtendedProperty{{ID: tc.id, Value: tc.value}}}
		if s := m.Sensitivity(); s != tc.want {
			t.Errorf("Sensitivity of %q=%q: %q, want %q", tc.id, tc.value, s, tc.want)
		}
	}
}

// When the list answers the two-property $expand with no properties (the
// fake's default), ClassAndSensitivity reads each property alone: two
// $batch steps a message, ten messages a batch; a message gone meanwhile
// says so, and one without a sensitivity gives only its class.
func TestClientClassAndSensitivityAskEachAlone(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 12)
	g.DeleteMessage(ids[3])
	g.AddMessage(graph.Message{
		ID: ids[3], InternetMessageID: "<p@x>", ReceivedDateTime: epoch, ParentFolderID: "inbox-id-0000000000000001",
		SingleValueExtendedProperties: []graph.ExtendedProperty{{ID: "String 0x001A", Value: graphtest.TeamsChatClass}, {ID: "Integer 0x0036", Value: "2"}},
	}, "x")
	c := newClient(t, g)
	msgs, _ := listAll(t, c, epoch.Add(-time.Hour))
	for _, m := range msgs {
		if m.MessageClass() != "" || m.Sensitivity() != "" {
			t.Fatalf("the fake answered the combined $expand for %s: %v", m.ID, m.SingleValueExtendedProperties)
		}
	}
	g.DeleteMessage(ids[7])
	g.ResetStats()
	got := map[string]graph.Message{}
	var gone []string
	err := c.ClassAndSensitivity(context.Background(), ids, func(id string, props []graph.ExtendedProperty, err error) error {
		switch {
		case errors.Is(err, graph.ErrMessageGone):
			gone = append(gone, id)
		case err != nil:
			t.Errorf("%s: %v", id, err)
		}
		got[id] = graph.Message{SingleValueExtendedProperties: props}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) || !slices.Equal(gone, []string{ids[7]}) {
		t.Fatalf("answered %d of %d, gone %v", len(got), len(ids), gone)
	}
	if m := got[ids[3]]; m.MessageClass() != graphtest.TeamsChatClass || m.Sensitivity() != "private" {
		t.Errorf("%s: class %q, sensitivity %q", ids[3], m.MessageClass(), m.Sensitivity())
	}
	if m := got[ids[0]]; m.MessageClass() != "IPM.Note" || m.Sensitivity() != "" {
		t.Errorf("%s: class %q, sensitivity %q; want the class and no sensitivity", ids[0], m.MessageClass(), m.Sensitivity())
	}
	st := g.Stats()
	if n := st.ByRoute["POST /$batch"]; n != 2 || st.BatchItems != 24 {
		t.Errorf("%d batches with %d steps, want 2 with 24", n, st.BatchItems)
	}
}

// A message whose body Graph always refuses on its own (500, 403) costs
// one step: no backoff, no second try inside Bodies; the batch's other
// messages are read once.
func TestClientBodyFailingAloneIsNotRetried(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 30)
	g.PoisonMessage(ids[2], http.StatusInternalServerError)
	g.PoisonMessage(ids[25], http.StatusForbidden)
	c := newClient(t, g)
	c.Policy = remote.Policy{MaxAttempts: 6, BaseDelay: 10 * time.Millisecond, MaxDelay: 10 * time.Millisecond}
	_, errs := results(t, c, ids, 0)
	var re *remote.Error
	if !errors.As(errs[ids[2]], &re) || re.Status != http.StatusInternalServerError || len(errs) != 2 {
		t.Errorf("failures %v", errs)
	}
	st := g.Stats()
	if n := st.ByRoute["POST /$batch"]; n != 2 || st.BatchItems != 30 {
		t.Errorf("%d batches with %d steps, want 2 with 30", n, st.BatchItems)
	}
}

// Steps throttled or answered 503 are still sent again after their wait.
func TestClientBodyStepsThrottledAreRetried(t *testing.T) {
	g := newFake(t)
	ids := addMessages(g, 5)
	g.ThrottleNext(3)
	bodies, errs := results(t, newClient(t, g), ids, 0)
	if len(bodies) != 5 || len(errs) != 0 {
		t.Fatalf("%d bodies, failures %v", len(bodies), errs)
	}
}
