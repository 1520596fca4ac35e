package agentapi_test

import (
	"context"
	"testing"
	"time"

	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
)

// windowAgent is a fake API that also opens a window.
type windowAgent struct {
	*agentapitest.Fake
	agentapi.WindowHub
}

func TestWindowRequestsReachTheWindowAndEndWithTheAgent(t *testing.T) {
	host := &windowAgent{Fake: newFake()}
	a := startAgentWith(t, host, host.Fake)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := a.client.WindowRequests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The stream is open once the agent counts a follower.
	deadline := time.Now().Add(60 * time.Second)
	for host.Send(agentapi.WindowRaise) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the window never followed the agent's requests")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := <-ch; r != agentapi.WindowRaise {
		t.Fatalf("first request %q, want raise", r)
	}
	host.Send(agentapi.WindowClose)
	if r := <-ch; r != agentapi.WindowClose {
		t.Fatalf("second request %q, want close", r)
	}
	// Quitting the agent ends the stream, which the window takes as close.
	a.stop()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("a request arrived after the agent stopped")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the stream did not end with the agent")
	}
}

func TestWindowRequestsOfAnAgentWithoutWindow(t *testing.T) {
	a := startAgent(t)
	if _, err := a.client.WindowRequests(context.Background()); err == nil {
		t.Fatal("an agent that opens no window offered window requests")
	}
}
