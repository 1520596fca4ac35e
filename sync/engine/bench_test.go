package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/crm"
	"mailsync/sync/crmtest"
	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
	"mailsync/sync/sandbox"
)

// The benchmark's fakes run in a child process (this test binary started
// again with these variables), so that the heap the parent measures is the
// engine's alone, not the fake mailbox's messages nor the fake
// ClientSuccess's growing store.
const (
	benchFakesEnv   = "MAILSYNC_BENCH_FAKES"   // number of generated messages
	benchLatencyEnv = "MAILSYNC_BENCH_LATENCY" // latency of every request, e.g. "50ms"
	benchBodyEnv    = "MAILSYNC_BENCH_BODY"    // bytes of every matching message's body; "" keeps the generated ones
	// benchAdverseEnv, when "1", leaves the fake Graph answering the
	// class and sensitivity asked together with no properties; otherwise
	// the benchmark measures the case where that $expand works.
	benchAdverseEnv = "MAILSYNC_BENCH_ADVERSE"
	// benchUnreadableEnv, when "1", makes the body of one message to
	// upload fail 500 on every read.
	benchUnreadableEnv = "MAILSYNC_BENCH_UNREADABLE"
	// benchSpanEnv is how far back the generated messages go, e.g.
	// "2160h"; "" keeps them in the first pass's window.
	benchSpanEnv = "MAILSYNC_BENCH_SPAN"
)

// bigBody is the size of every matching message's body in the large-body
// case: a contact (or someone spoofing one) sending many large emails.
const bigBody = 5 << 20

