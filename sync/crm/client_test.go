package crm_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"mailsync/sync/crm"
	"mailsync/sync/crmtest"
	"mailsync/sync/remote"
	"mailsync/sync/remote/remotetest"
)

const (
	user     = "ann@example.com"
	password = "s3cret-Pa55word"
)

// fastPolicy keeps retries in milliseconds but honours a Retry-After of a
// couple of seconds.
var fastPolicy = remote.Policy{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 3 * time.Second}

type world struct {
	fake   *crmtest.CRM
	api    *crm.API
	acme   crm.Client
	globex crm.Client
	bob    crm.Contact // Acme
	carol  crm.Contact // Globex
}

func setup(t *testing.T) *world {
	t.Helper()
	f := crmtest.NewCRM()
	t.Cleanup(f.Close)
	f.AddUser(user, password)
	w := &world{fake: f}
	w.acme = f.AddClient(crm.Client{Name: "Acme"})
	w.globex = f.AddClient(crm.Client{Name: "Globex"})
	w.bob = f.AddContact(crm.Contact{ClientID: w.acme.ID, Email: "Bob@Acme.example", FirstName: "Bob", LastName: "Stone"})
	w.carol = f.AddContact(crm.Contact{ClientID: w.globex.ID, Email: "carol@globex.example"})
	w.api = newAPI(f.URL, password)
	return w
}

func newAPI(baseURL, pw string) *crm.API {
	a := crm.NewClient(baseURL, user, func() (string, error) { return pw, nil }, nil)
	a.Policy = fastPolicy
	return a
}

func email(subject string, contacts ...int64) crm.Interaction {
	return crm.Interaction{
		InteractionTypeID: crm.InteractionTypeEmail,
		Subject:           subject,
		InteractionDate:   time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
		Note:              "Message-ID: <" + subject + "@example.com>\n\nHello",
		ContactIDs:        contacts,
	}
}

func kindOf(t *testing.T, err error) remote.Kind {
	t.Helper()
	var re *remote.Error
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *remote.Error", err, err)
	}
	if re.Service != "crm" {
		t.Errorf("Service = %q, want crm", re.Service)
	}
	return re.Kind
}

func TestLazyLoginAndTokenReuse(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	for range 5 {
		got, err := w.api.ContactsByEmail(ctx, "bob@acme.example")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != w.bob {
			t.Fatalf("contacts = %+v, want [%+v]", got, w.bob)
		}
	}
	if _, err := w.api.GetClient(ctx, w.acme.ID); err != nil {
		t.Fatal(err)
	}
	s := w.fake.Stats()
	if s.Auths != 1 || s.ByRoute["POST /auth"] != 1 {
		t.Errorf("Auths = %d, POST /auth = %d; want one login for all calls", s.Auths, s.ByRoute["POST /auth"])
	}
	if s.ByRoute["GET /contacts"] != 5 {
		t.Errorf("GET /contacts = %d, want 5 (no 401 detours)", s.ByRoute["GET /contacts"])
	}
}

func TestConcurrentCallsShareOneLogin(t *testing.T) {
	w := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := w.api.Interactions(context.Background(), w.acme.ID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := w.fake.Stats().Auths; n != 1 {
		t.Errorf("Auths = %d, want 1", n)
	}
}

// The fake refuses "Bearer <token>" (TestBareTokenOnly in crmtest); this
// shows the client sends the bare token by going through a proxy that
// records the header.
func TestSendsBareToken(t *testing.T) {
	w := setup(t)
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.fake.Handler().ServeHTTP(rw, r)
	}))
	defer proxy.Close()
	api := newAPI(proxy.URL+"/v1", password)
	if _, err := api.GetClient(context.Background(), w.globex.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != "" || seen[1] == "" || strings.Contains(seen[1], " ") {
		t.Errorf("Authorization headers %q, want none on /auth and a bare token after", seen)
	}
}

func TestExpiredTokenReauthenticatesOnce(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	if err := w.api.Login(ctx); err != nil {
		t.Fatal(err)
	}
	w.fake.ExpireTokens()
	c, err := w.api.GetClient(ctx, w.acme.ID)
	if err != nil || c != w.acme {
		t.Fatalf("GetClient = %+v, %v", c, err)
	}
	if n := w.fake.Stats().Auths; n != 2 {
		t.Errorf("Auths = %d, want 2 (login, one re-auth)", n)
	}
}

