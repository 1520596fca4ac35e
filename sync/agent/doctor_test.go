package agent_test

import (
	"context"
	"os"
	"testing"

	"mailsync/sync/agent"
	"mailsync/sync/agentapi"
	"mailsync/sync/doctor"
	"mailsync/sync/sandbox"
)

// serve answers the fixture's agent on a local API socket and returns a
// client of it, as the settings window and the command line use.
func (f *fixture) serve(t *testing.T) *agentapi.Client {
	t.Helper()
	// Socket paths are short-limited; t.TempDir can be too long.
	dir, err := os.MkdirTemp("", "msd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := agentapi.Listen(dir)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agentapi.Serve(ctx, l, f.ag, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := agentapi.Dial(dir)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDoctorThroughTheLocalAPI(t *testing.T) {
	f := newFixture(t)
	api := f.serve(t)
	ctx := ctxFor(t)

	// Before anything is set up, both sign-ins fail with the words of the
	// missing step and nothing else runs.
	rep, err := api.Doctor(ctx)
	if err != nil {
		t.Fatalf("Doctor: %v", err)
	}
	for _, r := range rep.Results {
		want := doctor.Skipped
		if r.Check == doctor.CheckMicrosoftSignIn || r.Check == doctor.CheckCRMSignIn {
			want = doctor.Failed
		}
		if r.Outcome != want {
			t.Errorf("not set up: %s", r.Line())
		}
	}

	f.connect(t)
	if err := f.ag.CRMLogin(ctx, sandbox.CRMUser, sandbox.CRMPassword); err != nil {
		t.Fatalf("CRMLogin: %v", err)
	}
	before := f.svc.CRM.Stats().ByRoute["POST /clients/{id}/interactions"]
	rep, err = api.Doctor(ctx)
	if err != nil {
		t.Fatalf("Doctor: %v", err)
	}
	if len(rep.Results) != len(doctor.Checks) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(doctor.Checks))
	}
	for _, r := range rep.Results {
		if r.Outcome != doctor.Passed {
			t.Errorf("set up: %s", r.Line())
		}
	}
	if after := f.svc.CRM.Stats().ByRoute["POST /clients/{id}/interactions"]; after != before {
		t.Errorf("the checks created %d interactions", after-before)
	}
	if st := f.ag.Board().Get(); st.LastError != "" {
		t.Errorf("the checks left an error on the status: %q", st.LastError)
	}
}

// Without an app registration, Check connection names it as the first
// thing to do, and counts the checks that could not run apart.
func TestDoctorNamesMissingAppRegistration(t *testing.T) {
	f := newFixture(t)
	f.ag.Close()
	f.cfg.ClientID = ""
	f.open(t)
	rep, err := f.ag.Doctor(ctxFor(t))
	if err != nil {
		t.Fatalf("Doctor: %v", err)
	}
	first, ok := rep.FirstFailure()
	if !ok || first.Check != doctor.CheckMicrosoftSignIn || first.Detail != agent.ErrNoClientID.Error() {
		t.Fatalf("first failure %+v, want the Microsoft sign-in naming the missing app registration", first)
	}
	want := "2 checks failed, and 6 more could not run until they pass. Start with " + doctor.CheckMicrosoftSignIn + "."
	if got := agent.CheckSummary(rep); got != want {
		t.Errorf("summary %q\nwant    %q", got, want)
	}
}

func TestCheckSummary(t *testing.T) {
	res := func(o doctor.Outcome, detail string) doctor.Result {
		return doctor.Result{Check: doctor.CheckMe, Outcome: o, Detail: detail}
	}
	for _, c := range []struct {
		rs   []doctor.Result
		want string
	}{
		{[]doctor.Result{res(doctor.Passed, "")}, "Every check passed."},
		{[]doctor.Result{res(doctor.Passed, ""), res(doctor.Failed, "Graph answered 500.")}, "1 check failed. Start with " + doctor.CheckMe + "."},
		{[]doctor.Result{res(doctor.Failed, "a"), res(doctor.Skipped, "b"), res(doctor.Failed, "c")}, "2 checks failed, and 1 more could not run until they pass. Start with " + doctor.CheckMe + "."},
		{[]doctor.Result{res(doctor.Skipped, "b"), res(doctor.Skipped, "b")}, "2 checks could not run."},
	} {
		if got := agent.CheckSummary(doctor.Report{Results: c.rs}); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}
