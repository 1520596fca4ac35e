// Package graph talks to Microsoft: the identity platform (loopback PKCE
// sign-in, a token source that keeps the rotated refresh token) and the
// Microsoft Graph v1.0 mail calls one pass makes — /me, the excluded
// well-known folders, the windowed message list and bodies through $batch.
//
// The Graph client is hand-written rather than the official SDK: the SDK is
// a very large generated dependency for the five calls Mail Sync makes.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"mailsync/sync/remote"
)

// MaxInFlight is Graph's limit of concurrent requests per app and mailbox.
const MaxInFlight = 4

// maxBatch is how many requests one $batch may carry.
const maxBatch = 20

// maxResponse bounds what one response may hold; a page of 1000 messages
// with narrow $select is a few megabytes.
const maxResponse = 64 << 20

// listSelect is the narrow projection one pass needs.
const listSelect = "id,internetMessageId,subject,from,sender,toRecipients,ccRecipients,bccRecipients," +
	"receivedDateTime,sentDateTime,parentFolderId,isDraft,categories,conversationId"

// ExcludedWellKnownFolders are the well-known folders whose messages are
// never taken (rule 3). RSS feeds have no well-known name; they are told
// by message class.
var ExcludedWellKnownFolders = []string{
	"junkemail", "drafts", "conversationhistory", "clutter", "syncissues",
	"outbox", "conflicts", "localfailures", "serverfailures",
}

// Client calls Microsoft Graph for one mailbox. It adds retry (Policy),
// a timeout per request (Timeout) and at most MaxInFlight requests in flight
// across all calls. Safe for concurrent use; set Policy and Timeout before
// the first call.
type Client struct {
	// Policy is the retry policy; NewClient sets remote.DefaultPolicy.
	Policy remote.Policy
	// Timeout bounds each request attempt, reading its body included.
	Timeout time.Duration

	base string
	hc   *http.Client
	sem  chan struct{}

	// pause holds every request while a Retry-After runs: Graph throttles
	// per app and mailbox, so it applies to all calls, not just the one
	// that met it.
	pause remote.Pause

	mu         sync.Mutex
	invalidate func()
}

// NewClient returns a client for the Graph base URL (e.g.
// https://graph.microsoft.com/v1.0). hc carries authorization (an oauth2
// transport); Client adds retry, per-request timeout and at most MaxInFlight
// requests in flight, a limit shared by all calls of one Client. Redirects
// follow remote.CheckRedirect whatever hc says, so the token never leaves
// Graph's host.
func NewClient(baseURL string, hc *http.Client) *Client {
	return &Client{
		Policy:  remote.DefaultPolicy,
		Timeout: remote.RequestTimeout,
		base:    strings.TrimRight(baseURL, "/"),
		hc:      remote.GuardRedirects(hc),
		sem:     make(chan struct{}, MaxInFlight),
	}
}

// SetInvalidate sets a function called on a 401 before one retry, so the
// token source can drop a token Graph refused. A second 401 is
// remote.NeedsReconnect.
func (c *Client) SetInvalidate(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidate = f
}

// Me returns the signed-in user: who "the user" is for rule 2.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var me Me
	u := c.base + "/me?" + encodeQuery("$select", "id,displayName,mail,userPrincipalName,proxyAddresses")
	err := c.do(ctx, "read user", http.MethodGet, u, nil, nil, &me)
	return me, err
}

// ListMessages calls fn with each page of the messages received at or after
// since, in all folders, newest first, following @odata.nextLink. A page is
// not kept after fn returns, so a large mailbox never sits in memory; an
// error from fn stops the listing and is returned as is.
func (c *Client) ListMessages(ctx context.Context, since time.Time, fn func(page []Message) error) error {
	const op = "list messages"
	u := c.base + "/me/messages?" + encodeQuery(
		"$filter", "receivedDateTime ge "+since.UTC().Format(time.RFC3339),
		"$select", listSelect,
		"$expand", "singleValueExtendedProperties($filter=id eq '"+MessageClassPropertyID+"')",
		"$top", "1000",
	)
	return eachPage(ctx, c, op, u, fn)
}

