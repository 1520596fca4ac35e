// Command idle measures what two running processes cost while they wait and
// compares them: the Mail Sync agent against a baseline (the minimal Fyne
// tray app of bench/fynetray). It is the measuring half of `make bench-idle`;
// .ci/bench-idle starts the processes.
//
//	idle [-settle 30s] [-measure 60s] [-clk-tck 100] -agent PID -baseline PID
//
// After -settle it reads, for each process, the CPU time of all its threads
// (utime+stime of /proc/PID/stat, exited threads included) and the context
// switches of its threads (voluntary+nonvoluntary of every
// /proc/PID/task/TID/status; /proc/PID/status counts the main thread only),
// waits -measure, reads them again, and takes the resident memory at the end
// (VmRSS) and its peak (VmHWM) from /proc/PID/status. It prints a Markdown
// table and the two ratios against the targets (agent CPU under 10 % of the
// baseline's, agent resident memory under 50 %).
//
// Exit status: 0 both targets met, 1 a target missed, 2 the measurement
// failed (a process ended, /proc unreadable, the baseline used no CPU).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Targets of the issue: the agent must cost less than these fractions of
// the baseline.
const (
	maxCPURatio = 0.10
	maxRSSRatio = 0.50
)

func main() {
	settle := flag.Duration("settle", 30*time.Second, "idle time before measuring")
	measure := flag.Duration("measure", 60*time.Second, "length of the measurement")
	clkTck := flag.Int("clk-tck", 100, "clock ticks per second of /proc/PID/stat (getconf CLK_TCK)")
	agentPID := flag.Int("agent", 0, "process id of the agent")
	basePID := flag.Int("baseline", 0, "process id of the minimal Fyne tray app")
	flag.Parse()
	if *agentPID <= 0 || *basePID <= 0 || *clkTck <= 0 || *measure <= 0 {
		fmt.Fprintln(os.Stderr, "usage: idle [-settle D] [-measure D] [-clk-tck N] -agent PID -baseline PID")
		os.Exit(2)
	}
	procs := []proc{
		{Name: "agent (`mailsync demo`)", PID: *agentPID},
		{Name: "minimal Fyne tray app", PID: *basePID},
	}
	res, err := run(procs, *settle, *measure, *clkTck)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-idle: %v\n", err)
		os.Exit(2)
	}
	ok, err := report(os.Stdout, res[0], res[1], *measure)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-idle: %v\n", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

type proc struct {
	Name string
	PID  int
}

// snapshot is what /proc says about a process at one moment.
type snapshot struct {
	Ticks    int64         // utime+stime of the whole process, in clock ticks
	Switches map[int]int64 // voluntary+nonvoluntary context switches by thread id
	RSSKiB   int64         // VmRSS
	HWMKiB   int64         // VmHWM, the peak of VmRSS
}

// result is one process's cost over the measurement.
type result struct {
	proc
	CPUSeconds float64
	Switches   int64
	RSSKiB     int64
	HWMKiB     int64
}

// run waits settle, then measures every process for measure. It checks
// once a second that the processes still run, so a crash is reported rather
// than measured as zero.
func run(procs []proc, settle, measure time.Duration, clkTck int) ([]result, error) {
	if err := watch(procs, settle); err != nil {
		return nil, err
	}
	start := make([]snapshot, len(procs))
	for i, p := range procs {
		s, err := read(p.PID)
		if err != nil {
			return nil, fmt.Errorf("measure %s: %w", p.Name, err)
		}
		start[i] = s
	}
	if err := watch(procs, measure); err != nil {
		return nil, err
	}
	res := make([]result, len(procs))
	for i, p := range procs {
		end, err := read(p.PID)
		if err != nil {
			return nil, fmt.Errorf("measure %s: %w", p.Name, err)
		}
		res[i] = result{
			proc:       p,
			CPUSeconds: float64(end.Ticks-start[i].Ticks) / float64(clkTck),
			Switches:   switchesSince(start[i].Switches, end.Switches),
			RSSKiB:     end.RSSKiB,
			HWMKiB:     end.HWMKiB,
		}
	}
	return res, nil
}

