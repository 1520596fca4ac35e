package engine

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"runtime/metrics"
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

// benchWorld is a generated mailbox loaded into a Graph fake, with what the
// labels say about it.
type benchWorld struct {
	opts     sandbox.Options
	account  *sandbox.World
	g        *graphtest.Graph
	messages int // N
	uploads  int // M: messages to upload
	pairs    int // interactions to create
	distinct int // distinct external From/To/Cc addresses
}

// loadBenchWorld streams n generated messages into a Graph fake without
// holding them, and counts from the labels alone what a pass must do.
func loadBenchWorld(tb testing.TB, n int) *benchWorld {
	tb.Helper()
	o := sandbox.Options{Now: testNow, Seed: 1, Messages: n}
	w := &benchWorld{opts: o, account: sandbox.Account(o), g: graphtest.NewGraph(), messages: n}
	tb.Cleanup(w.g.Close)
	w.account.Load(w.g, nil)
	me := map[string]bool{}
	for _, a := range w.account.Me.Addresses() {
		me[a] = true
	}
	ext := map[string]bool{}
	for it := range o.Items() {
		w.g.AddMessage(it.Msg, it.Body)
		if len(it.Expect) > 0 {
			w.uploads++
			w.pairs += len(it.Expect)
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
	w.distinct = len(ext)
	return w
}

// floor is the fewest Graph requests a pass can make: the list pages, the
// body batches, /me, and the folder calls (one $batch for the well-known
// folders plus the childFolders walk under Sync Issues the fake saw).
func (w *benchWorld) floor(st graphtest.Stats) int {
	return (w.messages+999)/1000 + (w.uploads+19)/20 + 1 + 1 + st.ByRoute["GET /me/mailFolders/{id}/childFolders"]
}

// run makes one first pass over the world with a fresh ClientSuccess and a
// fresh state file; it returns the pass's summary, the fakes' counters and
// the peak heap above the baseline measured just before the pass.
func (w *benchWorld) run(tb testing.TB, latency time.Duration, timed func(bool)) (Summary, graphtest.Stats, crmtest.Stats, uint64) {
	tb.Helper()
	c := crmtest.NewCRM()
	defer c.Close()
	w.account.Load(nil, c)
	w.g.ResetStats()
	w.g.SetLatency(latency)
	c.SetLatency(latency)
	s, err := storage.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	if err := s.PutJSON(storage.BucketSettings, "rules", sandbox.Settings()); err != nil {
		tb.Fatal(err)
	}
	mb := graph.NewClient(w.g.URL, &http.Client{Transport: bearer{http.DefaultTransport}, Timeout: time.Minute})
	api := crm.NewClient(c.URL, w.account.CRMUser, func() (string, error) { return w.account.CRMPassword, nil }, nil)
	eng := &Engine{Store: s, Now: func() time.Time { return testNow }}

	runtime.GC()
	base := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
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
	sum, err := eng.Pass(context.Background(), mb, api)
	timed(false)
	close(stop)
	wg.Wait()
	if err != nil {
		tb.Fatal(err)
	}
	var above uint64
	if p := peak.Load(); p > base {
		above = p - base
	}
	return sum, w.g.Stats(), c.Stats(), above
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkPass is one first pass over a generated mailbox (2,000 contacts,
// 15 % of the messages to upload) with 50 ms of latency on every request to
// either fake. `make bench` runs it; the 100,000 case takes minutes.
func BenchmarkPass(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.StopTimer()
			w := loadBenchWorld(b, n)
			for range b.N {
				sum, gs, cs, heap := w.run(b, 50*time.Millisecond, func(on bool) {
					if on {
						b.StartTimer()
					} else {
						b.StopTimer()
					}
				})
				if sum.Counts.Uploads != w.pairs {
					b.Fatalf("uploaded %d, the labels say %d", sum.Counts.Uploads, w.pairs)
				}
				b.ReportMetric(float64(gs.Requests), "graph-requests")
				b.ReportMetric(float64(w.floor(gs)), "graph-floor")
				b.ReportMetric(float64(cs.Requests), "crm-requests")
				b.ReportMetric(float64(cs.ByRoute["GET /contacts"]), "crm-lookups")
				b.ReportMetric(float64(w.distinct), "distinct-external-addresses")
				b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
				b.ReportMetric(float64(sum.Counts.Uploads), "uploads")
			}
		})
	}
}

// TestPassCostFloor: on 1,000 generated messages a pass stays within 10 %
// of the fewest Graph requests possible, and looks each external address
// up at most once.
func TestPassCostFloor(t *testing.T) {
	w := loadBenchWorld(t, 1000)
	sum, gs, cs, _ := w.run(t, 0, func(bool) {})
	if sum.Counts.Uploads != w.pairs {
		t.Errorf("uploaded %d, the labels say %d", sum.Counts.Uploads, w.pairs)
	}
	if floor := w.floor(gs); float64(gs.Requests) > 1.1*float64(floor) {
		t.Errorf("Graph requests = %d, floor %d (%v)", gs.Requests, floor, gs.ByRoute)
	}
	if n := cs.ByRoute["GET /contacts"]; n > w.distinct || n == 0 {
		t.Errorf("contact look-ups = %d, distinct external addresses %d", n, w.distinct)
	}
	t.Logf("graph %d (floor %d), crm %d, look-ups %d of %d addresses, uploads %d",
		gs.Requests, w.floor(gs), cs.Requests, cs.ByRoute["GET /contacts"], w.distinct, sum.Counts.Uploads)
}
