package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/setup"
)

const testAppID = "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21"

// cli runs the built mailsync with a data directory and policy of its own
// and nothing else of the MAILSYNC_* environment.
type cli struct {
	bin  string
	home string
	env  []string
}

func newCLI(t *testing.T, policyJSON string) *cli {
	t.Helper()
	c := &cli{bin: binary, home: filepath.Join(t.TempDir(), "data")}
	pol := filepath.Join(t.TempDir(), "policy.json")
	if policyJSON != "" {
		if err := os.WriteFile(pol, []byte(policyJSON), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAILSYNC_") && !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANGUAGE=") {
			c.env = append(c.env, kv)
		}
	}
	c.env = append(c.env, "MAILSYNC_HOME="+c.home, "MAILSYNC_POLICY="+pol, "MAILSYNC_BROWSER=none", "LANG=en_US.UTF-8")
	return c
}

func (c *cli) run(t *testing.T, extraEnv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = append(append([]string{}, c.env...), extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("mailsync %s: %v", strings.Join(args, " "), err)
	}
	return r
}

func (c *cli) want(t *testing.T, code int, stdout, stderr string, args ...string) result {
	t.Helper()
	r := c.run(t, nil, args...)
	if r.code != code || !strings.Contains(r.stdout, stdout) || !strings.Contains(r.stderr, stderr) {
		t.Errorf("mailsync %s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
			strings.Join(args, " "), r.code, r.stdout, r.stderr, code, stdout, stderr)
	}
	return r
}

// TestConfigRoundTripAndRefusals checks `mailsync config` without a
// running agent: what is set is read back, in its usual form; a wrong
// value, a key the policy sets and an unknown key exit non-zero naming the
// key, and change nothing.
func TestConfigRoundTripAndRefusals(t *testing.T) {
	c := newCLI(t, `{"tenant": "corp.example", "crmUrl": "http://cs.corp.example"}`)
	r := c.want(t, 0, "client-id  (none)  (not set)", "", "config", "get")
	for _, line := range []string{"tenant     corp.example  (set by your organization)", "crm-url    https://api.clientsuccess.com  (default)",
		"Policy problem: The policy's crmUrl is ignored"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("config get does not say %q:\n%s", line, r.stdout)
		}
	}
	c.want(t, 1, "", "client-id: The application (client) ID is a GUID", "config", "set", "client-id", "not-a-guid")
	c.want(t, 1, "", "tenant is set by your organization's policy", "config", "set", "tenant", "other.example")
	c.want(t, 1, "", "crm-url: The ClientSuccess address must start with https://", "config", "set", "crm-url", "http://cs.example.com")
	c.want(t, 1, "", `no setting "secret"`, "config", "set", "secret", "x")
	c.want(t, 2, "", "usage: mailsync config set KEY VALUE", "config", "set", "client-id")
	c.want(t, 0, "\n", "", "config", "get", "client-id")
	if r := c.run(t, nil, "config", "get", "client-id"); strings.TrimSpace(r.stdout) != "" {
		t.Fatalf("refused values were saved: client-id is %q", r.stdout)
	}

	c.want(t, 0, "client-id saved.", "", "config", "set", "client-id", "{"+strings.ToUpper(testAppID)+"}")
	c.want(t, 0, "crm-url saved.", "", "config", "set", "crm-url", "https://cs.example.com/v1/")
	if r := c.run(t, nil, "config", "get", "client-id"); r.stdout != testAppID+"\n" {
		t.Errorf("config get client-id = %q, want %q", r.stdout, testAppID)
	}
	c.want(t, 0, "crm-url    https://cs.example.com  (set on this computer)", "", "config", "get")
	r = c.run(t, []string{"MAILSYNC_CLIENT_ID=22222222-2222-2222-2222-222222222222"}, "config", "get", "client-id")
	if r.stdout != "22222222-2222-2222-2222-222222222222\n" {
		t.Errorf("MAILSYNC_CLIENT_ID does not override what was set: %q", r.stdout)
	}
	c.want(t, 0, "crm-url unset.\ncrm-url is now https://api.clientsuccess.com (default).", "", "config", "unset", "crm-url")
	c.want(t, 0, "Policy problem: The policy's crmUrl is ignored", "", "status")
}