func TestShortLivedTokenIsRenewedBeforeExpiry(t *testing.T) {
	w := setup(t)
	w.fake.SetTokenLifetime(2 * time.Second) // renewed after half its life
	ctx := context.Background()
	if _, err := w.api.Interactions(ctx, w.acme.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.api.Interactions(ctx, w.acme.ID); err != nil {
		t.Fatal(err)
	}
	if n := w.fake.Stats().Auths; n != 1 {
		t.Errorf("Auths = %d before half-life, want 1", n)
	}
}

// A server that refuses every token: after one re-auth the call asks for a
// reconnect instead of looping.
func TestSecond401NeedsReconnect(t *testing.T) {
	w := setup(t)
	var auths int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/auth" {
			mu.Lock()
			auths++
			mu.Unlock()
			w.fake.Handler().ServeHTTP(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(rw, `{"message":"Unauthorized"}`)
	}))
	defer srv.Close()
	_, err := newAPI(srv.URL+"/v1", password).GetClient(context.Background(), w.acme.ID)
	if !remote.IsNeedsReconnect(err) {
		t.Fatalf("err = %v, want needs reconnect", err)
	}
	if auths != 2 {
		t.Errorf("%d logins, want 2 (lazy login, one re-auth)", auths)
	}
}

func TestBadCredentials(t *testing.T) {
	w := setup(t)
	api := newAPI(w.fake.URL, "wrong")
	err := api.Login(context.Background())
	if !errors.Is(err, crm.ErrBadCredentials) || kindOf(t, err) != remote.NeedsReconnect {
		t.Fatalf("Login = %v, want ErrBadCredentials, needs reconnect", err)
	}
	if !strings.Contains(err.Error(), "ClientSuccess rejected the username or password") {
		t.Errorf("message %q lacks the words a person reads", err)
	}
	_, err = api.ContactsByEmail(context.Background(), "bob@acme.example")
	if !errors.Is(err, crm.ErrBadCredentials) {
		t.Errorf("lazy login: %v, want ErrBadCredentials", err)
	}
	if n := w.fake.Stats().ByRoute["POST /auth"]; n != 2 {
		t.Errorf("POST /auth = %d, want 2 (refusals are not retried)", n)
	}
}

func TestPasswordUnreadable(t *testing.T) {
	w := setup(t)
	notFound := errors.New("secret not found in keyring")
	api := crm.NewClient(w.fake.URL, user, func() (string, error) { return "", notFound }, nil)
	_, err := api.Interactions(context.Background(), w.acme.ID)
	if !errors.Is(err, notFound) || kindOf(t, err) != remote.NeedsReconnect {
		t.Errorf("err = %v, want the keyring error, needs reconnect", err)
	}
}

func TestMaintenance(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	w.fake.SetMaintenance(true)
	err := w.api.Login(ctx)
	if !errors.Is(err, crm.ErrMaintenance) || kindOf(t, err) != remote.Transient {
		t.Fatalf("Login = %v, want ErrMaintenance, transient", err)
	}
	if !strings.Contains(err.Error(), "ClientSuccess is down for maintenance") {
		t.Errorf("message %q", err)
	}
	w.fake.SetMaintenance(false)
	if err := w.api.Login(ctx); err != nil {
		t.Fatal(err)
	}
	// The fake alternates the page and a connection reset (docs/evidence.md:
	// both occur): a read retries through the reset and meets the page; a
	// create met by the page knows nothing was done, one met by the reset
	// cannot know.
	w.fake.SetMaintenance(true)
	_, err = w.api.ContactsByEmail(ctx, "bob@acme.example")
	if !errors.Is(err, crm.ErrMaintenance) {
		t.Errorf("ContactsByEmail = %v, want ErrMaintenance", err)
	}
	w.fake.SetMaintenance(true)
	_, err = w.api.CreateInteraction(ctx, w.acme.ID, email("m1", w.bob.ID))
	if !errors.Is(err, crm.ErrMaintenance) || crm.IsAmbiguous(err) {
		t.Errorf("CreateInteraction met by the page = %v, want ErrMaintenance, not ambiguous", err)
	}
	_, err = w.api.CreateInteraction(ctx, w.acme.ID, email("m2", w.bob.ID))
	if !crm.IsAmbiguous(err) || kindOf(t, err) != remote.Transient {
		t.Errorf("CreateInteraction met by a reset = %v, want ambiguous, transient", err)
	}
	if n := len(w.fake.AllInteractions()); n != 0 {
		t.Errorf("%d interactions stored during maintenance", n)
	}
}

