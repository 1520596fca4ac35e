// Package clitest runs the mailsync command line in end-to-end tests, the
// way a person does: the built program (or the Windows one under Wine)
// with an environment of its own, the sign-in answered as a browser would,
// and the sandbox's blocklist put in place.
package clitest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/graphtest"
	"mailsync/sync/sandbox"
)

// Result is what one run of mailsync printed and its exit code.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Program is how to start mailsync.
type Program struct {
	// Argv is the program and the arguments that come before mailsync's
	// own: the built binary, or "wine" and the .exe.
	Argv []string
	// Env is the whole environment of every run.
	Env []string
	// Timeout bounds one run; 0 is 2 minutes. Only a hung program meets
	// it.
	Timeout time.Duration
}

// Environ is the environment of this process without the variables keep
// refuses, for a Program's Env.
func Environ(keep func(kv string) bool) []string {
	var env []string
	for _, kv := range os.Environ() {
		if keep(kv) {
			env = append(env, kv)
		}
	}
	return env
}

func (p Program) name() string { return strings.Join(p.Argv, " ") }

func (p Program) command(ctx context.Context, extraEnv []string, args ...string) *exec.Cmd {
	argv := append(slices.Clone(p.Argv[1:]), args...)
	cmd := exec.CommandContext(ctx, p.Argv[0], argv...)
	cmd.Env = append(slices.Clone(p.Env), extraEnv...)
	return cmd
}

func (p Program) context() (context.Context, context.CancelFunc) {
	d := p.Timeout
	if d == 0 {
		d = 2 * time.Minute
	}
	return context.WithTimeout(context.Background(), d)
}

// Run runs mailsync with args, and extraEnv added to Env, to its end.
func (p Program) Run(t testing.TB, extraEnv []string, args ...string) Result {
	t.Helper()
	ctx, cancel := p.context()
	defer cancel()
	cmd := p.command(ctx, extraEnv, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %s: %v", p.name(), strings.Join(args, " "), err)
		}
		r.Code = ee.ExitCode()
	}
	return r
}

// MustRun is Run that fails the test unless mailsync exits 0.
func (p Program) MustRun(t testing.TB, extraEnv []string, args ...string) Result {
	t.Helper()
	r := p.Run(t, extraEnv, args...)
	if r.Code != 0 {
		t.Fatalf("%s %s: exit %d\nstdout: %s\nstderr: %s", p.name(), strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// Want runs mailsync and reports an error unless it exits code with
// stdout and stderr containing the given texts.
func (p Program) Want(t testing.TB, code int, stdout, stderr string, args ...string) Result {
	t.Helper()
	r := p.Run(t, nil, args...)
	if r.Code != code || !strings.Contains(r.Stdout, stdout) || !strings.Contains(r.Stderr, stderr) {
		t.Errorf("mailsync %s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
			strings.Join(args, " "), r.Code, r.Stdout, r.Stderr, code, stdout, stderr)
	}
	return r
}

// Connect runs `mailsync connect --no-browser`, hands the sign-in URL it
// prints to answer, and returns the command's outcome and the URL.
func (p Program) Connect(t testing.TB, answer func(url string) error) (Result, string) {
	t.Helper()
	ctx, cancel := p.context()
	defer cancel()
	cmd := p.command(ctx, nil, "connect", "--no-browser")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s connect: %v", p.name(), err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(stdout)
	url := ""
	for url == "" && sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
			url = l
		}
	}
	if url == "" {
		_ = cmd.Wait()
		t.Fatalf("%s connect printed no sign-in URL\nstdout: %s\nstderr: %s", p.name(), out.String(), errb.String())
	}
	if err := answer(url); err != nil {
		t.Errorf("answering the sign-in page: %v", err)
	}
	rest, _ := io.ReadAll(stdout)
	out.Write(rest)
	r := Result{Stdout: out.String()}
	if err := cmd.Wait(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s connect: %v", p.name(), err)
		}
		r.Code = ee.ExitCode()
	}
	r.Stderr = errb.String()
	return r, url
}

// AutoApprove answers the sign-in as a browser would under the identity
// fake's AutoApprove: a GET that follows the identity platform's
// self-posting form to the loopback callback.
func AutoApprove(u string) error {
	status, _, err := graphtest.Browse(u)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("loopback answered %d %s", status, http.StatusText(status))
	}
	return nil
}

// SetBlocklist sets the blocklist the sandbox's expectations assume, in
// the state of cfg itself: the window edits settings, and there is no
// command for them.
func SetBlocklist(t testing.TB, cfg agent.Config) {
	t.Helper()
	ag, err := agent.Open(cfg, agent.Hooks{}, nil)
	if err != nil {
		t.Fatalf("open the state to set the blocklist: %v", err)
	}
	defer ag.Close()
	if err := ag.SetSettings(context.Background(), agentapi.Settings{Rules: sandbox.Settings()}); err != nil {
		t.Fatalf("set the blocklist: %v", err)
	}
}
