package agentapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"mailsync/sync/doctor"
	"mailsync/sync/engine"
	"mailsync/sync/words"
)

// Call timeouts. Most calls are answered from the agent's memory; the slow
// ones wait on ClientSuccess or on starting the sign-in.
const (
	callTimeout     = 15 * time.Second
	slowCallTimeout = 60 * time.Second
	// doctorTimeout leaves the agent's own bound on a doctor run
	// (agent.DoctorTimeout) room to answer first.
	doctorTimeout = 150 * time.Second
)

// baseURL is the prefix of every request; the host is a placeholder, as the
// transport always dials the socket.
const baseURL = "http://mailsync-agent/v1/"

// Client talks to the agent over its socket. It implements API; every call
// but Watch has a timeout. Errors carry the agent's words unchanged; when the
// agent cannot be reached they say so in words (and match ErrNoAgent with
// errors.Is). Safe for concurrent use.
type Client struct {
	hc        *http.Client
	done      chan struct{} // closed by Close; ends Watch streams
	closeOnce sync.Once
}

var _ API = (*Client)(nil)

// Dial returns a Client for the agent of dataDir, or ErrNoAgent within about
// a second when no agent listens there.
func Dial(dataDir string) (*Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	c, err := dialAgent(ctx, dataDir)
	cancel()
	if err != nil {
		var refused *refusedEndpointError
		if errors.As(err, &refused) {
			return nil, &transportError{words: refused.Error(), err: err}
		}
		return nil, &transportError{words: ErrNoAgent.Error(), noAgent: true, err: err}
	}
	c.Close()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, dialTimeout)
			defer cancel()
			return dialAgent(ctx, dataDir)
		},
		MaxIdleConns:    4,
		IdleConnTimeout: 30 * time.Second,
	}
	return &Client{hc: &http.Client{Transport: tr}, done: make(chan struct{})}, nil
}

// Close ends the client's Watch streams and idle connections.
func (c *Client) Close() error {
	c.closeOnce.Do(func() { close(c.done) })
	c.hc.CloseIdleConnections()
	return nil
}

// transportError is a failure to talk to the agent, in words a person
// understands, with the cause kept for logs.
type transportError struct {
	words   string
	noAgent bool
	err     error
}

func (e *transportError) Error() string { return e.words }

func (e *transportError) Unwrap() []error {
	if e.noAgent {
		return []error{ErrNoAgent, e.err}
	}
	return []error{e.err}
}

// Status returns the agent's current status.
func (c *Client) Status(ctx context.Context) (engine.Status, error) {
	var st engine.Status
	err := c.call(ctx, callTimeout, http.MethodGet, "status", nil, &st)
	return st, err
}