// A 200 HTML page (some proxies answer so) is maintenance too, not a JSON
// parse error.
func TestHTMLWith200IsMaintenance(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		fmt.Fprint(rw, "<html><title>System Maintenance</title></html>")
	}))
	defer srv.Close()
	err := newAPI(srv.URL, password).Login(context.Background())
	if !errors.Is(err, crm.ErrMaintenance) {
		t.Errorf("err = %v, want ErrMaintenance", err)
	}
}

func TestContactLookup(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	for _, addr := range []string{"bob@acme.example", "BOB@ACME.EXAMPLE", "Bob@Acme.example"} {
		got, err := w.api.ContactsByEmail(ctx, addr)
		if err != nil || len(got) != 1 || got[0] != w.bob {
			t.Errorf("%s: %+v, %v", addr, got, err)
		}
	}
	got, err := w.api.ContactsByEmail(ctx, "stranger+tag@elsewhere.example")
	if err != nil || len(got) != 0 {
		t.Errorf("miss: %+v, %v; want empty", got, err)
	}
	_, err = w.api.GetClient(ctx, 987654)
	var re *remote.Error
	if !errors.As(err, &re) || re.Kind != remote.Permanent || re.Status != 404 {
		t.Errorf("unknown client: %v, want permanent 404", err)
	}
}

