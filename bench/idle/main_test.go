package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestCPUTicksSkipsAWeirdCommandName(t *testing.T) {
	// A command name with spaces and ')' must not shift the fields.
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 9 0 123 1000 200\n"
	got, err := cpuTicks(line)
	if err != nil {
		t.Fatal(err)
	}
	if got != 22 {
		t.Errorf("cpuTicks = %d, want 17+5", got)
	}
	if _, err := cpuTicks("4242 (x S 1 2"); err == nil {
		t.Error("a line without ')' was accepted")
	}
}

func TestParseStatusReadsKiBAndCounters(t *testing.T) {
	st := parseStatus("Name:\tmailsync\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nvoluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t3\n")
	if st["VmRSS"] != 10240 || st["VmHWM"] != 20480 || st["voluntary_ctxt_switches"] != 7 || st["nonvoluntary_ctxt_switches"] != 3 {
		t.Errorf("parseStatus = %v", st)
	}
	if _, ok := st["Name"]; ok {
		t.Error("a text field was read as a number")
	}
}

func TestSwitchesSinceCountsNewThreadsFromZero(t *testing.T) {
	got := switchesSince(map[int]int64{1: 10, 2: 5, 3: 8}, map[int]int64{1: 15, 2: 5, 4: 2})
	if got != 7 {
		t.Errorf("switchesSince = %d, want 5+0+2", got)
	}
}

func TestReadSeesThisProcessWork(t *testing.T) {
	pid := os.Getpid()
	before, err := read(pid)
	if err != nil {
		t.Fatal(err)
	}
	// Burn a few clock ticks and block a few times.
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	for range 5 {
		time.Sleep(time.Millisecond)
	}
	after, err := read(pid)
	if err != nil {
		t.Fatal(err)
	}
	if after.Ticks <= before.Ticks {
		t.Errorf("CPU ticks did not grow: %d then %d", before.Ticks, after.Ticks)
	}
	if after.RSSKiB <= 0 || after.HWMKiB < after.RSSKiB {
		t.Errorf("RSS %d KiB, peak %d KiB", after.RSSKiB, after.HWMKiB)
	}
	if switchesSince(before.Switches, after.Switches) <= 0 {
		t.Error("no context switches counted across sleeps")
	}
}

func TestRunFailsWhenAProcessIsGone(t *testing.T) {
	// No process has a pid this high (pid_max is at most 2^22).
	_, err := run([]proc{{Name: "gone", PID: 0x7ffffffe}}, 0, time.Millisecond, 100)
	if err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("run on a missing process: %v", err)
	}
}

func TestReportVerdicts(t *testing.T) {
	base := result{proc: proc{Name: "fyne"}, CPUSeconds: 1.0, RSSKiB: 100 << 10}
	cases := []struct {
		name   string
		cpu    float64
		rssKiB int64
		ok     bool
	}{
		{"both under", 0.05, 30 << 10, true},
		{"CPU over", 0.2, 30 << 10, false},
		{"memory over", 0.05, 60 << 10, false},
	}
	for _, c := range cases {
		var out bytes.Buffer
		ok, err := report(&out, result{proc: proc{Name: "agent"}, CPUSeconds: c.cpu, RSSKiB: c.rssKiB}, base, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.ok {
			t.Errorf("%s: ok = %v\n%s", c.name, ok, out.String())
		}
		if strings.Count(out.String(), "FAIL") != map[bool]int{true: 0, false: 1}[c.ok] {
			t.Errorf("%s: verdict lines wrong:\n%s", c.name, out.String())
		}
	}
	if _, err := report(&bytes.Buffer{}, base, result{proc: proc{Name: "idle"}}, time.Minute); err == nil {
		t.Error("a baseline with no CPU was compared")
	}
}