func TestMain(m *testing.M) {
	if n := os.Getenv(benchFakesEnv); n != "" {
		if err := serveBenchFakes(n, os.Getenv(benchLatencyEnv), os.Getenv(benchBodyEnv), benchKnobs{
			adverse: os.Getenv(benchAdverseEnv) == "1", unreadable: os.Getenv(benchUnreadableEnv) == "1",
			span: benchSpan(os.Getenv(benchSpanEnv)),
		}); err != nil {
			fmt.Fprintln(os.Stderr, "bench fakes:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchOptions is the generated world of n messages (2,000 contacts, 15 %
// of the messages to upload).
func benchOptions(n int) sandbox.Options {
	return sandbox.Options{Now: testNow, Seed: 1, Messages: n}
}

// fakesAddr is what the child process prints on its first line of output.
type fakesAddr struct {
	Graph string `json:"graph"` // Graph base URL
	CRM   string `json:"crm"`   // ClientSuccess base URL
	Stats string `json:"stats"` // GET answers fakesStats
}

// fakesStats are both fakes' counters.
type fakesStats struct {
	Graph graphtest.Stats `json:"graph"`
	CRM   crmtest.Stats   `json:"crm"`
}

// benchKnobs are the fake Graph's settings a benchmark case chooses.
type benchKnobs struct {
	// adverse: the class and sensitivity asked in one $expand come back
	// with no properties (graphtest's default); otherwise with both.
	adverse bool
	// unreadable: the body of the first message to upload fails 500 on
	// every read.
	unreadable bool
	// span: how far back the messages go (0: the first pass's window).
	span time.Duration
}

// benchSpan reads benchSpanEnv; a value that is not a duration is 0.
func benchSpan(v string) time.Duration {
	d, _ := time.ParseDuration(v)
	return d
}

func (k benchKnobs) env() []string {
	var out []string
	if k.adverse {
		out = append(out, benchAdverseEnv+"=1")
	}
	if k.unreadable {
		out = append(out, benchUnreadableEnv+"=1")
	}
	if k.span > 0 {
		out = append(out, benchSpanEnv+"="+k.span.String())
	}
	return out
}

// serveBenchFakes is the child process: it loads the generated world into
// a Graph and a ClientSuccess fake, prints their addresses and one for the
// counters, and serves until its standard input closes.
func serveBenchFakes(count, latency, bodySize string, knobs benchKnobs) error {
	n, err := strconv.Atoi(count)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s=%q: want a number of messages", benchFakesEnv, count)
	}
	var lat time.Duration
	if latency != "" {
		if lat, err = time.ParseDuration(latency); err != nil {
			return fmt.Errorf("%s: %w", benchLatencyEnv, err)
		}
	}
	o := benchOptions(n)
	o.Span = knobs.span
	g, c := graphtest.NewGraph(), crmtest.NewCRM()
	defer g.Close()
	defer c.Close()
	// The contacts were made a month before the passes, which run at
	// testNow by the engine's clock and the fake's alike: a pass an hour
	// later finds no contact changed.
	c.SetClock(func() time.Time { return testNow.Add(-30 * 24 * time.Hour) })
	sandbox.Account(o).Load(g, c)
	c.SetClock(func() time.Time { return testNow })
	items := o.Items()
	if bodySize != "" {
		size, err := strconv.Atoi(bodySize)
		if err != nil || size <= 0 {
			return fmt.Errorf("%s=%q: want a number of bytes", benchBodyEnv, bodySize)
		}
		// One string shared by every message: the child holds it once.
		big := strings.Repeat("All work and no play makes a very long email.\n", size/46+1)[:size]
		items = func(yield func(sandbox.Item) bool) {
			for it := range o.Items() {
				if len(it.Expect) > 0 {
					it.Body = big
				}
				if !yield(it) {
					return
				}
			}
		}
	}
	sandbox.LoadItems(g, items)
	if !knobs.adverse {
		g.SetCombinedExpand(graphtest.CombinedExpandAnswered)
	}
	if knobs.unreadable {
		if id := benchUnreadableID(o); id != "" {
			g.PoisonMessage(id, http.StatusInternalServerError)
		}
	}
	g.ResetStats()
	g.SetLatency(lat)
	c.SetLatency(lat)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(fakesStats{Graph: g.Stats(), CRM: c.Stats()})
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	if err := json.NewEncoder(os.Stdout).Encode(fakesAddr{Graph: g.URL, CRM: c.URL, Stats: "http://" + ln.Addr().String() + "/stats"}); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// benchUnreadableID is the Graph id of the first message of o to upload.
func benchUnreadableID(o sandbox.Options) string {
	for it := range o.Items() {
		if len(it.Expect) > 0 {
			return it.Msg.ID
		}
	}
	return ""
}

// benchFakes is a running child process of fakes.
type benchFakes struct {
	fakesAddr
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startBenchFakes starts the child process with n generated messages and
// the given latency per request, every matching message's body body bytes
// long when body > 0; it is stopped when tb ends.
func startBenchFakes(tb testing.TB, n int, latency time.Duration, body int, knobs ...benchKnobs) *benchFakes {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchFakesEnv+"="+strconv.Itoa(n), benchLatencyEnv+"="+latency.String())
	for _, k := range knobs {
		cmd.Env = append(cmd.Env, k.env()...)
	}
	if body > 0 {
		cmd.Env = append(cmd.Env, benchBodyEnv+"="+strconv.Itoa(body))
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	f := &benchFakes{cmd: cmd, stdin: stdin}
	tb.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("bench fakes: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		tb.Fatalf("bench fakes did not start: %v", err)
	}
	if err := json.Unmarshal(line, &f.fakesAddr); err != nil {
		tb.Fatalf("bench fakes: %q: %v", line, err)
	}
	return f
}

func (f *benchFakes) stats(tb testing.TB) fakesStats {
	tb.Helper()
	resp, err := http.Get(f.Stats)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var s fakesStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		tb.Fatal(err)
	}
	return s
}

// benchLabels is what the labels of a generated world say a first pass
// must do, counted without the engine.
type benchLabels struct {
	messages int // N
	uploads  int // M: messages to upload
	pairs    int // interactions to create
	distinct int // distinct external From/To/Cc addresses
}

func countBenchLabels(n int) benchLabels {
	o := benchOptions(n)
	me := map[string]bool{}
	for _, a := range sandbox.Account(o).Me.Addresses() {
		me[strings.ToLower(a)] = true
	}
	l := benchLabels{messages: n}
	ext := map[string]bool{}
	for it := range o.Items() {
		if len(it.Expect) > 0 {
			l.uploads++
			l.pairs += len(it.Expect)
		}
		m := it.Msg
		rs := append(append([]graph.Recipient(nil), m.ToRecipients...), m.CcRecipients...)
		if m.From != nil {
			rs = append(rs, *m.From)
		}
		for _, r := range rs {
			if a := strings.ToLower(strings.TrimSpace(r.EmailAddress.Address)); a != "" && !me[a] {
				ext[a] = true
			}
		}
	}
	l.distinct = len(ext)
	return l
}

// floor is the fewest Graph requests a pass can make: the list pages, the
// body batches, /me, and the folder calls (one $batch for the well-known
// folders plus the childFolders walk under Sync Issues the fake saw).
func (l benchLabels) floor(st graphtest.Stats) int {
	return (l.messages+999)/1000 + (l.uploads+19)/20 + 1 + 1 + st.ByRoute["GET /me/mailFolders/{id}/childFolders"]
}

// benchResult is one measured pass.
type benchResult struct {
	sum   Summary
	stats fakesStats
	wall  time.Duration
	heap  uint64 // peak heap in use above the baseline before the pass
}

// benchSession is the agent's side of a benchmark: a fresh state file and
// the real clients, kept from one pass to the next as the agent keeps them
// (the ClientSuccess token lives 12 h; Graph's bearer needs none here).
type benchSession struct {
	f     *benchFakes
	store *storage.Store
	mb    *graph.Client
	api   *crm.API
	// eng is kept from pass to pass, as the agent keeps it; at is its
	// clock.
	eng *Engine
	at  time.Time
}

func newBenchSession(tb testing.TB, f *benchFakes) *benchSession {
	tb.Helper()
	s, err := storage.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.SaveSettings(sandbox.Settings(), storage.AppSettings{StartAtLogin: true}); err != nil {
		tb.Fatal(err)
	}
	bs := &benchSession{
		f:     f,
		store: s,
		mb:    graph.NewClient(f.Graph, &http.Client{Transport: bearer{http.DefaultTransport}, Timeout: time.Minute}),
		api:   crm.NewClient(f.CRM, sandbox.CRMUser, func() (string, error) { return sandbox.CRMPassword, nil }, nil),
	}
	bs.eng = &Engine{Store: s, Now: func() time.Time { return bs.at }}
	return bs
}

// benchTimer is the timed callback of a benchmark: it starts b's timer
// when on and stops it when off.
func benchTimer(b *testing.B) func(on bool) {
	return func(on bool) {
		if on {
			b.StartTimer()
		} else {
			b.StopTimer()
		}
	}
}

// runBenchPass makes one first pass against the fakes with the real
// clients and a fresh state file, sampling this process's heap every 10 ms.
func runBenchPass(tb testing.TB, f *benchFakes, timed func(bool)) benchResult {
	tb.Helper()
	return newBenchSession(tb, f).pass(tb, testNow, timed)
}

// pass runs one pass at the engine time at; its stats are the fakes'
// counters after it (they count from the start of the child process).
func (bs *benchSession) pass(tb testing.TB, at time.Time, timed func(bool)) benchResult {
	tb.Helper()
	bs.at = at
	eng := bs.eng

	runtime.GC()
	base := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	timed(true)
	start := time.Now()
	sum, err := eng.Pass(context.Background(), bs.mb, bs.api, nil)
	wall := time.Since(start)
	timed(false)
	close(stop)
	wg.Wait()
	if err != nil {
		tb.Fatal(err)
	}
	r := benchResult{sum: sum, stats: bs.f.stats(tb), wall: wall}
	if p := peak.Load(); p > base {
		r.heap = p - base
	}
	return r
}

// quietPass is a first pass at testNow, then, an hour later with no new
// mail and no contact changed, the pass measured: what it cost in requests
// to either fake, and how long it took.
type quietPass struct {
	graph, crm  int // requests during the quiet pass
	graphRoutes map[string]int
	crmRoutes   map[string]int
	wall        time.Duration
	sum         Summary
}

func runQuietPass(tb testing.TB, f *benchFakes, timed func(bool)) quietPass {
	tb.Helper()
	bs := newBenchSession(tb, f)
	first := bs.pass(tb, testNow, func(bool) {})
	r := bs.pass(tb, testNow.Add(time.Hour), timed)
	return quietPass{
		graph:       r.stats.Graph.Requests - first.stats.Graph.Requests,
		crm:         r.stats.CRM.Requests - first.stats.CRM.Requests,
		graphRoutes: routeDelta(r.stats.Graph.ByRoute, first.stats.Graph.ByRoute),
		crmRoutes:   routeDelta(r.stats.CRM.ByRoute, first.stats.CRM.ByRoute),
		wall:        r.wall,
		sum:         r.sum,
	}
}

func routeDelta(after, before map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkPass is one first pass over a generated mailbox (2,000 contacts,
// 15 % of the messages to upload) with 50 ms of latency on every request to
// either fake, the fakes in a child process. `make bench` runs it; the
// 100,000 case takes minutes. The 1000_5MB case is the 1,000 one with every
// matching message's body 5 MB long: its peak heap must stay within a small
// multiple of the 1,000 case's (bodies are cut as they are read). Each case
// reports the most concurrent requests the pass asked of the mailbox, as the
// fake Outlook counts them (a $batch counts min(4, its steps)).
func BenchmarkPass(b *testing.B) {
	for _, c := range []struct {
		n, body int
	}{{1000, 0}, {1000, bigBody}, {10000, 0}, {100000, 0}} {
		name := strconv.Itoa(c.n)
		if c.body > 0 {
			name += "_5MB"
		}
		n := c.n
		b.Run(name, func(b *testing.B) {
			b.StopTimer()
			labels := countBenchLabels(n)
			for range b.N {
				// A fresh ClientSuccess for every pass, so each is a first.
				f := startBenchFakes(b, n, 50*time.Millisecond, c.body)
				r := runBenchPass(b, f, benchTimer(b))
				if r.sum.Counts.Uploads != labels.pairs {
					b.Fatalf("uploaded %d, the labels say %d", r.sum.Counts.Uploads, labels.pairs)
				}
				b.ReportMetric(r.wall.Seconds(), "wall-s")
				b.ReportMetric(float64(r.stats.Graph.Requests), "graph-requests")
				b.ReportMetric(float64(labels.floor(r.stats.Graph)), "graph-floor")
				b.ReportMetric(float64(r.stats.CRM.Requests), "crm-requests")
				b.ReportMetric(float64(r.stats.CRM.ByRoute["GET /contacts"]+r.stats.CRM.ByRoute["GET /contacts/search"]), "lookups")
				b.ReportMetric(float64(labels.distinct), "distinct-external")
				b.ReportMetric(float64(r.sum.Counts.Uploads), "uploads")
				b.ReportMetric(float64(r.heap)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(r.stats.Graph.PeakMailbox), "peak-mailbox")
				b.ReportMetric(float64(r.stats.Graph.MailboxThrottled), "throttled")
			}
		})
	}
}

// BenchmarkQuietPass is a pass an hour after the first, with no new mail
// and no contact changed, over 26 and 10,000 messages in the window, with
// 20 ms and 50 ms of latency on every request, and over 26 messages with
// one whose body Graph always refuses ("26_unreadable"). `make bench` runs
// it.
func BenchmarkQuietPass(b *testing.B) {
	for _, c := range []struct {
		n          int
		unreadable bool
	}{{26, false}, {10000, false}, {26, true}} {
		for _, lat := range []time.Duration{20 * time.Millisecond, 50 * time.Millisecond} {
			name := strconv.Itoa(c.n)
			if c.unreadable {
				name += "_unreadable"
			}
			b.Run(fmt.Sprintf("%s/%s", name, lat), func(b *testing.B) {
				b.StopTimer()
				for range b.N {
					f := startBenchFakes(b, c.n, lat, 0, benchKnobs{unreadable: c.unreadable})
					q := runQuietPass(b, f, benchTimer(b))
					if q.sum.Counts.Uploads != 0 {
						b.Fatalf("the quiet pass uploaded %d", q.sum.Counts.Uploads)
					}
					b.ReportMetric(q.wall.Seconds(), "wall-s")
					b.ReportMetric(float64(q.graph), "graph-requests")
					b.ReportMetric(float64(q.crm), "crm-requests")
					b.ReportMetric(float64(q.graph+q.crm), "requests")
				}
			})
		}
	}
}

// TestQuietPassCost: an hour after the first pass, with no new mail and no
// contact changed, a pass makes one Graph request per 1,000 messages in the
// window (the whole window is listed again, so a message moved out of Junk
// is found) and one ClientSuccess request (the contacts changed since): 2
// at 26 messages, 11 at 10,000. A message whose body Graph always refuses
// adds one $batch, tried once, not retried in backoff: 3. With the class
// and sensitivity answered only one at a time, the quiet pass asks for
// them again for nothing already decided: still 2.
func TestQuietPassCost(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 generated messages")
	}
	for _, c := range []struct {
		n     int
		knobs benchKnobs
		want  int
	}{
		{26, benchKnobs{}, 2},
		{10000, benchKnobs{}, 11},
		{26, benchKnobs{unreadable: true}, 3},
		{26, benchKnobs{adverse: true}, 2},
		{1000, benchKnobs{adverse: true, unreadable: true}, 3},
	} {
		f := startBenchFakes(t, c.n, 0, 0, c.knobs)
		q := runQuietPass(t, f, func(bool) {})
		if q.graph+q.crm > c.want || q.crm != 1 {
			t.Errorf("%d messages %+v: quiet pass made %d Graph requests %v and %d ClientSuccess requests %v; want %d in all",
				c.n, c.knobs, q.graph, q.graphRoutes, q.crm, q.crmRoutes, c.want)
		}
		t.Logf("%d messages %+v: quiet pass: Graph %d %v, ClientSuccess %d %v", c.n, c.knobs, q.graph, q.graphRoutes, q.crm, q.crmRoutes)
	}
}

// TestUnreadableBodyCostsOneRetry: a message whose body Graph refuses (500
// on its $batch step, every time) is read twice in the first pass (once
// with its batch, once right after, with no wait) and once in each pass
// after; the other uploads all land and the first pass costs one request
// over its floor.
func TestUnreadableBodyCostsOneRetry(t *testing.T) {
	labels := countBenchLabels(1000)
	f := startBenchFakes(t, 1000, 0, 0, benchKnobs{unreadable: true})
	bs := newBenchSession(t, f)
	first := bs.pass(t, testNow, func(bool) {})
	id := benchUnreadableID(benchOptions(1000))
	want := labels.pairs - len(benchExpect(benchOptions(1000), id))
	if first.sum.Counts.Uploads != want {
		t.Errorf("uploaded %d, want %d (all but the unreadable message)", first.sum.Counts.Uploads, want)
	}
	gs := first.stats.Graph
	if floor := labels.floor(gs); gs.Requests != floor+1 {
		t.Errorf("first pass: %d Graph requests, want the floor %d and one more (%v)", gs.Requests, floor, gs.ByRoute)
	}
	second := bs.pass(t, testNow.Add(time.Hour), func(bool) {})
	if n := second.stats.Graph.ByRoute["POST /$batch"] - gs.ByRoute["POST /$batch"]; n != 1 {
		t.Errorf("the pass after made %d $batch requests, want 1", n)
	}
	if second.sum.Counts.Uploads != 0 {
		t.Errorf("the pass after uploaded %d", second.sum.Counts.Uploads)
	}
}

// benchExpect is the clients the message with Graph id id must land on.
func benchExpect(o sandbox.Options, id string) []int64 {
	for it := range o.Items() {
		if it.Msg.ID == id {
			return it.Expect
		}
	}
	return nil
}

// TestPassCostFloor: on 1,000 generated messages a pass stays within 10 %
// of the fewest Graph requests possible, reads the contact directory in
// pages of 200 instead of looking addresses up, and never has more than
// crm.MaxInFlight ClientSuccess requests in flight.
func TestPassCostFloor(t *testing.T) {
	labels := countBenchLabels(1000)
	// A little latency, so that requests overlap and the in-flight bound
	// is put to the test.
	f := startBenchFakes(t, 1000, 2*time.Millisecond, 0)
	r := runBenchPass(t, f, func(bool) {})
	gs, cs := r.stats.Graph, r.stats.CRM
	if cs.PeakInFlight > crm.MaxInFlight || cs.PeakInFlight < 2 {
		t.Errorf("ClientSuccess saw %d requests in flight at once, want 2 to %d", cs.PeakInFlight, crm.MaxInFlight)
	}
	if r.sum.Counts.Uploads != labels.pairs {
		t.Errorf("uploaded %d, the labels say %d", r.sum.Counts.Uploads, labels.pairs)
	}
	if floor := labels.floor(gs); float64(gs.Requests) > 1.1*float64(floor) {
		t.Errorf("Graph requests = %d, floor %d (%v)", gs.Requests, floor, gs.ByRoute)
	}
	if n := cs.ByRoute["GET /contacts"] + cs.ByRoute["GET /contacts/search"]; n != 0 {
		t.Errorf("per-address contact look-ups = %d with the contact search available", n)
	}
	contacts := len(sandbox.Account(benchOptions(1000)).Contacts)
	if n := cs.ByRoute["GET /v2/contact/search"]; n == 0 || n > (contacts+199)/200+1 {
		t.Errorf("contact search pages = %d for %d contacts", n, contacts)
	}
	t.Logf("graph %d (floor %d), crm %d, directory pages %d, uploads %d, heap +%.1f MB",
		gs.Requests, labels.floor(gs), cs.Requests, cs.ByRoute["GET /v2/contact/search"], r.sum.Counts.Uploads, float64(r.heap)/(1<<20))
}

// BenchmarkFirstPass is the first pass over 10,000 generated messages
// (about 1,400 uploads) with 20 ms of latency on every request, the fakes
// in a child process: as generated, and with the body of one message to
// upload refused (500) on every read ("unreadable"). It reports the wall
// time, the most ClientSuccess requests the fake saw in flight at once and
// the latency floor: the ClientSuccess requests, 4 in flight, at 20 ms
// each (the Graph reads overlap with them); `make bench` checks them.
func BenchmarkFirstPass(b *testing.B) {
	const n = 10000
	const latency = 20 * time.Millisecond
	for _, unreadable := range []bool{false, true} {
		name := "generated"
		if unreadable {
			name = "unreadable"
		}
		b.Run(name, func(b *testing.B) {
			b.StopTimer()
			labels := countBenchLabels(n)
			want := labels.pairs
			if unreadable {
				want -= len(benchExpect(benchOptions(n), benchUnreadableID(benchOptions(n))))
			}
			for range b.N {
				f := startBenchFakes(b, n, latency, 0, benchKnobs{unreadable: unreadable})
				r := runBenchPass(b, f, benchTimer(b))
				if r.sum.Counts.Uploads != want {
					b.Fatalf("uploaded %d, the labels say %d", r.sum.Counts.Uploads, want)
				}
				floor := float64(r.stats.CRM.Requests) / crm.MaxInFlight * latency.Seconds()
				b.ReportMetric(r.wall.Seconds(), "wall-s")
				b.ReportMetric(floor, "floor-s")
				b.ReportMetric(r.wall.Seconds()/floor, "x-floor")
				b.ReportMetric(float64(r.sum.Counts.Uploads), "uploads")
				b.ReportMetric(float64(r.stats.CRM.Requests), "crm-requests")
				b.ReportMetric(float64(r.stats.CRM.PeakInFlight), "crm-peak-in-flight")
				b.ReportMetric(float64(r.stats.Graph.Requests), "graph-requests")
			}
		})
	}
}

// BenchmarkBackfill is a backfill of 90 days over a mailbox of 50,000
// messages spread over those days (2,000 contacts, 15 % to upload), 20 ms
// on every request to either fake, after the first pass copied the last
// 24 hours. It reports the Graph requests against their floor (the list
// pages of the range read in one go, the body batches and the /me and
// folder calls; a backfill lists one day at a time), the wall time, the
// peak heap and the peak mailbox concurrency. `make bench` runs it.
func BenchmarkBackfill(b *testing.B) {
	const (
		n       = 50000
		days    = 90
		latency = 20 * time.Millisecond
	)
	span := days * 24 * time.Hour
	for range b.N {
		b.StopTimer()
		o := benchOptions(n)
		o.Span = span
		f := startBenchFakes(b, n, latency, 0, benchKnobs{span: span})
		bs := newBenchSession(b, f)
		if err := bs.store.UpdateMeta(func(m *storage.Meta) {
			m.Account = &storage.Account{Name: "Alex Morgan", Email: sandbox.Account(o).Me.Mail}
		}); err != nil {
			b.Fatal(err)
		}
		first := bs.pass(b, testNow, func(bool) {})
		bs.at = testNow.Add(10 * time.Minute)
		if _, err := bs.eng.StartBackfill(days); err != nil {
			b.Fatal(err)
		}

		runtime.GC()
		base := heapBytes()
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			for {
				if h := heapBytes(); h > peak.Load() {
					peak.Store(h)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		})
		b.StartTimer()
		start := time.Now()
		rec, err := bs.eng.RunBackfill(context.Background(), bs.mb, bs.api, nil)
		wall := time.Since(start)
		b.StopTimer()
		close(stop)
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		after := f.stats(b)
		// What the labels say the backfill must do: read what was received
		// in its range, copy what the first pass's window did not hold.
		window := first.sum.WindowStart
		var inRange, uploads, pairs int
		for it := range o.Items() {
			at := it.Msg.ReceivedDateTime
			if at.Before(rec.From) || !at.Before(rec.To) {
				continue
			}
			inRange++
			if len(it.Expect) > 0 && at.Before(window) {
				uploads++
				pairs += len(it.Expect)
			}
		}
		if rec.Emails != uploads || rec.Read != inRange {
			b.Fatalf("backfill read %d and copied %d emails; the labels say %d and %d", rec.Read, rec.Emails, inRange, uploads)
		}
		graphReqs := after.Graph.Requests - first.stats.Graph.Requests
		floor := (inRange+999)/1000 + (uploads+19)/20
		creates := after.CRM.ByRoute["POST /clients/{id}/interactions"] - first.stats.CRM.ByRoute["POST /clients/{id}/interactions"]
		if creates != pairs {
			b.Fatalf("backfill created %d interactions; the labels say %d", creates, pairs)
		}
		heap := uint64(0)
		if p := peak.Load(); p > base {
			heap = p - base
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(float64(inRange), "messages")
		b.ReportMetric(float64(uploads), "emails")
		b.ReportMetric(float64(graphReqs), "graph-requests")
		b.ReportMetric(float64(floor), "graph-floor")
		b.ReportMetric(float64(after.CRM.Requests-first.stats.CRM.Requests), "crm-requests")
		b.ReportMetric(float64(pairs)/crm.MaxInFlight*latency.Seconds(), "upload-floor-s")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(after.Graph.PeakMailbox), "peak-mailbox")
	}
}
