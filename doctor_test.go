package main

import (
	"net"
	"strings"
	"testing"

	"mailsync/app/clitest"
	"mailsync/sync/doctor"
	"mailsync/sync/sandbox"
)

// doctorLines maps each check's name to its printed line.
func doctorLines(t *testing.T, out string) map[string]string {
	t.Helper()
	lines := map[string]string{}
	for l := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		_, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimLeft(rest, " ")
		for _, c := range doctor.Checks {
			if strings.HasPrefix(rest, c) {
				lines[c] = l
			}
		}
	}
	if len(lines) != len(doctor.Checks) {
		t.Fatalf("mailsync doctor printed %d check lines, want %d:\n%s", len(lines), len(doctor.Checks), out)
	}
	return lines
}

// wantOnlyFailed checks that the line of check says FAILED and every other
// line ok, and that the exit status says so.
func wantOnlyFailed(t *testing.T, r result, check string) string {
	t.Helper()
	if r.Code != 1 {
		t.Errorf("exit %d, want 1 with a failed check\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	lines := doctorLines(t, r.Stdout)
	for c, l := range lines {
		want := "ok "
		if c == check {
			want = "FAILED "
		}
		if !strings.HasPrefix(l, want) {
			t.Errorf("line %q, want it to start %q", l, want)
		}
	}
	return lines[check]
}

func TestDoctorCommand(t *testing.T) {
	needRealKeyring(t)
	e := newE2E(t)
	e.crmLogin(t)
	e.svc.Identity.AutoApprove(true)
	if r := e.connect(t, clitest.AutoApprove); r.Code != 0 {
		t.Fatalf("connect: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}

	r := e.MustRun(t, nil, "doctor")
	t.Logf("mailsync doctor against the sandbox:\n%s", r.Stdout)
	for _, l := range doctorLines(t, r.Stdout) {
		if !strings.HasPrefix(l, "ok ") {
			t.Errorf("against the sandbox: %q", l)
		}
	}

	e.svc.CRM.SetV2Unavailable(true)
	r = e.Run(t, nil, "doctor")
	t.Logf("with the v2 search answering 404:\n%s%s", r.Stdout, r.Stderr)
	wantOnlyFailed(t, r, doctor.CheckContactSearch)
	e.svc.CRM.SetV2Unavailable(false)

	e.svc.CRM.SetLookupAnswersArray(true)
	if l := wantOnlyFailed(t, e.Run(t, nil, "doctor"), doctor.CheckContactLookup); !strings.Contains(l, "array") {
		t.Errorf("the look-up line %q does not say an array came back", l)
	}
	e.svc.CRM.SetLookupAnswersArray(false)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	r = e.Run(t, []string{"MAILSYNC_CRM_URL=http://" + closed + "/v1"}, "doctor")
	lines := doctorLines(t, r.Stdout)
	if l := lines[doctor.CheckCRMSignIn]; !strings.HasPrefix(l, "FAILED ") || !strings.Contains(l, "unreachable: nothing answered at "+closed) {
		t.Errorf("with ClientSuccess on a closed port: %q", l)
	}
	if r.Code != 1 {
		t.Errorf("exit %d with ClientSuccess unreachable, want 1", r.Code)
	}
	for _, s := range []string{sandbox.CRMPassword, e.svc.World.Me.Mail} {
		if strings.Contains(r.Stdout+r.Stderr, s) {
			t.Errorf("mailsync doctor printed a value of the account (%q)", s)
		}
	}
	if n := len(e.svc.CRM.AllInteractions()); n != 0 {
		t.Errorf("mailsync doctor left %d interactions in ClientSuccess", n)
	}
}
