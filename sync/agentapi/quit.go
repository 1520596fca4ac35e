package agentapi

import (
	"context"
	"fmt"
	"net/http"
)

// Quitter is implemented by an API whose process ends when asked: the
// resident agent, which the uninstaller and `mailsync quit` stop. Serve
// offers it as POST /v1/quit.
type Quitter interface {
	// Quit starts the agent's shutdown and returns at once; the agent
	// stops serving the local API as it goes.
	Quit(ctx context.Context) error
}

// quit answers POST /v1/quit.
func (h *handler) quit(w http.ResponseWriter, r *http.Request) {
	q, ok := h.api.(Quitter)
	if !ok {
		writeError(w, http.StatusNotFound, cannotQuit)
		return
	}
	h.log.Info("asked to quit over the local API")
	h.command(q.Quit)(w, r)
}

// Quit asks the agent to end and waits until it has stopped serving the
// local API (its Watch stream ends), or ctx ends.
func (c *Client) Quit(ctx context.Context) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Follow the agent first: the stream's end is the sign it has stopped.
	st, err := c.Watch(wctx)
	if err != nil {
		return err
	}
	if err := c.call(ctx, callTimeout, http.MethodPost, "quit", nil, nil); err != nil {
		return err
	}
	for {
		select {
		case _, ok := <-st:
			if !ok {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("agentapi: wait for the agent to quit: %w", ctx.Err())
		}
	}
}