func TestCreateAndListInteractions(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	in := email("Renewal", w.bob.ID)
	got, err := w.api.CreateInteraction(ctx, w.acme.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 || got.ClientID != w.acme.ID || got.Subject != in.Subject || !got.InteractionDate.Equal(in.InteractionDate) ||
		got.Note != in.Note || !reflect.DeepEqual(got.ContactIDs, in.ContactIDs) {
		t.Fatalf("created %+v from %+v", got, in)
	}
	if _, err := w.api.CreateInteraction(ctx, w.globex.ID, email("Kickoff", w.carol.ID)); err != nil {
		t.Fatal(err)
	}
	list, err := w.api.Interactions(ctx, w.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != got.ID || list[0].Note != in.Note {
		t.Errorf("Acme timeline %+v, want the one created", list)
	}
	stored := w.fake.Interactions(w.acme.ID)
	if len(stored) != 1 || stored[0].ID != got.ID {
		t.Errorf("fake stored %+v", stored)
	}
}

func TestValidationErrorsArePermanent(t *testing.T) {
	w := setup(t)
	ctx := context.Background()
	noSubject := email("x", w.bob.ID)
	noSubject.Subject = ""
	badType := email("t", w.bob.ID)
	badType.InteractionTypeID = 11
	cases := map[string]crm.Interaction{
		"no subject":    noSubject,
		"bad type":      badType,
		"other contact": email("o", w.carol.ID),
	}
	for name, in := range cases {
		_, err := w.api.CreateInteraction(ctx, w.acme.ID, in)
		var re *remote.Error
		// A contact of another client is refused with 200 null (docs/evidence.md:
		// a refused create once answered so), the others with 400.
		want := 400
		if name == "other contact" {
			want = 200
		}
		if !errors.As(err, &re) || re.Kind != remote.Permanent || re.Status != want || crm.IsAmbiguous(err) {
			t.Errorf("%s: %v, want permanent %d, not ambiguous", name, err, want)
		}
	}
	if n := w.fake.Stats().ByRoute["POST /clients/{id}/interactions"]; n != len(cases) {
		t.Errorf("%d posts, want %d (no retries of a 400)", n, len(cases))
	}
	if n := len(w.fake.AllInteractions()); n != 0 {
		t.Errorf("%d stored", n)
	}
}

// reads runs every read the client offers and returns what it saw.
func reads(t *testing.T, w *world) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, addr := range []string{"bob@acme.example", "CAROL@globex.example", "nobody@x.example"} {
		for range 4 {
			got, err := w.api.ContactsByEmail(ctx, addr)
			if err != nil {
				t.Fatalf("ContactsByEmail(%s): %v", addr, err)
			}
			fmt.Fprintf(&b, "%s=%+v\n", addr, got)
		}
	}
	for _, id := range []int64{w.acme.ID, w.globex.ID} {
		for range 4 {
			c, err := w.api.GetClient(ctx, id)
			if err != nil {
				t.Fatalf("GetClient(%d): %v", id, err)
			}
			list, err := w.api.Interactions(ctx, id)
			if err != nil {
				t.Fatalf("Interactions(%d): %v", id, err)
			}
			fmt.Fprintf(&b, "%+v %+v\n", c, list)
		}
	}
	return b.String()
}

func TestReadsSurviveFaults(t *testing.T) {
	w := setup(t)
	for _, c := range []crm.Client{w.acme, w.globex} {
		if _, err := w.api.CreateInteraction(context.Background(), c.ID, email("seed", nil...)); err != nil {
			t.Fatal(err)
		}
	}
	want := reads(t, w)
	kinds := []crmtest.FaultKind{crmtest.Throttle429, crmtest.Unavailable503, crmtest.ConnReset,
		crmtest.TruncatedBody, crmtest.Slow, crmtest.ResetAfterApply}
	for i, k := range append(kinds, 0) {
		name, ks := k.String(), []crmtest.FaultKind{k}
		if k == 0 {
			name, ks = "all", kinds
		}
		t.Run(name, func(t *testing.T) {
			before := w.fake.Stats()
			w.fake.SetFaults(crmtest.Faults{Rate: 0.2, Kinds: ks, Seed: int64(i + 1), SlowDelay: 5 * time.Millisecond})
			w.fake.ExpireTokens() // the login is faulted too
			defer w.fake.SetFaults(crmtest.Faults{})
			if got := reads(t, w); got != want {
				t.Errorf("with faults:\n%s\nwithout:\n%s", got, want)
			}
			after := w.fake.Stats()
			if after.Faults == before.Faults {
				t.Error("no fault was injected")
			}
			if after.EarlyRetries != 0 {
				t.Errorf("EarlyRetries = %d", after.EarlyRetries)
			}
		})
	}
	if n := len(w.fake.AllInteractions()); n != 2 {
		t.Errorf("reads changed data: %d interactions", n)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	w := setup(t)
	if err := w.api.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.fake.SetFaults(crmtest.Faults{Rate: 1, Kinds: []crmtest.FaultKind{crmtest.Throttle429, crmtest.Unavailable503},
		RetryAfter: time.Second, Max: 1})
	if _, err := w.api.ContactsByEmail(context.Background(), "bob@acme.example"); err != nil {
		t.Fatal(err)
	}
	s := w.fake.Stats()
	if s.ByRoute["GET /contacts"] != 2 {
		t.Errorf("GET /contacts = %d, want 2 (one throttled, one retry)", s.ByRoute["GET /contacts"])
	}
	if s.EarlyRetries != 0 {
		t.Errorf("EarlyRetries = %d, want 0", s.EarlyRetries)
	}
}

// sendLog is a transport that records when each request went out and when
// the first throttled answer came back.
type sendLog struct {
	base http.RoundTripper

	mu         sync.Mutex
	sent       []time.Time
	throttled  time.Time // when the first 429 was handed to the client
	onThrottle func()
}

func (l *sendLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.sent = append(l.sent, time.Now())
	l.mu.Unlock()
	resp, err := l.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		l.mu.Lock()
		first := l.throttled.IsZero()
		if first {
			l.throttled = time.Now()
		}
		l.mu.Unlock()
		if first && l.onThrottle != nil {
			l.onThrottle()
		}
	}
	return resp, err
}

// TestRetryAfterHoldsConcurrentRequests: a Retry-After met by one upload
// holds the uploads that start while it runs, not only the throttled one's
// retry, so none of them reaches ClientSuccess before the time it named.
func TestRetryAfterHoldsConcurrentRequests(t *testing.T) {
	w := setup(t)
	throttled := make(chan struct{})
	log := &sendLog{base: http.DefaultTransport, onThrottle: func() { close(throttled) }}
	api := crm.NewClient(w.fake.URL, user, func() (string, error) { return password, nil }, &http.Client{Transport: log, Timeout: 10 * time.Second})
	api.Policy = fastPolicy
	ctx := context.Background()
	if err := api.Login(ctx); err != nil {
		t.Fatal(err)
	}
	w.fake.SetFaults(crmtest.Faults{Rate: 1, Kinds: []crmtest.FaultKind{crmtest.Throttle429}, RetryAfter: time.Second, Max: 1})

	const others = 6
	errs := make(chan error, others+1)
	go func() {
		_, err := api.CreateInteraction(ctx, w.acme.ID, email("first", w.bob.ID))
		errs <- err
	}()
	<-throttled
	// Long enough for the client to take in the answer it was just handed.
	time.Sleep(50 * time.Millisecond)
	for i := range others {
		go func() {
			_, err := api.CreateInteraction(ctx, w.acme.ID, email(fmt.Sprint("next-", i), w.bob.ID))
			errs <- err
		}()
	}
	for range others + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	for _, at := range log.sent {
		if at.After(log.throttled) && at.Sub(log.throttled) < time.Second {
			t.Errorf("a request went out %v after the 429, before its Retry-After of 1s", at.Sub(log.throttled))
		}
	}
	if s := w.fake.Stats(); s.EarlyRetries != 0 || s.Faults != 1 {
		t.Errorf("fake saw %d early retries and %d faults; want 0 and 1", s.EarlyRetries, s.Faults)
	}
	if n := len(w.fake.Interactions(w.acme.ID)); n != others+1 {
		t.Errorf("%d interactions on Acme, want %d", n, others+1)
	}
}

func TestCreateAfterApplyResetIsAmbiguous(t *testing.T) {
	for _, k := range []crmtest.FaultKind{crmtest.ResetAfterApply, crmtest.TruncatedBody} {
		t.Run(k.String(), func(t *testing.T) {
			w := setup(t)
			if err := w.api.Login(context.Background()); err != nil {
				t.Fatal(err)
			}
			// An answer with a body, so that cutting it loses something.
			w.fake.SetCreateAnswer(crmtest.CreateObject)
			w.fake.SetFaults(crmtest.Faults{Rate: 1, Kinds: []crmtest.FaultKind{k}, Max: 1})
			_, err := w.api.CreateInteraction(context.Background(), w.acme.ID, email("Once", w.bob.ID))
			if err == nil || !crm.IsAmbiguous(err) || kindOf(t, err) != remote.Transient {
				t.Fatalf("err = %v, want ambiguous transient", err)
			}
			if n := len(w.fake.Interactions(w.acme.ID)); n != 1 {
				t.Errorf("%d interactions stored, want exactly 1", n)
			}
			if n := w.fake.Stats().ByRoute["POST /clients/{id}/interactions"]; n != 1 {
				t.Errorf("%d posts, want 1", n)
			}
		})
	}
}

func TestCreateRetriedWhenSurelyNotApplied(t *testing.T) {
	for _, k := range []crmtest.FaultKind{crmtest.Throttle429, crmtest.Unavailable503} {
		t.Run(k.String(), func(t *testing.T) {
			w := setup(t)
			if err := w.api.Login(context.Background()); err != nil {
				t.Fatal(err)
			}
			w.fake.SetFaults(crmtest.Faults{Rate: 1, Kinds: []crmtest.FaultKind{k}, Max: 2})
			got, err := w.api.CreateInteraction(context.Background(), w.acme.ID, email("Once", w.bob.ID))
			if err != nil {
				t.Fatal(err)
			}
			stored := w.fake.Interactions(w.acme.ID)
			if len(stored) != 1 || stored[0].ID != got.ID {
				t.Errorf("stored %+v, want exactly the one returned (%d)", stored, got.ID)
			}
			if n := w.fake.Stats().ByRoute["POST /clients/{id}/interactions"]; n != 3 {
				t.Errorf("%d posts, want 3 (two refused, one applied)", n)
			}
		})
	}
}

func TestCreateAfterExpiredTokenCreatesOnce(t *testing.T) {
	w := setup(t)
	if err := w.api.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.fake.ExpireTokens()
	if _, err := w.api.CreateInteraction(context.Background(), w.acme.ID, email("Once", w.bob.ID)); err != nil {
		t.Fatal(err)
	}
	if n := len(w.fake.Interactions(w.acme.ID)); n != 1 {
		t.Errorf("%d stored, want 1", n)
	}
}

func TestCreateServerErrorIsAmbiguous(t *testing.T) {
	var posts int
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/auth" {
			fmt.Fprint(rw, `{"access_token":"t0k3n-value","token_type":"bearer","expires_in":43200}`)
			return
		}
		posts++
		rw.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(rw, `{"message":"upstream"}`)
	}))
	defer srv.Close()
	_, err := newAPI(srv.URL, password).CreateInteraction(context.Background(), 7, email("x"))
	if !crm.IsAmbiguous(err) || remote.KindOf(err) != remote.Transient || posts != 1 {
		t.Errorf("err = %v after %d posts, want ambiguous after 1", err, posts)
	}
}

