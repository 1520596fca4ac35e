package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"mailsync/app"
	"mailsync/sync/agent"
)

// TestCommandHelpListsItsFlags checks that `help CMD` and `CMD -h` print the
// same usage, with the command's own flags, and that a wrong flag names the
// command and exits 2.
func TestCommandHelpListsItsFlags(t *testing.T) {
	runOut := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(args, app.Env{Stdout: &out, Stderr: &errb})
		return out.String(), errb.String(), code
	}
	for _, c := range []struct {
		cmd  []string
		flag string
	}{
		{[]string{"sync"}, "-json"},
		{[]string{"status"}, "-json"},
		{[]string{"doctor"}, "-json"},
		{[]string{"connect"}, "-no-browser"},
		{[]string{"demo"}, "-no-window"},
		{[]string{"crm", "login"}, "-username"},
	} {
		name := strings.Join(c.cmd, " ")
		help, _, code := runOut(append([]string{"help"}, c.cmd...)...)
		if code != 0 || !strings.Contains(help, "Flags:") || !strings.Contains(help, c.flag) {
			t.Errorf("help %s: exit %d, printed %q; want its flag %s", name, code, help, c.flag)
		}
		dashH, _, code := runOut(append(c.cmd, "-h")...)
		if code != 0 || dashH != help {
			t.Errorf("%s -h: exit %d, printed %q; want what `help %s` printed, %q", name, code, dashH, name, help)
		}
	}
	_, stderr, code := runOut("status", "--bogus")
	if code != 2 || !strings.Contains(stderr, "mailsync status: ") || !strings.Contains(stderr, "-bogus") {
		t.Errorf("status --bogus: exit %d, stderr %q; want exit 2 naming the command and the flag", code, stderr)
	}
}

// TestVersionPrintsTheBuildsVersion: --version and version print what the
// build was linked with (the Makefile sets agent.Version).
func TestVersionPrintsTheBuildsVersion(t *testing.T) {
	defer func(v string) { agent.Version = v }(agent.Version)
	agent.Version = "1.2.3-4-gabcdef0"
	for _, arg := range []string{"--version", "version"} {
		var out bytes.Buffer
		code := run([]string{arg}, app.Env{Stdout: &out, Stderr: &out})
		if code != 0 || out.String() != "Mail Sync 1.2.3-4-gabcdef0\n" {
			t.Errorf("%s: exit %d, printed %q; want the version", arg, code, out.String())
		}
	}
}

// TestStatusJSONForScripts checks `status --json` before Mail Sync was
// set up and after: the state is a name, the same shape both times, and
// no table or list is null.
func TestStatusJSONForScripts(t *testing.T) {
	c := newCLI(t, "")
	read := func(when string) map[string]any {
		t.Helper()
		r := c.Want(t, 0, "", "", "status", "--json")
		if strings.Contains(r.Stdout, "null") {
			t.Errorf("status --json %s has a null:\n%s", when, r.Stdout)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatalf("status --json %s printed %q: %v", when, r.Stdout, err)
		}
		return rep
	}
	rep := read("before set-up")
	if rep["state"] != "signed-out" || rep["setUp"] != false || rep["actions"] == nil {
		t.Errorf("status --json before set-up: state %v, setUp %v, actions %v; want signed-out, false and the actions",
			rep["state"], rep["setUp"], rep["actions"])
	}
	c.Want(t, 0, "tenant saved.", "", "config", "set", "tenant", "contoso.com")
	rep = read("after set-up")
	counts, _ := rep["lastCounts"].(map[string]any)
	if rep["state"] != "signed-out" || rep["setUp"] != true || counts == nil || counts["skipped"] == nil {
		t.Errorf("status --json after set-up: state %v, setUp %v, lastCounts %v; want signed-out, true and skipped {}",
			rep["state"], rep["setUp"], rep["lastCounts"])
	}
}

// TestGroupHelpListsItsCommands checks that `help crm`, `crm -h` and
// `crm --help` (and the same of config) list the group's commands and
// exit 0, and that the group alone is a wrong command line listing them.
func TestGroupHelpListsItsCommands(t *testing.T) {
	runOut := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(args, app.Env{Stdout: &out, Stderr: &errb})
		return out.String(), errb.String(), code
	}
	for group, subs := range map[string][]string{
		"crm":    {"mailsync crm login --username U", "mailsync crm logout"},
		"config": {"mailsync config get [KEY]", "mailsync config set KEY VALUE", "mailsync config unset KEY"},
	} {
		help, stderr, code := runOut("help", group)
		for _, sub := range subs {
			if code != 0 || stderr != "" || !strings.Contains(help, "\n  "+sub+"\n") {
				t.Errorf("help %s: exit %d, stdout %q, stderr %q; want exit 0 listing %q", group, code, help, stderr, sub)
			}
		}
		for _, h := range []string{"-h", "--help"} {
			if out, _, code := runOut(group, h); code != 0 || out != help {
				t.Errorf("%s %s: exit %d, printed %q; want what `help %s` printed", group, h, code, out, group)
			}
		}
		if out, stderr, code := runOut(group); code != 2 || out != "" || stderr != help {
			t.Errorf("%s alone: exit %d, stdout %q, stderr %q; want exit 2 and the list on stderr", group, code, out, stderr)
		}
		if _, stderr, code := runOut(group, "bogus"); code != 2 || !strings.Contains(stderr, `unknown command "bogus"`) || !strings.Contains(stderr, subs[0]) {
			t.Errorf("%s bogus: exit %d, stderr %q; want exit 2 naming it, and the list", group, code, stderr)
		}
	}
}

