package engine

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/crmtest"
	"mailsync/sync/sandbox"
)

// TestReconnectContinuesWithoutGap: the mailbox connected last, connected
// again after a disconnect or a refused sign-in, continues from its last
// pass (at most MaxCatchUp back): the mail that arrived meanwhile is copied
// once, nothing twice, uploads left pending at the disconnect included.
// Another mailbox starts with the last 24 hours.
func TestReconnectContinuesWithoutGap(t *testing.T) {
	day := 24 * time.Hour
	ann := storage.Account{Name: "Ann", Email: "ann@example.com"}
	tests := []struct {
		name string
		// away is what happens after the first pass: the sign-in ends.
		away func(*env)
		// off is how long nothing runs; back connects again.
		off        time.Duration
		back       storage.Account
		fresh      bool
		wantWindow func(back time.Time) time.Time
	}{
		{
			name: "disconnected for 3 days",
			away: func(e *env) {
				if err := e.store.ForgetMailbox(); err != nil {
					e.t.Fatal(err)
				}
			},
			off: 3 * day, back: storage.Account{Name: "Ann", Email: "ANN@example.com"},
			wantWindow: func(time.Time) time.Time { return testNow.Add(-SkewMargin) },
		},
		{
			name: "sign-in refused, 5 days offline",
			away: func(e *env) {
				if err := e.store.UpdateMeta(func(m *storage.Meta) { m.NeedsReconnect = "refused" }); err != nil {
					e.t.Fatal(err)
				}
			},
			off: 5 * day, back: ann,
			wantWindow: func(time.Time) time.Time { return testNow.Add(-SkewMargin) },
		},
		{
			name: "disconnected for 40 days: 30 days back",
			away: func(e *env) {
				if err := e.store.ForgetMailbox(); err != nil {
					e.t.Fatal(err)
				}
			},
			off: 40 * day, back: ann,
			wantWindow: func(back time.Time) time.Time { return back.Add(-MaxCatchUp) },
		},
		{
			name: "another mailbox starts with 24 hours",
			away: func(e *env) {
				if err := e.store.ForgetMailbox(); err != nil {
					e.t.Fatal(err)
				}
			},
			off: 3 * day, back: storage.Account{Name: "Bo", Email: "bo@example.com"}, fresh: true,
			wantWindow: func(back time.Time) time.Time { return back.Add(-WindowOverlap) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := sandbox.Demo(testNow)
			e := newEnv(t, w)
			if _, err := e.store.ConnectMailbox(ann, testNow); err != nil {
				t.Fatal(err)
			}
			e.mustPass(testNow)
			// Mail of the next hour is posted, but answers are lost on
			// the way back: uploads stay pending through what follows.
			hour := sandbox.CatchUp(testNow.Add(5*time.Minute), testNow.Add(50*time.Minute), 12, 2)
			for _, it := range hour {
				e.g.AddMessage(it.Msg, it.Body)
			}
			e.c.SetFaults(crmtest.Faults{Rate: 0.3, Kinds: []crmtest.FaultKind{crmtest.ResetAfterApply}, Seed: 7})
			for i := 0; ; i++ {
				if i == 10 {
					t.Fatal("no pass left an upload pending")
				}
				_, err := e.pass(testNow.Add(time.Hour + time.Duration(i)*time.Minute))
				if jobs, jerr := e.store.PendingJobs(); jerr != nil || err != nil && len(jobs) > 0 {
					break
				}
			}
			e.c.SetFaults(crmtest.Faults{})
			tt.away(e)

			back := testNow.Add(tt.off)
			gap := sandbox.CatchUp(testNow.Add(2*time.Hour), back.Add(-time.Minute), 40, 1)
			for _, it := range gap {
				e.g.AddMessage(it.Msg, it.Body)
			}
			window := tt.wantWindow(back)
			e.reopen()
			fresh, err := e.store.ConnectMailbox(tt.back, back)
			if err != nil || fresh != tt.fresh {
				t.Fatalf("ConnectMailbox: fresh %v, %v; want fresh %v", fresh, err, tt.fresh)
			}
			s := e.mustPass(back)
			if !s.WindowStart.Equal(window) {
				t.Errorf("window starts %v, want %v", s.WindowStart, window)
			}
			// Once more later: nothing new.
			if s := e.mustPass(back.Add(time.Hour)); s.Counts.Uploads != 0 {
				t.Errorf("the pass after the catch-up uploaded %d", s.Counts.Uploads)
			}

			got := landed(e.c)
			times := map[string]int{}
			for c, ids := range got {
				for _, id := range ids {
					if times[id+" "+strconv.FormatInt(c, 10)]++; times[id+" "+strconv.FormatInt(c, 10)] > 1 {
						t.Errorf("%s copied twice to client %d", id, c)
					}
				}
			}
			has := func(c int64, id string) bool { return slices.Contains(got[c], id) }
			for c, ids := range w.Expected() {
				for _, id := range ids {
					if !has(c, id) {
						t.Errorf("%s of the first pass not in client %d", id, c)
					}
				}
			}
			for _, it := range hour {
				for _, c := range it.Expect {
					if !tt.fresh && !has(c, it.Msg.InternetMessageID) {
						t.Errorf("%s, pending at the disconnect, not in client %d", it.Msg.InternetMessageID, c)
					}
				}
			}
			copied := 0
			for _, it := range gap {
				in := !it.Msg.ReceivedDateTime.Before(window)
				for _, c := range it.Expect {
					if has(c, it.Msg.InternetMessageID) != in {
						t.Errorf("%s received %v: in client %d %v, want %v (window %v)", it.Msg.InternetMessageID,
							it.Msg.ReceivedDateTime, c, !in, in, window)
					}
				}
				if in {
					copied++
				}
			}
			if copied == 0 || tt.off < MaxCatchUp && !tt.fresh && copied != len(gap) {
				t.Errorf("%d of the %d emails of the gap are in the window", copied, len(gap))
			}
		})
	}
}
