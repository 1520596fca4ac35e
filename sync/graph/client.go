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
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"mailsync/sync/remote"
)

// MaxInFlight is Graph's limit of concurrent requests per app and mailbox.
const MaxInFlight = 4

// maxBatch is how many requests one $batch may carry.
const maxBatch = 20

// BodiesPerBatch is how many bodies Bodies reads in one $batch: a caller
// that hands it that many ids at a time holds one batch's bodies at most.
const BodiesPerBatch = maxBatch

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
	// budget is the mailbox's concurrency budget, MaxInFlight slots: a
	// request holds one, a $batch min(MaxInFlight, its steps).
	budget *semaphore.Weighted

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
		budget:  semaphore.NewWeighted(MaxInFlight),
	}
}

// Budget is one mailbox's concurrency budget, MaxInFlight slots. Outlook
// counts requests per app and mailbox (docs/evidence.md, "Mailbox
// concurrency"), so every Client reading one mailbox (a pass's, a
// backfill's) shares one Budget. Safe for concurrent use.
type Budget struct{ w *semaphore.Weighted }

// NewBudget returns a mailbox's budget, all of it free.
func NewBudget() *Budget { return &Budget{w: semaphore.NewWeighted(MaxInFlight)} }

// ShareBudget makes c count its requests against b instead of a budget of
// its own. Call it before the first request.
func (c *Client) ShareBudget(b *Budget) { c.budget = b.w }

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
// since, in all folders, in no order the caller may count on, following
// @odata.nextLink. A page is not kept after fn returns, so a large mailbox
// never sits in memory; an error from fn stops the listing and is returned
// as is.
//
// Each message asks for its class and its sensitivity in one $expand
// joined by "or". Public reports conflict on whether Graph answers that
// (one live-tested note saw 200 with no properties at all;
// docs/evidence.md, "Microsoft Graph and Entra"), so a message may come back
// without either: the caller asks again with ClassAndSensitivity before it
// counts on them.
//
// Only receivedDateTime filters: whether a move changes a message's
// lastModifiedDateTime is not documented (docs/evidence.md, "Microsoft
// Graph and Entra"), so a message moved out of Junk or restored from
// Deleted Items hours after it arrived is found by listing the whole
// window again, never by its modified time. A $filter without $orderby
// lets Graph choose its own order cheaply
// (api-reference/v1.0/api/user-list-messages.md, "Using filter and
// orderby in the same query").
func (c *Client) ListMessages(ctx context.Context, since time.Time, fn func(page []Message) error) error {
	return c.listMessages(ctx, "receivedDateTime ge "+since.UTC().Format(time.RFC3339), fn)
}

// ListMessagesBetween is ListMessages for the messages received at or after
// since and before until: one range of receivedDateTime, the shape Graph's
// documentation gives for "all emails received in April 2017"
// (docs/evidence.md, "GET /me/messages").
func (c *Client) ListMessagesBetween(ctx context.Context, since, until time.Time, fn func(page []Message) error) error {
	return c.listMessages(ctx, "receivedDateTime ge "+since.UTC().Format(time.RFC3339)+
		" and receivedDateTime lt "+until.UTC().Format(time.RFC3339), fn)
}

func (c *Client) listMessages(ctx context.Context, filter string, fn func(page []Message) error) error {
	const op = "list messages"
	u := c.base + "/me/messages?" + encodeQuery(
		"$filter", filter,
		"$select", listSelect,
		// The message resource has no sensitivity property (Graph's docs
		// issue #8359: "not exposed via the Graph API"); it is read as
		// the MAPI property PR_SENSITIVITY, next to the message class.
		"$expand", expandProperties(MessageClassPropertyID, SensitivityPropertyID),
		"$top", "1000",
	)
	return eachPage(ctx, c, op, u, fn)
}