// TestCRMLoginWithoutUsernameIsAWrongCommandLine: a missing --username
// exits 2 with the usage, as any wrong command line does, and reads no
// password.
func TestCRMLoginWithoutUsernameIsAWrongCommandLine(t *testing.T) {
	for _, args := range [][]string{{"crm", "login"}, {"crm", "login", "--username", " "}} {
		var out, errb bytes.Buffer
		code := run(args, app.Env{Stdout: &out, Stderr: &errb})
		if code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "usage: mailsync crm login --username U") ||
			strings.Contains(errb.String(), "password") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 with the usage", args, code, out.String(), errb.String())
		}
	}
}

// TestHelpListsQuit: quit is a command, listed in the usage, with help of
// its own.
func TestHelpListsQuit(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"help"}, app.Env{Stdout: &out, Stderr: &out}); code != 0 || !strings.Contains(out.String(), "\n  mailsync quit ") {
		t.Errorf("help: exit %d, printed %q; want quit listed", code, out.String())
	}
	out.Reset()
	if code := run([]string{"help", "quit"}, app.Env{Stdout: &out, Stderr: &out}); code != 0 || !strings.HasPrefix(out.String(), "Usage: mailsync quit\n") {
		t.Errorf("help quit: exit %d, printed %q", code, out.String())
	}
}

// TestNothingToDoSaysSo checks disconnect, crm logout, pause and resume
// when they would change nothing: they say so in the agent's words and
// exit 0, in this process and through the running agent alike, and
// change nothing (a pause with no mailbox is not kept for later).
func TestNothingToDoSaysSo(t *testing.T) {
	c := newCLI(t, "")
	nothing := [][2]string{
		{"disconnect", agent.NothingToDisconnect},
		{"crm logout", agent.NothingToSignOut},
		{"pause", agent.NothingToPause},
		{"resume", agent.NothingToResume},
	}
	for _, n := range nothing {
		if r := c.Run(t, nil, strings.Fields(n[0])...); r.Code != 0 || r.Stdout != n[1]+"\n" {
			t.Errorf("%s on a fresh install: exit %d, stdout %q, stderr %q; want exit 0 and %q", n[0], r.Code, r.Stdout, r.Stderr, n[1])
		}
	}
	if r := c.Want(t, 0, "", "", "status", "--json"); !strings.Contains(r.Stdout, `"resume": false`) || strings.Contains(r.Stdout, `"paused": true`) {
		t.Errorf("a pause with nothing to pause was kept:\n%s", r.Stdout)
	}

	ag := serveAgent(t, c.home)
	for _, n := range nothing {
		if r := c.Run(t, nil, strings.Fields(n[0])...); r.Code != 0 || r.Stdout != n[1]+"\n" {
			t.Errorf("%s through the running agent: exit %d, stdout %q, stderr %q; want exit 0 and %q", n[0], r.Code, r.Stdout, r.Stderr, n[1])
		}
	}
	// Paused (as an earlier version could leave it before connecting):
	// resume has something to do, once.
	if err := ag.Pause(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Want(t, 0, agent.AlreadyPaused+"\n", "", "pause")
	c.Want(t, 0, "Syncing resumed.\n", "", "resume")
	c.Want(t, 0, agent.NothingToResume+"\n", "", "resume")
}

// TestFailingCommandsSayTheSameWithOrWithoutTheAgent: a command that fails
// prints the same words, with the same exit status, whether it opened the
// state itself (no agent runs) or asked the running agent over its socket.
func TestFailingCommandsSayTheSameWithOrWithoutTheAgent(t *testing.T) {
	c := newCLI(t, "")
	commands := [][]string{
		{"sync"},
		{"connect", "--no-browser"},
		{"config", "set", "client-id", "not-a-guid"},
		{"config", "set", "colour", "blue"},
		// A word a person typed that an internal error might also hold.
		{"config", "set", "tenant", "secret"},
	}
	alone := map[string]result{}
	for _, args := range commands {
		r := c.Run(t, nil, args...)
		if r.Code == 0 || !strings.HasPrefix(r.Stderr, "mailsync: ") {
			t.Fatalf("mailsync %s without an agent: exit %d, stderr %q; want it to fail in words", strings.Join(args, " "), r.Code, r.Stderr)
		}
		alone[strings.Join(args, " ")] = r
	}
	if r := alone["config set tenant secret"]; !strings.Contains(r.Stderr, `"secret" is not a directory`) {
		t.Errorf("config set tenant secret: stderr %q; want it to say why the directory is refused", r.Stderr)
	}
	serveAgent(t, c.home)
	for _, args := range commands {
		name := strings.Join(args, " ")
		r := c.Run(t, nil, args...)
		if r.Code != alone[name].Code || r.Stderr != alone[name].Stderr {
			t.Errorf("mailsync %s: through the agent exit %d, %q; without it exit %d, %q; want the same",
				name, r.Code, r.Stderr, alone[name].Code, alone[name].Stderr)
		}
	}
}