// TestConfigThroughTheRunningAgent checks that `config set` goes to the
// agent that runs (which holds the state file) and that its refusals come
// back in its words.
func TestConfigThroughTheRunningAgent(t *testing.T) {
	c := newCLI(t, "")
	if err := storage.EnsureDir(c.home); err != nil {
		t.Fatal(err)
	}
	ag := serveAgent(t, c.home)
	ctx := context.Background()

	c.want(t, 0, "tenant saved.", "", "config", "set", "tenant", "Contoso.com")
	s, err := ag.Setup(ctx)
	if err != nil || s.Field(setup.KeyTenant).Value != "contoso.com" || s.Field(setup.KeyTenant).Source != setup.FromPerson {
		t.Errorf("the running agent has tenant %+v, %v; want contoso.com set by the person", s.Field(setup.KeyTenant), err)
	}
	c.want(t, 1, "", "tenant: ", "config", "set", "tenant", "not a domain")
	c.want(t, 0, "tenant     contoso.com  (set on this computer)", "", "config", "get")
}

// TestVersionAndBuildClientID checks `--version` and `version`, and that a
// build's version and app ID set at link time are what Mail Sync reports.
func TestVersionAndBuildClientID(t *testing.T) {
	c := newCLI(t, "")
	c.want(t, 0, "Mail Sync dev\n", "", "--version")
	c.want(t, 0, "Mail Sync dev\n", "", "version")

	bin := filepath.Join(t.TempDir(), "mailsync")
	ld := "-X mailsync/sync/agent.Version=1.2.3 -X mailsync/sync/agent.BuildClientID=" + testAppID
	if out, err := exec.Command("go", "build", "-ldflags", ld, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build with -ldflags: %v\n%s", err, out)
	}
	c.bin = bin
	c.want(t, 0, "Mail Sync 1.2.3\n", "", "--version")
	c.want(t, 0, "client-id  "+testAppID+"  (built into this copy of Mail Sync)", "", "config", "get")
	c.want(t, 0, "client-id saved.", "", "config", "set", "client-id", "33333333-3333-3333-3333-333333333333")
	c.want(t, 0, "client-id unset.\nclient-id is now "+testAppID+" (built into this copy of Mail Sync).", "", "config", "unset", "client-id")
}

// TestNoFyneLocaleNoise checks that no command prints Fyne's complaint
// about the C locale, whichever variable names it.
func TestNoFyneLocaleNoise(t *testing.T) {
	c := newCLI(t, "")
	for _, env := range [][]string{{"LANG=C"}, {"LANG=C.UTF-8"}, {"LC_ALL=C.UTF-8"}, {"LANG=en_US.UTF-8", "LC_MESSAGES=POSIX.UTF-8"}} {
		for _, args := range [][]string{{"version"}, {"status"}, {"config", "get"}, {"help"}} {
			r := c.run(t, env, args...)
			if r.code != 0 || r.stderr != "" {
				t.Errorf("%v mailsync %s: exit %d, stderr %q; want nothing on stderr", env, strings.Join(args, " "), r.code, r.stderr)
			}
		}
	}
}

// serveAgent opens an agent on home and serves its local API until the
// test ends, as a running Mail Sync would.
func serveAgent(t *testing.T, home string) *agent.Agent {
	t.Helper()
	ag, err := agent.Open(agent.Config{DataDir: home}, agent.Hooks{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ag.Close() })
	l, err := agentapi.Listen(home)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- agentapi.Serve(ctx, l, ag, nil) }()
	t.Cleanup(func() { cancel(); <-served })
	return ag
}
