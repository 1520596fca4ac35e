package agentapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"mailsync/sync/agentapi"
	"mailsync/sync/agentapi/agentapitest"
)

// wordingAgent puts its errors into words of its own, as the agent does.
type wordingAgent struct{ *agentapitest.Fake }

func (wordingAgent) Words(err error) string {
	if strings.HasPrefix(err.Error(), "storage:") {
		return "Mail Sync could not save its state."
	}
	return err.Error()
}

// TestInProcessSaysWhatTheSocketSays: a failing call gives the same words
// through the socket and in the same process, and in the process the
// error still wraps its cause.
func TestInProcessSaysWhatTheSocketSays(t *testing.T) {
	raw := errors.New("storage: write meta: disk full")
	fake := newFake()
	fake.Do(func(s *agentapitest.State) { s.Errs["Pause"] = raw })
	api := wordingAgent{fake}
	a := startAgentWith(t, api, fake)
	ctx := context.Background()

	viaSocket := a.client.Pause(ctx)
	inProcess := agentapi.InProcess(api).Pause(ctx)
	if viaSocket == nil || inProcess == nil {
		t.Fatalf("Pause: socket %v, in process %v; want both to fail", viaSocket, inProcess)
	}
	if viaSocket.Error() != "Mail Sync could not save its state." || inProcess.Error() != viaSocket.Error() {
		t.Fatalf("in process %q, through the socket %q; want the agent's words both ways", inProcess, viaSocket)
	}
	if !errors.Is(inProcess, raw) {
		t.Fatal("in process, the error lost its cause")
	}
	if err := agentapi.InProcess(api).Resume(ctx); err != nil {
		t.Fatalf("a call that succeeds fails in process: %v", err)
	}
}