// Watch streams the agent's status: the current one first, then every
// change (a slow reader gets only the newest). The channel is closed when
// ctx ends, the client is closed or the agent goes away. Only the wait for
// the stream to open is timed.
func (c *Client) Watch(ctx context.Context) (<-chan engine.Status, error) {
	parent := ctx
	ctx, cancel := c.untilClosed(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"watch", nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("agentapi: watch: %w", err)
	}
	// The stream itself has no deadline; only its opening is timed.
	var timedOut atomic.Bool
	timer := time.AfterFunc(callTimeout, func() {
		timedOut.Store(true)
		cancel()
	})
	resp, err := c.hc.Do(req)
	timer.Stop()
	if err != nil {
		cancel()
		if timedOut.Load() {
			err = context.DeadlineExceeded
		}
		return nil, c.wrap(parent, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		cancel()
		return nil, readError(resp)
	}
	ch := make(chan engine.Status, 1)
	go func() {
		defer close(ch)
		defer cancel()
		defer resp.Body.Close()
		dec := json.NewDecoder(resp.Body)
		for {
			var st engine.Status
			if err := dec.Decode(&st); err != nil {
				return
			}
			// Replace what the reader has not taken yet: only the newest
			// status matters.
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- st:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

// untilClosed returns a copy of ctx that also ends when the client is
// closed, for a stream that must not outlive it.
func (c *Client) untilClosed(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// SyncNow asks for a pass now.
func (c *Client) SyncNow(ctx context.Context) error {
	return c.call(ctx, callTimeout, http.MethodPost, "sync", nil, nil)
}

// passTimeout bounds the wait for a pass: a pass pages through a whole
// mailbox window, so it is bounded by the caller's ctx in practice.
const passTimeout = 24 * time.Hour

// Sync runs a pass, or joins the one in flight, and returns its outcome.
func (c *Client) Sync(ctx context.Context) (PassResult, error) {
	var out PassResult
	err := c.call(ctx, passTimeout, http.MethodPost, "pass", nil, &out)
	return out, err
}

// Pause pauses syncing.
func (c *Client) Pause(ctx context.Context) error {
	return c.call(ctx, callTimeout, http.MethodPost, "pause", nil, nil)
}

// Resume resumes syncing.
func (c *Client) Resume(ctx context.Context) error {
	return c.call(ctx, callTimeout, http.MethodPost, "resume", nil, nil)
}

// Connect starts the browser sign-in in the agent and returns its URL.
func (c *Client) Connect(ctx context.Context, openBrowser bool) (string, error) {
	var out connectReply
	err := c.call(ctx, slowCallTimeout, http.MethodPost, "connect", connectRequest{OpenBrowser: openBrowser}, &out)
	return out.URL, err
}

// CancelConnect cancels the sign-in in flight.
func (c *Client) CancelConnect(ctx context.Context) error {
	return c.call(ctx, callTimeout, http.MethodPost, "connect/cancel", nil, nil)
}

// Disconnect forgets the Microsoft account.
func (c *Client) Disconnect(ctx context.Context) error {
	return c.call(ctx, slowCallTimeout, http.MethodPost, "disconnect", nil, nil)
}

// CRMLogin signs in to ClientSuccess through the agent.
func (c *Client) CRMLogin(ctx context.Context, username, password string) error {
	return c.call(ctx, slowCallTimeout, http.MethodPost, "crm/login",
		crmLoginRequest{Username: username, Password: password}, nil)
}

// CRMLogout signs out of ClientSuccess.
func (c *Client) CRMLogout(ctx context.Context) error {
	return c.call(ctx, callTimeout, http.MethodPost, "crm/logout", nil, nil)
}

// Settings returns the agent's settings.
func (c *Client) Settings(ctx context.Context) (Settings, error) {
	var s Settings
	err := c.call(ctx, callTimeout, http.MethodGet, "settings", nil, &s)
	return s, err
}

// SetSettings replaces the agent's settings.
func (c *Client) SetSettings(ctx context.Context, s Settings) error {
	return c.call(ctx, callTimeout, http.MethodPut, "settings", s, nil)
}

// Setup returns the Microsoft app, directory and ClientSuccess address in
// force.
func (c *Client) Setup(ctx context.Context) (Setup, error) {
	var s Setup
	err := c.call(ctx, callTimeout, http.MethodGet, "setup", nil, &s)
	return s, err
}

// SetSetup changes what the person set ("" unsets a key).
func (c *Client) SetSetup(ctx context.Context, values map[string]string) error {
	return c.call(ctx, callTimeout, http.MethodPut, "setup", values, nil)
}

// Decisions returns recent decisions matching query, newest first.
func (c *Client) Decisions(ctx context.Context, query string, limit int) ([]Decision, error) {
	v := url.Values{}
	if query != "" {
		v.Set("q", query)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	path := "decisions"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var ds []Decision
	err := c.call(ctx, callTimeout, http.MethodGet, path, nil, &ds)
	return ds, err
}

// Unsure returns the uploads waiting for the person's decision.
func (c *Client) Unsure(ctx context.Context) ([]engine.UnsureUpload, error) {
	var out []engine.UnsureUpload
	err := c.call(ctx, callTimeout, http.MethodGet, "unsure", nil, &out)
	return out, err
}

// DecideUnsure copies an unsure upload again or leaves it out.
func (c *Client) DecideUnsure(ctx context.Context, id string, copyAgain bool) error {
	return c.call(ctx, callTimeout, http.MethodPost, "unsure/"+url.PathEscape(id), decideUnsureRequest{CopyAgain: copyAgain}, nil)
}

// ShowWindow asks the agent to open or raise the settings window.
func (c *Client) ShowWindow(ctx context.Context) error {
	return c.call(ctx, callTimeout, http.MethodPost, "window", nil, nil)
}

// Doctor runs the read-only checks of the configured services in the agent.
func (c *Client) Doctor(ctx context.Context) (doctor.Report, error) {
	var rep doctor.Report
	err := c.call(ctx, doctorTimeout, http.MethodGet, "doctor", nil, &rep)
	return rep, err
}

// PreviewBackfill asks what a backfill of days would copy. It reads that
// mail, so it waits as long as a pass may.
func (c *Client) PreviewBackfill(ctx context.Context, days int) (engine.Backfill, error) {
	var out engine.Backfill
	err := c.call(ctx, passTimeout, http.MethodPost, "backfill/preview", BackfillRequest{Days: days}, &out)
	return out, err
}

// StartBackfill starts copying the mail of the days before the window.
func (c *Client) StartBackfill(ctx context.Context, days int) error {
	return c.call(ctx, callTimeout, http.MethodPost, "backfill/start", BackfillRequest{Days: days}, nil)
}

// Backfill copies the mail of the days before the window and returns once
// that has ended.
func (c *Client) Backfill(ctx context.Context, days int) (engine.Backfill, error) {
	var out engine.Backfill
	err := c.call(ctx, passTimeout, http.MethodPost, "backfill/run", BackfillRequest{Days: days}, &out)
	return out, err
}

// CancelBackfill stops the copy of older mail in flight.
func (c *Client) CancelBackfill(ctx context.Context) error {
	return c.call(ctx, callTimeout, http.MethodPost, "backfill/cancel", nil, nil)
}

// call makes one request with a timeout, sending in and decoding the reply
// into out when they are not nil.
func (c *Client) call(ctx context.Context, timeout time.Duration, method, path string, in, out any) error {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("agentapi: encode %s request: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(tctx, method, baseURL+path, body)
	if err != nil {
		return fmt.Errorf("agentapi: %s: %w", path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.wrap(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out); err != nil {
		if tctx.Err() != nil {
			return c.wrap(ctx, tctx.Err())
		}
		return &transportError{words: answerUnreadable, err: err}
	}
	return nil
}

// wrap turns a failure to reach the agent into words. The caller's own
// cancellation is returned as it is.
func (c *Client) wrap(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return &transportError{words: noAnswerInTime, err: err}
	}
	var refused *refusedEndpointError
	if errors.As(err, &refused) {
		return &transportError{words: refused.Error(), err: err}
	}
	select {
	case <-c.done:
		return &transportError{words: connectionClosed, err: err}
	default:
	}
	return &transportError{words: ErrNoAgent.Error(), noAgent: true, err: err}
}

// readError returns the agent's error words from a failed reply.
func readError(resp *http.Response) error {
	var e struct {
		errorReply
		// Candidates come with a ClientChoiceError.
		Candidates *[]ClientChoice `json:"candidates"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e); err == nil && e.Error != "" {
		if e.Candidates != nil && resp.StatusCode == http.StatusConflict {
			return &ClientChoiceError{Words: e.Error, Candidates: *e.Candidates}
		}
		return words.New(e.Error)
	}
	return words.New(fmt.Sprintf(answeredStatus, resp.Status))
}
