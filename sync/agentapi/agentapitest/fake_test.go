package agentapitest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"mailsync/sync/agentapi"
	"mailsync/sync/engine"
	"mailsync/sync/setup"
)

func TestWatchSendsCurrentThenChangesAndClosesWhenAgentGoes(t *testing.T) {
	f := New(engine.Status{Account: &engine.Account{Email: "ann@contoso.com"}, CRMUser: "ann"})
	ch, err := f.Watch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st := <-ch; st.CRMUser != "ann" {
		t.Fatalf("first status %+v, want the current one", st)
	}
	f.Update(func(s *engine.Status) { s.Running = true })
	if st := <-ch; st.State != engine.Syncing {
		t.Fatalf("status after Update: state %v, want it derived as Syncing", st.State)
	}
	f.GoAway()
	if _, ok := <-ch; ok {
		t.Fatal("the watch stayed open after the agent went away")
	}
	if _, err := f.Status(context.Background()); !errors.Is(err, agentapi.ErrNoAgent) {
		t.Fatalf("Status of an agent gone = %v, want ErrNoAgent", err)
	}
	f.ComeBack(engine.Status{CRMUser: "bob"})
	if st, err := f.Status(context.Background()); err != nil || st.CRMUser != "bob" {
		t.Fatalf("Status after ComeBack = %+v, %v", st, err)
	}
}

func TestWatchEndsWithCallersContext(t *testing.T) {
	f := New(engine.Status{})
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := f.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	cancel()
	for range ch {
	}
}

func TestErrorsAndHolds(t *testing.T) {
	f := New(engine.Status{})
	ctx := context.Background()
	refused := errors.New("ClientSuccess refused the password")
	release := make(chan struct{})
	f.Do(func(s *State) {
		s.Errs["CRMLogin"] = refused
		s.Hold["Pause"] = release
	})
	if err := f.CRMLogin(ctx, "ann", "pw"); err != refused {
		t.Fatalf("CRMLogin = %v, want the error set for it", err)
	}
	if err := f.CRMLogout(ctx); err != nil {
		t.Fatalf("CRMLogout = %v; only CRMLogin was to fail", err)
	}
	paused := make(chan error, 1)
	go func() { paused <- f.Pause(ctx) }()
	<-f.Answered("CRMLogout")
	select {
	case err := <-paused:
		t.Fatalf("Pause answered (%v) while held", err)
	default:
	}
	close(release)
	if err := <-paused; err != nil {
		t.Fatal(err)
	}
	if got := f.Snapshot(); !slices.Equal(got.Calls, []string{"CRMLogin", "CRMLogout", "Pause"}) || got.Logins[0] != [2]string{"ann", "pw"} {
		t.Fatalf("calls %v, logins %v", got.Calls, got.Logins)
	}
	held, cancel := context.WithCancel(ctx)
	f.Do(func(s *State) { s.Hold["Resume"] = make(chan struct{}) })
	cancel()
	if err := f.Resume(held); !errors.Is(err, context.Canceled) {
		t.Fatalf("a held call whose context ended = %v", err)
	}
}

func TestDecisionsSearchAndLimit(t *testing.T) {
	f := NewWith(State{Decisions: []agentapi.Decision{
		{Subject: "Renewal", Counterpart: "Bob <bob@acme.com>", Clients: []string{"Acme"}},
		{Subject: "Lunch", Counterpart: "Eve <eve@other.com>", Reason: "no contact"},
		{Subject: "Offer", Counterpart: "Deals <d@acme.com>", Reason: "blocked address"},
	}})
	ctx := context.Background()
	for _, c := range []struct {
		q     string
		limit int
		want  []string
	}{
		{"ACME", 0, []string{"Renewal", "Offer"}},
		{"acme", 1, []string{"Renewal"}},
		{"no contact", 0, []string{"Lunch"}},
		{"", 0, []string{"Renewal", "Lunch", "Offer"}},
		{"nobody", 0, nil},
	} {
		ds, err := f.Decisions(ctx, c.q, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.Subject)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Decisions(%q, %d) = %q, want %q", c.q, c.limit, got, c.want)
		}
	}
}

func TestSetSetupChecksLikeTheAgent(t *testing.T) {
	f := NewWith(State{
		Setup: agentapi.Setup{Fields: []setup.Field{
			{Key: setup.KeyClientID, Value: "locked", Source: setup.FromPolicy},
			{Key: setup.KeyTenant, Value: "a.example", Source: setup.FromDefault},
		}},
		CheckSetup: func(locked setup.Values, values map[string]string) (map[string]string, error) {
			if _, ok := values[setup.KeyClientID]; ok && locked.Get(setup.KeyClientID) != "" {
				return nil, errors.New("client-id is set by your organisation")
			}
			return values, nil
		},
	})
	ctx := context.Background()
	if err := f.SetSetup(ctx, map[string]string{setup.KeyClientID: "x"}); err == nil {
		t.Fatal("a locked field was changed")
	}
	if err := f.SetSetup(ctx, map[string]string{setup.KeyTenant: "b.example"}); err != nil {
		t.Fatal(err)
	}
	s := f.Snapshot()
	if len(s.SetupSaved) != 1 || s.Setup.Field(setup.KeyTenant).Value != "b.example" || s.Setup.Field(setup.KeyTenant).Source != setup.FromPerson {
		t.Fatalf("after SetSetup: saved %v, tenant %+v", s.SetupSaved, s.Setup.Field(setup.KeyTenant))
	}
}