// eachPage GETs the list at u and the pages @odata.nextLink leads to, and
// calls fn with the items of each page that has any; an error from fn stops
// the listing and is returned as is.
func eachPage[T any](ctx context.Context, c *Client, op, u string, fn func(page []T) error) error {
	for u != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if err := c.do(ctx, op, http.MethodGet, u, nil, nil, &page); err != nil {
			return err
		}
		if err := c.checkNextLink(op, page.NextLink); err != nil {
			return err
		}
		if len(page.Value) > 0 {
			if err := fn(page.Value); err != nil {
				return err
			}
		}
		u = page.NextLink
	}
	return nil
}

// checkNextLink refuses a next link to another host: hc carries the bearer
// token, which must go to Graph only.
func (c *Client) checkNextLink(op, link string) error {
	if link == "" {
		return nil
	}
	nu, err1 := url.Parse(link)
	bu, err2 := url.Parse(c.base)
	if err1 != nil || err2 != nil || nu.Scheme != bu.Scheme || nu.Host != bu.Host {
		return &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent,
			Message: "Graph answered with a next page on another host"}
	}
	return nil
}

// ExcludedFolder is a folder whose messages are never taken, with the
// well-known name that says which kind it is, so a skip can say why
// ("junk folder", "draft") in words.
type ExcludedFolder struct {
	ID string `json:"id"`
	// WellKnownName is one of ExcludedWellKnownFolders. Folders found
	// below Sync Issues without a well-known name of their own carry
	// "syncissues".
	WellKnownName string `json:"wellKnownName"`
}

