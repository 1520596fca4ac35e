package agentapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
)

// WindowRequest is what the agent asks of the settings window process it
// started. They travel over the local API rather than as signals, which
// Windows does not have.
type WindowRequest string

const (
	// WindowRaise: come to the front (a second "Settings…").
	WindowRaise WindowRequest = "raise"
	// WindowClose: the agent is quitting; close the window.
	WindowClose WindowRequest = "close"
)

// WindowHost is implemented by an API whose agent opens the settings
// window. Serve offers its requests to the window process as
// GET /v1/window/requests (NDJSON, one request per line).
type WindowHost interface {
	// WindowRequests streams the agent's requests to its window until ctx
	// ends or the agent stops (the channel is then closed).
	WindowRequests(ctx context.Context) (<-chan WindowRequest, error)
}

// WindowHub is a WindowHost: Send reaches every window process that
// follows it. The zero value is ready; it is safe for concurrent use.
type WindowHub struct {
	mu   sync.Mutex
	subs map[chan WindowRequest]struct{}
}

// WindowRequests subscribes until ctx ends.
func (h *WindowHub) WindowRequests(ctx context.Context) (<-chan WindowRequest, error) {
	ch := make(chan WindowRequest, 4)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan WindowRequest]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
		close(ch)
	}()
	return ch, nil
}

// Send hands r to every follower without waiting; a follower whose buffer
// is full misses it (a window that is that far behind is being raised or
// closed already). It reports how many followers got it.
func (h *WindowHub) Send(r WindowRequest) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for ch := range h.subs {
		select {
		case ch <- r:
			n++
		default:
		}
	}
	return n
}

// windowRequests streams the API's window requests as NDJSON.
func (h *handler) windowRequests(w http.ResponseWriter, r *http.Request) {
	host, ok := h.api.(WindowHost)
	if !ok {
		writeError(w, http.StatusNotFound, noWindow)
		return
	}
	ch, err := host.WindowRequests(r.Context())
	if err != nil {
		h.writeAPIError(w, err)
		return
	}
	stream(w, r, ch)
}

// WindowRequests follows the agent's requests to its window. The channel
// is closed when ctx ends, the client is closed or the agent goes away, which
// a window takes as "close" too.
func (c *Client) WindowRequests(ctx context.Context) (<-chan WindowRequest, error) {
	ctx, cancel := c.untilClosed(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"window/requests", nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("agentapi: window requests: %w", err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel()
		return nil, c.wrap(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		cancel()
		return nil, readError(resp)
	}
	out := make(chan WindowRequest)
	go func() {
		defer close(out)
		defer cancel()
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var r WindowRequest
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				continue
			}
			select {
			case out <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