// watch waits d, failing as soon as one of procs has ended.
func watch(procs []proc, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		for _, p := range procs {
			if err := alive(p.PID); err != nil {
				return fmt.Errorf("%s (pid %d) stopped: %w", p.Name, p.PID, err)
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		time.Sleep(min(left, time.Second))
	}
}

// alive reports an error if pid has exited or is a zombie.
func alive(pid int) error {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return err
	}
	f, err := statFields(string(b))
	if err != nil {
		return err
	}
	if f[0] == "Z" || f[0] == "X" {
		return errors.New("process exited")
	}
	return nil
}

func read(pid int) (snapshot, error) {
	var s snapshot
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.Ticks, err = cpuTicks(string(b)); err != nil {
		return s, err
	}
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	st := parseStatus(string(b))
	s.RSSKiB, s.HWMKiB = st["VmRSS"], st["VmHWM"]
	if s.RSSKiB == 0 {
		return s, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		return s, fmt.Errorf("list the threads of %d: %v", pid, err)
	}
	s.Switches = make(map[int]int64, len(tasks))
	for _, t := range tasks {
		tid, err := strconv.Atoi(filepath.Base(filepath.Dir(t)))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(t)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // the thread exited since the listing
		}
		if err != nil {
			return s, err
		}
		st := parseStatus(string(b))
		s.Switches[tid] = st["voluntary_ctxt_switches"] + st["nonvoluntary_ctxt_switches"]
	}
	return s, nil
}

// switchesSince sums the context switches every thread alive at the end
// made since start; a thread started in between counts from zero. Threads
// that exited in between are lost (Go rarely ends its threads).
func switchesSince(start, end map[int]int64) int64 {
	var n int64
	for tid, e := range end {
		n += e - start[tid]
	}
	return n
}

// statFields returns the fields of a /proc/PID/stat line after the command
// name, starting with the state (field 3 of proc(5)). The name is skipped
// up to the last ')' because it may itself contain spaces and parentheses.
func statFields(line string) ([]string, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return nil, errors.New("malformed /proc stat line")
	}
	f := strings.Fields(line[i+1:])
	if len(f) < 13 {
		return nil, errors.New("short /proc stat line")
	}
	return f, nil
}

// cpuTicks returns utime+stime (fields 14 and 15 of proc(5)) of a
// /proc/PID/stat line.
func cpuTicks(line string) (int64, error) {
	f, err := statFields(line)
	if err != nil {
		return 0, err
	}
	u, err := strconv.ParseInt(f[14-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}
	s, err := strconv.ParseInt(f[15-3], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}
	return u + s, nil
}

// parseStatus returns the numeric fields of a /proc/PID/status file by
// name, in the file's unit (kB for the Vm* lines).
func parseStatus(s string) map[string]int64 {
	m := make(map[string]int64)
	for line := range strings.Lines(s) {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			m[name] = n
		}
	}
	return m
}

// report prints the table and the verdicts; ok is whether both targets are
// met. A baseline that used no CPU makes the comparison meaningless and is
// an error.
func report(w io.Writer, agent, base result, measure time.Duration) (ok bool, err error) {
	if base.CPUSeconds <= 0 {
		return false, fmt.Errorf("%s used no CPU in %v; is its event loop running?", base.Name, measure)
	}
	secs := measure.Seconds()
	fmt.Fprintf(w, "| process | CPU s / %.0f s | %% of a core | RSS MiB (end) | peak RSS MiB | context switches |\n", secs)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, r := range []result{agent, base} {
		fmt.Fprintf(w, "| %s | %.2f | %.2f %% | %.1f | %.1f | %d |\n",
			r.Name, r.CPUSeconds, 100*r.CPUSeconds/secs, mib(r.RSSKiB), mib(r.HWMKiB), r.Switches)
	}
	cpu := agent.CPUSeconds / base.CPUSeconds
	rss := float64(agent.RSSKiB) / float64(base.RSSKiB)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- agent CPU = %.1f %% of the Fyne app's (target < %.0f %%): %s\n", 100*cpu, 100*maxCPURatio, verdict(cpu < maxCPURatio))
	fmt.Fprintf(w, "- agent RSS = %.1f %% of the Fyne app's (target < %.0f %%): %s\n", 100*rss, 100*maxRSSRatio, verdict(rss < maxRSSRatio))
	return cpu < maxCPURatio && rss < maxRSSRatio, nil
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}