// ExcludedFolders returns the folders whose messages are never taken: the
// ExcludedWellKnownFolders that exist in the mailbox and every folder below
// Sync Issues, each once, with its kind. The well-known names are resolved
// in one $batch; a name the mailbox lacks is skipped.
func (c *Client) ExcludedFolders(ctx context.Context) ([]ExcludedFolder, error) {
	const op = "find excluded folders"
	reqs := make([]batchRequest, len(ExcludedWellKnownFolders))
	for i, name := range ExcludedWellKnownFolders {
		reqs[i] = batchRequest{Method: http.MethodGet, URL: "/me/mailFolders/" + name + "?" + encodeQuery("$select", "id,childFolderCount")}
	}
	resps, err := c.batch(ctx, op, reqs)
	if err != nil {
		return nil, err
	}
	type folderJSON struct {
		ID               string `json:"id"`
		ChildFolderCount int    `json:"childFolderCount"`
	}
	var out []ExcludedFolder
	seen := map[string]bool{}
	add := func(id, kind string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, ExcludedFolder{ID: id, WellKnownName: kind})
		}
	}
	var syncIssues *folderJSON
	for i, r := range resps {
		switch {
		case r.Status == http.StatusOK:
		case r.Status == http.StatusNotFound, r.Status == http.StatusBadRequest && r.code() == "ErrorInvalidIdMalformed":
			continue // the mailbox has no such folder
		default:
			return nil, r.err(op)
		}
		var f folderJSON
		if err := json.Unmarshal(r.Body, &f); err != nil {
			return nil, &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent, Status: r.Status, Err: fmt.Errorf("decode folder: %w", err)}
		}
		add(f.ID, ExcludedWellKnownFolders[i])
		if ExcludedWellKnownFolders[i] == "syncissues" {
			syncIssues = &f
		}
	}
	if syncIssues != nil && syncIssues.ChildFolderCount > 0 {
		// Breadth first over Sync Issues' subtree (Conflicts, Local and
		// Server Failures, and whatever a client created below them).
		queue := []string{syncIssues.ID}
		for len(queue) > 0 {
			parent := queue[0]
			queue = queue[1:]
			u := c.base + "/me/mailFolders/" + url.PathEscape(parent) + "/childFolders?" + encodeQuery("$select", "id,childFolderCount", "$top", "100")
			err := eachPage(ctx, c, op, u, func(page []folderJSON) error {
				for _, f := range page {
					if !seen[f.ID] && f.ChildFolderCount > 0 {
						queue = append(queue, f.ID)
					}
					add(f.ID, "syncissues")
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// Bodies returns the text bodies of the messages with the given ids, by id,
// fetched through $batch, maxBatch per request, the batches running
// concurrently within the client's in-flight limit. A message deleted
// meanwhile (404) is left out of the map, not an error.
func (c *Client) Bodies(ctx context.Context, ids []string) (map[string]Body, error) {
	const op = "read message bodies"
	out := make(map[string]Body, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var chunks [][]string
	for start := 0; start < len(ids); start += maxBatch {
		chunks = append(chunks, ids[start:min(start+maxBatch, len(ids))])
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan []string)
	for range min(MaxInFlight, len(chunks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range work {
				bodies, err := c.bodyBatch(ctx, op, chunk)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				for id, b := range bodies {
					out[id] = b
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, chunk := range chunks {
		select {
		case work <- chunk:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, &remote.Error{Service: "graph", Op: op, Kind: remote.Transient, Err: err}
	}
	return out, nil
}

func (c *Client) bodyBatch(ctx context.Context, op string, ids []string) (map[string]Body, error) {
	reqs := make([]batchRequest, len(ids))
	for i, id := range ids {
		reqs[i] = batchRequest{
			Method:  http.MethodGet,
			URL:     "/me/messages/" + url.PathEscape(id) + "?" + encodeQuery("$select", "body"),
			Headers: map[string]string{"Prefer": `outlook.body-content-type="text"`},
		}
	}
	resps, err := c.batch(ctx, op, reqs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Body, len(ids))
	for i, r := range resps {
		switch r.Status {
		case http.StatusOK:
		case http.StatusNotFound:
			continue // deleted since it was listed
		default:
			return nil, r.err(op)
		}
		var m struct {
			Body Body `json:"body"`
		}
		if err := json.Unmarshal(r.Body, &m); err != nil {
			return nil, &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent, Status: r.Status, Err: fmt.Errorf("decode body of a message: %w", err)}
		}
		out[ids[i]] = m.Body
	}
	return out, nil
}

type batchRequest struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func (r *batchResponse) header() http.Header {
	h := http.Header{}
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	return h
}

func (r *batchResponse) code() string {
	var eb ErrorBody
	_ = json.Unmarshal(r.Body, &eb)
	return eb.Error.Code
}

func (r *batchResponse) err(op string) error {
	return responseError(op, r.Status, r.Body)
}

// batch sends reqs (at most maxBatch) as one $batch and returns the final
// response of each, in the order of reqs. Items Graph throttled or could not
// serve (429, 503, 504, 5xx) are sent again, in a smaller batch, after the
// wait the policy gives for them (their Retry-After, if any).
func (c *Client) batch(ctx context.Context, op string, reqs []batchRequest) ([]batchResponse, error) {
	if len(reqs) > maxBatch {
		return nil, fmt.Errorf("graph: %s: %d requests in one batch, the limit is %d", op, len(reqs), maxBatch)
	}
	final := make([]batchResponse, len(reqs))
	pending := make([]int, len(reqs))
	for i := range reqs {
		pending[i] = i
		reqs[i].ID = strconv.Itoa(i + 1)
	}
	for attempt := 1; ; attempt++ {
		send := make([]batchRequest, len(pending))
		for j, i := range pending {
			send[j] = reqs[i]
		}
		payload, err := json.Marshal(map[string]any{"requests": send})
		if err != nil {
			return nil, fmt.Errorf("graph: %s: encode batch: %w", op, err)
		}
		var resp struct {
			Responses []batchResponse `json:"responses"`
		}
		hdr := http.Header{"Content-Type": {"application/json"}}
		if err := c.do(ctx, op, http.MethodPost, c.base+"/$batch", payload, hdr, &resp); err != nil {
			return nil, err
		}
		byID := make(map[string]batchResponse, len(resp.Responses))
		for _, r := range resp.Responses {
			byID[r.ID] = r
		}
		var again []int
		var wait time.Duration
		var retryAfter bool
		for _, i := range pending {
			r, ok := byID[reqs[i].ID]
			if !ok {
				return nil, &remote.Error{Service: "graph", Op: op, Kind: remote.Transient,
					Message: "Graph's batch answer left out a request"}
			}
			final[i] = r
			fake := &http.Response{StatusCode: r.Status, Header: r.header()}
			if retry, d := remote.ShouldRetry(ctx, c.Policy, attempt, fake, nil); retry {
				again = append(again, i)
				wait = max(wait, d)
				if fake.Header.Get("Retry-After") != "" {
					retryAfter = true
				}
			}
		}
		if len(again) == 0 {
			return final, nil
		}
		if retryAfter {
			c.pause.Extend(wait)
		}
		if err := remote.Sleep(ctx, wait); err != nil {
			return nil, &remote.Error{Service: "graph", Op: op, Kind: remote.Transient, Err: err}
		}
		pending = again
	}
}

// do sends one request with the client's retry policy and decodes a 2xx JSON
// answer into out. body, if not nil, is sent on every attempt.
func (c *Client) do(ctx context.Context, op, method, u string, body []byte, hdr http.Header, out any) error {
	invalidated := false
	for attempt := 1; ; attempt++ {
		status, header, data, err := c.attempt(ctx, method, u, body, hdr)
		if err == nil && status == http.StatusUnauthorized && !invalidated {
			c.mu.Lock()
			inv := c.invalidate
			c.mu.Unlock()
			if inv != nil {
				// The token may have been revoked or expired early: let the
				// token source drop it and try once with a fresh one.
				inv()
				invalidated = true
				attempt--
				continue
			}
		}
		if err == nil && status >= 200 && status < 300 {
			if out == nil {
				return nil
			}
			derr := json.Unmarshal(data, out)
			if derr == nil {
				return nil
			}
			err = fmt.Errorf("decode answer: %w", derr)
			status = 0
		}
		var resp *http.Response
		if err == nil {
			resp = &http.Response{StatusCode: status, Header: header}
		}
		retry, wait := remote.ShouldRetry(ctx, c.Policy, attempt, resp, err)
		if !retry {
			if ctx.Err() != nil {
				return &remote.Error{Service: "graph", Op: op, Kind: remote.Transient, Err: ctx.Err()}
			}
			var redirect *remote.RedirectError
			if errors.As(err, &redirect) {
				return &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent,
					Message: "Microsoft Graph " + redirect.Reason, Err: err}
			}
			if err != nil {
				return &remote.Error{Service: "graph", Op: op, Kind: remote.KindOf(err), Err: err}
			}
			return responseError(op, status, data)
		}
		if resp != nil && header.Get("Retry-After") != "" {
			c.pause.Extend(wait)
		}
		if err := remote.Sleep(ctx, wait); err != nil {
			return &remote.Error{Service: "graph", Op: op, Kind: remote.Transient, Err: err}
		}
	}
}

// attempt makes one request under the in-flight limit and the per-request
// timeout, and reads the whole answer. A short body is returned as err
// (io.ErrUnexpectedEOF), which the policy treats as transient.
func (c *Client) attempt(ctx context.Context, method, u string, body []byte, hdr http.Header) (int, http.Header, []byte, error) {
	if err := c.pause.Wait(ctx); err != nil {
		return 0, nil, nil, err
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, nil, nil, ctx.Err()
	}
	defer func() { <-c.sem }()

	actx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, u, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, data, nil
}

// responseError turns a failed answer with Graph's error JSON into a
// *remote.Error of the right kind.
func responseError(op string, status int, data []byte) error {
	var eb ErrorBody
	_ = json.Unmarshal(data, &eb)
	e := &remote.Error{Service: "graph", Op: op, Status: status, Code: eb.Error.Code, Message: eb.Error.Message}
	switch {
	case status == http.StatusUnauthorized,
		status == http.StatusForbidden && eb.Error.Code == "InvalidAuthenticationToken":
		e.Kind = remote.NeedsReconnect
		e.Message = "Microsoft refused the sign-in; connect Office 365 again"
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		e.Kind = remote.Transient
	default:
		e.Kind = remote.Permanent
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	}
	return e
}

// encodeQuery encodes key, value pairs in order. Spaces become %20, not
// "+": Graph reads OData literals strictly.
func encodeQuery(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.PathEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(strings.ReplaceAll(url.QueryEscape(kv[i+1]), "+", "%20"))
	}
	return b.String()
}
