package agentapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
)

// quitAgent is a fake API that can be asked to quit: Quit only records the
// request, as the agent's cancels its context; the test then stops it.
type quitAgent struct {
	*agentapitest.Fake
	asked chan struct{}
}

func (q *quitAgent) Quit(context.Context) error {
	close(q.asked)
	return nil
}

func TestQuitStopsTheAgentAndWaitsForIt(t *testing.T) {
	q := &quitAgent{Fake: newFake(), asked: make(chan struct{})}
	a := startAgentWith(t, q, q.Fake)
	stopped := make(chan struct{})
	go func() {
		<-q.asked
		a.stop()
		close(stopped)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := a.client.Quit(ctx); err != nil {
		t.Fatalf("Quit: %v", err)
	}
	// Quit returns only once the agent stopped serving, which happens
	// after it was asked.
	select {
	case <-q.asked:
	default:
		t.Fatal("Quit returned without asking the agent")
	}
	<-stopped
	if _, err := agentapi.Dial(a.dir); err == nil {
		t.Fatal("the agent still answers after Quit returned")
	}
	if !strings.Contains(a.logs.String(), "asked to quit") {
		t.Errorf("the log does not say the agent was asked to quit:\n%s", a.logs.String())
	}
}

func TestQuitOfAnAgentThatCannotQuit(t *testing.T) {
	a := startAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := a.client.Quit(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot be asked to quit") {
		t.Fatalf("Quit of an API that is no Quitter: %v; want the words that it cannot quit", err)
	}
}