func TestConnectionRefusedIsNotAmbiguous(t *testing.T) {
	addr, err := remotetest.ClosedAddr()
	if err != nil {
		t.Fatal(err)
	}
	api := newAPI("http://"+addr+"/v1", password)
	api.Policy.MaxAttempts = 2
	err = api.Login(context.Background())
	if err == nil || crm.IsAmbiguous(err) || remote.KindOf(err) != remote.Transient {
		t.Errorf("err = %v, want transient, not ambiguous", err)
	}
}

func TestContextCancellationStopsPromptly(t *testing.T) {
	w := setup(t)
	if err := w.api.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Run("waiting for an answer", func(t *testing.T) {
		w.fake.SetLatency(time.Minute)
		defer w.fake.SetLatency(0)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := w.api.CreateInteraction(ctx, w.acme.ID, email("late", w.bob.ID))
		if !errors.Is(err, context.DeadlineExceeded) || !crm.IsAmbiguous(err) {
			t.Errorf("err = %v, want deadline exceeded, ambiguous", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("returned after %v", d)
		}
	})
	t.Run("waiting for Retry-After", func(t *testing.T) {
		w.fake.SetFaults(crmtest.Faults{Rate: 1, Kinds: []crmtest.FaultKind{crmtest.Throttle429}, RetryAfter: time.Minute})
		defer w.fake.SetFaults(crmtest.Faults{})
		api := newAPI(w.fake.URL, password)
		api.Policy.MaxDelay = time.Hour
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := api.ContactsByEmail(ctx, "bob@acme.example")
		if !errors.Is(err, context.Canceled) || remote.KindOf(err) != remote.Transient {
			t.Errorf("err = %v, want cancelled, transient", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("returned after %v", d)
		}
	})
}

// Every failure a person may see is checked for the password and the
// tokens the fake issued.
func TestErrorsCarryNoSecrets(t *testing.T) {
	w := setup(t)
	var mu sync.Mutex
	tokens := map[string]bool{}
	spy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			mu.Lock()
			tokens[a] = true
			mu.Unlock()
		}
		w.fake.Handler().ServeHTTP(rw, r)
	}))
	defer spy.Close()
	ctx := context.Background()
	api := newAPI(spy.URL+"/v1", password)
	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }

	collect(nil, api.Login(ctx))
	w.fake.ExpireTokens()
	collect(api.GetClient(ctx, 424242))
	collect(api.CreateInteraction(ctx, w.acme.ID, email("", w.bob.ID)))
	w.fake.SetFaults(crmtest.Faults{Rate: 1, Kinds: []crmtest.FaultKind{crmtest.ResetAfterApply}, Max: 1})
	collect(api.CreateInteraction(ctx, w.acme.ID, email("r", w.bob.ID)))
	w.fake.SetFaults(crmtest.Faults{Rate: 1, Kinds: []crmtest.FaultKind{crmtest.Throttle429}})
	short := newAPI(spy.URL+"/v1", password)
	short.Policy.MaxAttempts = 2
	collect(short.Interactions(ctx, w.acme.ID))
	w.fake.SetFaults(crmtest.Faults{})
	w.fake.SetMaintenance(true)
	collect(api.ContactsByEmail(ctx, "bob@acme.example"))
	w.fake.SetMaintenance(false)
	collect(nil, newAPI(spy.URL+"/v1", password+"x").Login(ctx))

	mu.Lock()
	defer mu.Unlock()
	if len(tokens) < 2 {
		t.Fatalf("saw %d tokens, want at least 2", len(tokens))
	}
	failures := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		failures++
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(text, password) {
				t.Errorf("error shows the password: %s", text)
			}
			for tok := range tokens {
				if strings.Contains(text, tok) {
					t.Errorf("error shows a token: %s", text)
				}
			}
		}
	}
	if failures != len(errs)-1 {
		t.Errorf("%d of %d calls failed, want all but the first", failures, len(errs))
	}
}

// However many callers, at most crm.MaxInFlight requests are in flight.
func TestInFlightBound(t *testing.T) {
	w := setup(t)
	if err := w.api.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.fake.SetLatency(20 * time.Millisecond)
	w.fake.ResetStats()
	var wg sync.WaitGroup
	for range 24 {
		wg.Go(func() {
			if _, err := w.api.ContactsByEmail(context.Background(), "bob@acme.example"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if s := w.fake.Stats(); s.PeakInFlight > crm.MaxInFlight || s.PeakInFlight < 2 || s.Requests != 24 {
		t.Errorf("%d requests, at most %d in flight; want 24, 2 to %d", s.Requests, s.PeakInFlight, crm.MaxInFlight)
	}
}