// expandProperties is the $expand that asks for the single-value extended
// properties with the given ids.
func expandProperties(ids ...string) string {
	terms := make([]string, len(ids))
	for i, id := range ids {
		terms[i] = "id eq '" + id + "'"
	}
	return "singleValueExtendedProperties($filter=" + strings.Join(terms, " or ") + ")"
}

// ClassAndSensitivity asks Graph, for each message id, for its class and
// its sensitivity one property per request (two $batch steps a message,
// maxBatch steps a batch, one batch at a time), for the messages a list
// gave without them. fn is called once for each id, in order, with the
// properties that came back (none, one or both), or why they could not be
// read; a message deleted meanwhile gives ErrMessageGone. It returns an
// error only for what stops every read, or the first error fn returns.
func (c *Client) ClassAndSensitivity(ctx context.Context, ids []string, fn func(id string, props []ExtendedProperty, err error) error) error {
	const op = "read message class and sensitivity"
	props := []string{MessageClassPropertyID, SensitivityPropertyID}
	per := maxBatch / len(props)
	for start := 0; start < len(ids); start += per {
		chunk := ids[start:min(start+per, len(ids))]
		reqs := make([]batchRequest, 0, len(chunk)*len(props))
		for _, id := range chunk {
			for _, p := range props {
				reqs = append(reqs, batchRequest{
					Method: http.MethodGet,
					URL:    "/me/messages/" + url.PathEscape(id) + "?" + encodeQuery("$select", "id", "$expand", expandProperties(p)),
				})
			}
		}
		resps, err := c.batch(ctx, op, reqs, 0, onlyBatchWide)
		if err != nil {
			return err
		}
		for i, id := range chunk {
			var got []ExtendedProperty
			var ferr error
			for _, r := range resps[i*len(props) : (i+1)*len(props)] {
				switch {
				case r.Status == http.StatusNotFound:
					ferr = ErrMessageGone
				case r.Status < 200 || r.Status > 299:
					ferr = r.err(op)
				default:
					var m Message
					if err := r.decodeBody(&m); err != nil {
						ferr = &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent, Status: r.Status,
							Message: "Graph's answer for a message's properties could not be read", Err: err}
						continue
					}
					got = append(got, m.SingleValueExtendedProperties...)
				}
				if ferr != nil {
					break
				}
			}
			if ferr != nil {
				got = nil
			}
			if err := fn(id, got, ferr); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxPages bounds how many pages one paged read follows: 10,000 pages of
// 1,000 messages is ten million, far beyond any mailbox window, so a
// server that keeps handing out next pages is stopped, not followed for
// ever. A variable so that tests can lower it.
var maxPages = 10000

// eachPage GETs the list at u and the pages @odata.nextLink leads to, and
// calls fn with the items of each page that has any; an error from fn stops
// the listing and is returned as is.
//
// A next link already followed, or more than MaxPages pages, stop the read
// with an error: Graph paging in a loop would otherwise never end.
func eachPage[T any](ctx context.Context, c *Client, op, u string, fn func(page []T) error) error {
	seen := map[[32]byte]bool{sha256.Sum256([]byte(u)): true}
	for pages := 0; u != ""; pages++ {
		if pages == maxPages {
			return &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent,
				Message: fmt.Sprintf("Microsoft Graph answered with more than %d pages", maxPages)}
		}
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
		if page.NextLink != "" {
			h := sha256.Sum256([]byte(page.NextLink))
			if seen[h] {
				return &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent,
					Message: "Microsoft Graph answered with a next page it had already given"}
			}
			seen[h] = true
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
	resps, err := c.batch(ctx, op, reqs, 0, everyTransient)
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
		if err := r.decodeBody(&f); err != nil {
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

// ErrMessageGone is the error Bodies gives a message that was deleted (or
// moved out of reach) since it was listed.
var ErrMessageGone = errors.New("graph: the message is gone")

// Bodies reads the text bodies of the messages with the given ids through
// $batch, maxBatch messages per batch and one batch at a time (Graph runs a
// batch's steps against Outlook four at a time, the mailbox's whole
// concurrency budget), and calls fn once for each id, in order, as soon as
// its batch is done: with the body, or with why it could not be read.
//
// Each body's Content is cut to maxChars characters while the answer is
// read, and Body.Omitted says how many more there were (maxChars <= 0 cuts
// nothing): a batch of large messages never sits in memory whole.
//
// A step Graph throttled (429, with its own Retry-After), found the service
// unavailable (503) or whose batch failed as a whole (424) is sent again,
// alone with the other such steps of its batch, after the wait it asked
// for; steps already answered are not sent again. A step that fails on its
// own (500, 403, any other status) is that message's failure and is not
// sent again here: fn gets its *remote.Error at once, so one unreadable
// message never holds the others in backoff; a message deleted meanwhile
// gives ErrMessageGone. Bodies returns an error only for what
// stops every read (the sign-in refused, the context done, the batch
// itself refused or unreachable), or the first error fn returns.
func (c *Client) Bodies(ctx context.Context, ids []string, maxChars int, fn func(id string, body Body, err error) error) error {
	const op = "read message bodies"
	for start := 0; start < len(ids); start += maxBatch {
		chunk := ids[start:min(start+maxBatch, len(ids))]
		reqs := make([]batchRequest, len(chunk))
		for i, id := range chunk {
			reqs[i] = batchRequest{
				Method:  http.MethodGet,
				URL:     "/me/messages/" + url.PathEscape(id) + "?" + encodeQuery("$select", "body"),
				Headers: map[string]string{"Prefer": `outlook.body-content-type="text"`},
			}
		}
		resps, err := c.batch(ctx, op, reqs, maxChars, onlyBatchWide)
		if err != nil {
			return err
		}
		for i, r := range resps {
			body, err := r.messageBody(op)
			if err := fn(chunk[i], body, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// messageBody reads a step's answer to GET /me/messages/{id}?$select=body.
func (r *batchResponse) messageBody(op string) (Body, error) {
	switch {
	case r.Status == http.StatusNotFound:
		return Body{}, ErrMessageGone
	case r.Status < 200 || r.Status > 299:
		return Body{}, r.err(op)
	}
	m, _ := r.Body.(map[string]any)
	b, ok := m["body"].(map[string]any)
	if !ok {
		return Body{}, &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent, Status: r.Status,
			Message: "Graph's answer for a message has no body object (" + describeKeys(m) + ")"}
	}
	var out Body
	out.ContentType, _ = b["contentType"].(string)
	switch c := b["content"].(type) {
	case string:
		out.Content = c
	case capped:
		out.Content, out.Omitted = c.Kept, c.Omitted
	case nil:
	default:
		return Body{}, &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent, Status: r.Status,
			Message: fmt.Sprintf("Graph's answer for a message has a body content of type %T", c)}
	}
	return out, nil
}

// describeKeys names an object's keys, never its values, for an error.
func describeKeys(m map[string]any) string {
	if m == nil {
		return "not an object"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return "keys: " + strings.Join(keys, ", ")
}

type batchRequest struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
}

// batchResponse is one step's answer, read from the tree decodeCapped
// gives.
type batchResponse struct {
	ID      string
	Status  int
	Headers http.Header
	Body    any // as decodeCapped gives it
}

// readBatchAnswer reads {"responses":[{"id","status","headers","body"}]}
// tolerantly: ids and statuses as strings or numbers, header values as
// strings, numbers or lists. What it cannot read it names (keys and types,
// never values).
func readBatchAnswer(tree any) ([]batchResponse, error) {
	root, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the batch answer is a %s, not an object", jsonType(tree))
	}
	list, ok := root["responses"].([]any)
	if !ok {
		return nil, fmt.Errorf("the batch answer has no responses list (%s)", describeKeys(root))
	}
	out := make([]batchResponse, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a batch response is a %s, not an object", jsonType(item))
		}
		r := batchResponse{Headers: http.Header{}, Body: m["body"]}
		switch id := m["id"].(type) {
		case string:
			r.ID = id
		case json.Number:
			r.ID = id.String()
		default:
			return nil, fmt.Errorf("a batch response's id is a %s", jsonType(m["id"]))
		}
		var status string
		switch st := m["status"].(type) {
		case json.Number:
			status = st.String()
		case string:
			status = st
		}
		n, err := strconv.Atoi(status)
		if err != nil || n < 100 || n > 999 {
			return nil, fmt.Errorf("a batch response's status is a %s, not an HTTP status", jsonType(m["status"]))
		}
		r.Status = n
		if h, ok := m["headers"].(map[string]any); ok {
			for k, v := range h {
				switch v := v.(type) {
				case string:
					r.Headers.Add(k, v)
				case json.Number:
					r.Headers.Add(k, v.String())
				case []any:
					for _, e := range v {
						if s, ok := e.(string); ok {
							r.Headers.Add(k, s)
						}
					}
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// typeWords name a JSON type in the words of Graph errors: "list",
// "boolean". Graph's errors name one value's type, never a whole shape.
var typeWords = remote.ShapeWords{Bool: "boolean", Array: "list"}

// jsonType names the JSON type of a value decodeCapped gave: a string cut
// while it was read is still a string.
func jsonType(v any) string {
	if _, ok := v.(capped); ok {
		return "string"
	}
	return typeWords.TypeOf(v)
}

func (r *batchResponse) errorBody() ErrorBody {
	var eb ErrorBody
	if data, err := json.Marshal(r.Body); err == nil {
		_ = json.Unmarshal(data, &eb)
	}
	return eb
}

func (r *batchResponse) code() string { return r.errorBody().Error.Code }

func (r *batchResponse) err(op string) error {
	data, _ := json.Marshal(r.Body)
	return responseError(op, r.Status, data)
}

// decodeBody decodes a step's body into out.
func (r *batchResponse) decodeBody(out any) error {
	data, err := json.Marshal(r.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

// stepRetry says which failed steps of a $batch are sent again.
type stepRetry int

const (
	// everyTransient: every step the retry policy would retry (429, 424,
	// 5xx), for steps whose failure stops the whole call (the folders).
	everyTransient stepRetry = iota
	// onlyBatchWide: only the steps failed for a reason that is not
	// theirs (429 throttled, 503 unavailable, 424 failed dependency), for
	// per-message reads: a message Graph answers 500 or 403 is that
	// message's failure, given to the caller at once.
	onlyBatchWide
)

// again reports whether a step answered status is sent again.
func (r stepRetry) again(status int) bool {
	if r == everyTransient {
		return true
	}
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusFailedDependency:
		return true
	}
	return false
}

// batch sends reqs (at most maxBatch) as one $batch and returns the final
// answer of each, in the order of reqs; strings in the answers are cut to
// maxChars characters as they are read (see decodeCapped). Steps Graph
// throttled or could not serve (429, 424, 5xx; with onlyBatchWide 429, 424
// and 503 only) are sent again, without the steps that were answered,
// after the longest wait one of them asked for (its own Retry-After, in
// its headers), until the retry policy gives up on them; their last answer
// is then final. A step answered 401 fails the whole batch: the sign-in
// was refused.
func (c *Client) batch(ctx context.Context, op string, reqs []batchRequest, maxChars int, retry stepRetry) ([]batchResponse, error) {
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
		var resps []batchResponse
		hdr := http.Header{"Content-Type": {"application/json"}}
		// Graph runs the steps four at a time: the batch holds that much
		// of the mailbox's budget while it is in flight.
		units := min(MaxInFlight, len(send))
		err = c.doStream(ctx, op, http.MethodPost, c.base+"/$batch", payload, hdr, units, func(r io.Reader) error {
			tree, err := decodeCapped(r, maxChars)
			if err != nil {
				return err
			}
			resps, err = readBatchAnswer(tree)
			return err
		})
		if err != nil {
			return nil, err
		}
		byID := make(map[string]batchResponse, len(resps))
		for _, r := range resps {
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
			if r.Status == http.StatusUnauthorized {
				return nil, r.err(op)
			}
			final[i] = r
			step := &http.Response{StatusCode: r.Status, Header: r.Headers}
			if !retry.again(r.Status) {
				continue
			}
			if ok, d := remote.ShouldRetry(ctx, c.Policy, attempt, step, nil); ok {
				again = append(again, i)
				wait = max(wait, d)
				if _, ok := remote.RetryAfterWait(c.Policy, step); ok {
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
	return c.doStream(ctx, op, method, u, body, hdr, 1, func(r io.Reader) error {
		data, err := readAnswer(r)
		if err != nil || out == nil {
			return err
		}
		return json.Unmarshal(data, out)
	})
}

// doStream sends one request holding units of the mailbox's budget, with
// the client's retry policy, and hands a 2xx answer's body to read as it
// arrives. An error from read is retried when it is a broken transfer
// (io.ErrUnexpectedEOF, a reset), and final otherwise. body, if not nil, is
// sent on every attempt.
func (c *Client) doStream(ctx context.Context, op, method, u string, body []byte, hdr http.Header, units int, read func(io.Reader) error) error {
	invalidated := false
	for attempt := 1; ; attempt++ {
		status, header, data, err := c.attempt(ctx, method, u, body, hdr, units, read)
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
			return nil
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
			if errors.Is(err, errTooLarge) {
				return &remote.Error{Service: "graph", Op: op, Kind: remote.Permanent, Err: err,
					Message: fmt.Sprintf("Microsoft Graph sent an answer larger than %d MB", maxAnswer>>20)}
			}
			if err != nil {
				return &remote.Error{Service: "graph", Op: op, Kind: remote.KindOf(err), Err: err}
			}
			return responseError(op, status, data)
		}
		if resp != nil {
			if _, ok := remote.RetryAfterWait(c.Policy, resp); ok {
				c.pause.Extend(wait)
			}
		}
		if err := remote.Sleep(ctx, wait); err != nil {
			return &remote.Error{Service: "graph", Op: op, Kind: remote.Transient, Err: err}
		}
	}
}

// decodeError is an answer that arrived whole but could not be read.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "decode answer: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// attempt makes one request holding units of the mailbox's budget and the
// per-request timeout. A 2xx answer's body goes to read; any other answer's
// body (an error, bounded) is returned as data. A short body is returned as
// err (io.ErrUnexpectedEOF), which the policy treats as transient.
func (c *Client) attempt(ctx context.Context, method, u string, body []byte, hdr http.Header, units int, read func(io.Reader) error) (int, http.Header, []byte, error) {
	if err := c.pause.Wait(ctx); err != nil {
		return 0, nil, nil, err
	}
	if err := c.budget.Acquire(ctx, int64(units)); err != nil {
		return 0, nil, nil, err
	}
	defer c.budget.Release(int64(units))

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
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err := read(resp.Body); err != nil {
			if actx.Err() != nil || isBrokenTransfer(err) {
				return 0, nil, nil, err
			}
			return 0, nil, nil, &decodeError{err}
		}
		return resp.StatusCode, resp.Header, nil, nil
	}
	// An error answer is read for its code and message only.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, data, nil
}

// isBrokenTransfer reports whether a read failed because the answer stopped
// arriving, not because it was malformed.
func isBrokenTransfer(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		return false
	}
	return remote.KindOf(err) == remote.Transient || errors.Is(err, io.ErrUnexpectedEOF)
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
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status == http.StatusFailedDependency || status >= 500:
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
