package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mailsync/app/clitest"
	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/setup"
)

const testAppID = "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21"

// cli runs the built mailsync with a data directory and policy of its own
// and nothing else of the MAILSYNC_* environment.
type cli struct {
	clitest.Program
	home string
}

func newCLI(t *testing.T, policyJSON string) *cli {
	t.Helper()
	c := &cli{Program: clitest.Program{Argv: []string{binary}}, home: filepath.Join(t.TempDir(), "data")}
	pol := filepath.Join(t.TempDir(), "policy.json")
	if policyJSON != "" {
		if err := os.WriteFile(pol, []byte(policyJSON), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.Env = clitest.Environ(func(kv string) bool {
		return !strings.HasPrefix(kv, "MAILSYNC_") && !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANGUAGE=")
	})
	c.Env = append(c.Env, "MAILSYNC_HOME="+c.home, "MAILSYNC_POLICY="+pol, "MAILSYNC_BROWSER=none", "LANG=en_US.UTF-8")
	return c
}

// TestConfigRoundTripAndRefusals checks `mailsync config` without a
// running agent: what is set is read back, in its usual form; a wrong
// value, a key the policy sets and an unknown key exit non-zero naming the
// key, and change nothing.
func TestConfigRoundTripAndRefusals(t *testing.T) {
	c := newCLI(t, `{"tenant": "corp.example", "crmUrl": "http://cs.corp.example"}`)
	r := c.Want(t, 0, "client-id  (none)  (not set)", "", "config", "get")
	for _, line := range []string{"tenant     corp.example  (set by your organization)", "crm-url    https://api.clientsuccess.com  (default)",
		"Policy problem: The policy's crmUrl is ignored"} {
		if !strings.Contains(r.Stdout, line) {
			t.Errorf("config get does not say %q:\n%s", line, r.Stdout)
		}
	}
	c.Want(t, 1, "", "client-id: The application (client) ID is a GUID", "config", "set", "client-id", "not-a-guid")
	c.Want(t, 1, "", "tenant is set by your organization's policy", "config", "set", "tenant", "other.example")
	c.Want(t, 1, "", "crm-url: The ClientSuccess address must start with https://", "config", "set", "crm-url", "http://cs.example.com")
	c.Want(t, 1, "", `no setting "secret"`, "config", "set", "secret", "x")
	c.Want(t, 2, "", "usage: mailsync config set KEY VALUE", "config", "set", "client-id")
	c.Want(t, 0, "\n", "", "config", "get", "client-id")
	if r := c.Run(t, nil, "config", "get", "client-id"); strings.TrimSpace(r.Stdout) != "" {
		t.Fatalf("refused values were saved: client-id is %q", r.Stdout)
	}

	c.Want(t, 0, "client-id saved.", "", "config", "set", "client-id", "{"+strings.ToUpper(testAppID)+"}")
	c.Want(t, 0, "crm-url saved.", "", "config", "set", "crm-url", "https://cs.example.com/v1/")
	if r := c.Run(t, nil, "config", "get", "client-id"); r.Stdout != testAppID+"\n" {
		t.Errorf("config get client-id = %q, want %q", r.Stdout, testAppID)
	}
	c.Want(t, 0, "crm-url    https://cs.example.com  (set on this computer)", "", "config", "get")
	r = c.Run(t, []string{"MAILSYNC_CLIENT_ID=22222222-2222-2222-2222-222222222222"}, "config", "get", "client-id")
	if r.Stdout != "22222222-2222-2222-2222-222222222222\n" {
		t.Errorf("MAILSYNC_CLIENT_ID does not override what was set: %q", r.Stdout)
	}
	c.Want(t, 0, "crm-url unset.\ncrm-url is now https://api.clientsuccess.com (default).", "", "config", "unset", "crm-url")
	c.Want(t, 0, "Policy problem: The policy's crmUrl is ignored", "", "status")
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

	c.Want(t, 0, "tenant saved.", "", "config", "set", "tenant", "Contoso.com")
	s, err := ag.Setup(ctx)
	if err != nil || s.Field(setup.KeyTenant).Value != "contoso.com" || s.Field(setup.KeyTenant).Source != setup.FromPerson {
		t.Errorf("the running agent has tenant %+v, %v; want contoso.com set by the person", s.Field(setup.KeyTenant), err)
	}
	c.Want(t, 1, "", "tenant: ", "config", "set", "tenant", "not a domain")
	c.Want(t, 0, "tenant     contoso.com  (set on this computer)", "", "config", "get")
}

// TestVersionAndBuildClientID checks `--version` and `version`, and that a
// build's version and app ID set at link time are what Mail Sync reports.
func TestVersionAndBuildClientID(t *testing.T) {
	c := newCLI(t, "")
	c.Want(t, 0, "Mail Sync dev\n", "", "--version")
	c.Want(t, 0, "Mail Sync dev\n", "", "version")

	bin := filepath.Join(t.TempDir(), "mailsync")
	ld := "-X mailsync/sync/agent.Version=1.2.3 -X mailsync/sync/agent.BuildClientID=" + testAppID
	if out, err := exec.Command("go", "build", "-ldflags", ld, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build with -ldflags: %v\n%s", err, out)
	}
	c.Argv = []string{bin}
	c.Want(t, 0, "Mail Sync 1.2.3\n", "", "--version")
	c.Want(t, 0, "client-id  "+testAppID+"  (built into this copy of Mail Sync)", "", "config", "get")
	c.Want(t, 0, "client-id saved.", "", "config", "set", "client-id", "33333333-3333-3333-3333-333333333333")
	c.Want(t, 0, "client-id unset.\nclient-id is now "+testAppID+" (built into this copy of Mail Sync).", "", "config", "unset", "client-id")
}

// TestNoFyneLocaleNoise checks that no command prints Fyne's complaint
// about the C locale, whichever variable names it.
func TestNoFyneLocaleNoise(t *testing.T) {
	c := newCLI(t, "")
	for _, env := range [][]string{{"LANG=C"}, {"LANG=C.UTF-8"}, {"LC_ALL=C.UTF-8"}, {"LANG=en_US.UTF-8", "LC_MESSAGES=POSIX.UTF-8"}} {
		for _, args := range [][]string{{"version"}, {"status"}, {"config", "get"}, {"help"}} {
			r := c.Run(t, env, args...)
			if r.Code != 0 || r.Stderr != "" {
				t.Errorf("%v mailsync %s: exit %d, stderr %q; want nothing on stderr", env, strings.Join(args, " "), r.Code, r.Stderr)
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
