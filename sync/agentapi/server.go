package agentapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mailsync/sync/words"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"mailsync/sync/engine"
)

// The agent's answers when the socket is taken or free.
var (
	// ErrAgentRunning is returned by Listen when another agent answers on
	// the socket.
	ErrAgentRunning = words.New(agentRunning)
	// ErrNoAgent is returned by Dial, and wrapped in the Client's errors,
	// when no agent answers on the socket.
	ErrNoAgent = words.New(noAgent)
)

// dialTimeout bounds how long a connection attempt to the socket may take;
// a live agent accepts at once.
const dialTimeout = time.Second

// maxBody bounds request bodies; the largest is the settings.
const maxBody = 1 << 20

// Address names where the agent of dataDir listens, for messages: the
// socket's path, or on Windows the named pipe's name.
func Address(dataDir string) string { return address(dataDir) }

// Listen opens the agent's endpoint for dataDir: on Linux and macOS a Unix
// socket in dataDir (created 0700 if missing) with mode 0600, replacing a
// socket left by an agent that crashed; on Windows a named pipe, per user
// and per data directory, that admits only the current user. If a live
// agent answers there, Listen returns ErrAgentRunning.
func Listen(dataDir string) (net.Listener, error) { return listen(dataDir) }

// connKey is the context key of a request's connInfo.
type connKey struct{}

// connInfo is what the server learned about a connection when it accepted it.
type connInfo struct {
	local   bool  // it came over the agent's socket or pipe
	peerErr error // why its peer is refused, nil when it is the agent's user
}

// Serve serves api on l until ctx ends, then stops (ending Watch streams)
// and returns nil; it returns an error only when serving fails. Requests
// that do not come over the agent's socket or pipe, or (on Linux and macOS)
// come from another user, are refused with 403. Request bodies are never logged: one
// carries the ClientSuccess password.
func Serve(ctx context.Context, l net.Listener, api API, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	// Cancelling base ends the requests in flight, which Shutdown alone
	// would wait for forever in the case of Watch streams.
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := &http.Server{
		Handler:           newHandler(api, log),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			info := connInfo{}
			info.local, info.peerErr = checkLocal(c)
			return context.WithValue(ctx, connKey{}, info)
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("agentapi: serve: %w", err)
	case <-ctx.Done():
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	return nil
}

// handler routes /v1/ requests to the API. The wire protocol, HTTP/1.1 on
// the socket with JSON bodies:
//
//	GET  /v1/status            engine.Status
//	GET  /v1/watch             NDJSON, one engine.Status per line, current first
//	POST /v1/sync | pause | resume | connect/cancel | disconnect | crm/logout | window
//	POST /v1/connect           {"url": sign-in URL}
//	POST /v1/crm/login         {"username","password"}
//	GET  /v1/settings          Settings; PUT /v1/settings with Settings
//	GET  /v1/setup             Setup; PUT /v1/setup with {"key": value}
//	GET  /v1/decisions?q=&limit=  []Decision, newest first
//	GET  /v1/unsure            []engine.UnsureUpload; POST /v1/unsure/{id} with {"copyAgain"}
//	GET  /v1/window/requests   NDJSON, one WindowRequest per line (when the API is a WindowHost)
//	POST /v1/backfill/preview | run  {"days"}: engine.Backfill (run waits for the end)
//	POST /v1/backfill/start    {"days"}; POST /v1/backfill/cancel
//	POST /v1/quit              ends the agent (when the API is a Quitter)
//
// Commands answer 204; failures answer {"error": words for a person}.
type handler struct {
	api API
	log *slog.Logger
	mux *http.ServeMux
}

func newHandler(api API, log *slog.Logger) *handler {
	h := &handler{api: api, log: log, mux: http.NewServeMux()}
	m := h.mux
	m.HandleFunc("GET /v1/status", reply(h, h.api.Status))
	m.HandleFunc("GET /v1/watch", h.watch)
	m.HandleFunc("POST /v1/sync", h.command(h.api.SyncNow))
	// POST /v1/pass runs (or joins) a pass and answers with its outcome. It
	// can take as long as the pass; the caller's connection ending cancels
	// the wait, not the pass.
	m.HandleFunc("POST /v1/pass", reply(h, h.api.Sync))
	m.HandleFunc("POST /v1/pause", h.command(h.api.Pause))
	m.HandleFunc("POST /v1/resume", h.command(h.api.Resume))
	m.HandleFunc("POST /v1/connect", h.connect)
	m.HandleFunc("POST /v1/connect/cancel", h.command(h.api.CancelConnect))
	m.HandleFunc("POST /v1/disconnect", h.command(h.api.Disconnect))
	m.HandleFunc("POST /v1/crm/login", h.crmLogin)
	m.HandleFunc("POST /v1/crm/logout", h.command(h.api.CRMLogout))
	m.HandleFunc("GET /v1/settings", reply(h, h.api.Settings))
	m.HandleFunc("PUT /v1/settings", h.setSettings)
	m.HandleFunc("GET /v1/setup", reply(h, h.api.Setup))
	m.HandleFunc("PUT /v1/setup", h.setSetup)
	m.HandleFunc("GET /v1/decisions", h.decisions)
	m.HandleFunc("GET /v1/unsure", reply(h, h.api.Unsure))
	m.HandleFunc("POST /v1/unsure/{id}", h.decideUnsure)
	m.HandleFunc("POST /v1/window", h.command(h.api.ShowWindow))
	m.HandleFunc("GET /v1/window/requests", h.windowRequests)
	m.HandleFunc("GET /v1/doctor", reply(h, h.api.Doctor))
	m.HandleFunc("POST /v1/backfill/preview", h.backfill(h.api.PreviewBackfill))
	m.HandleFunc("POST /v1/backfill/run", h.backfill(h.api.Backfill))
	m.HandleFunc("POST /v1/backfill/start", h.startBackfill)
	m.HandleFunc("POST /v1/backfill/cancel", h.command(h.api.CancelBackfill))
	m.HandleFunc("POST /v1/quit", h.quit)
	h.activityRoutes()
	return h
}

// ServeHTTP refuses requests that did not come over the socket from the
// agent's user, then routes the rest.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _ := r.Context().Value(connKey{}).(connInfo)
	switch {
	case !info.local:
		h.log.Warn("local API: refused a request not on the socket", "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, onlyOnSocket)
		return
	case info.peerErr != nil:
		h.log.Warn("local API: refused a request", "err", info.peerErr)
		writeError(w, http.StatusForbidden, onlyItsUser)
		return
	}
	h.log.Debug("local API", "method", r.Method, "path", r.URL.Path)
	h.mux.ServeHTTP(w, r)
}

func (h *handler) command(f func(context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(r.Context()); err != nil {
			h.writeAPIError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// reply answers with what f gives, as JSON.
func reply[T any](h *handler, f func(context.Context) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r.Context())
		if err != nil {
			h.writeAPIError(w, err)
			return
		}
		writeJSON(w, v)
	}
}

// backfill answers a backfill command that takes {"days"} with the
// record f gives.
func (h *handler) backfill(f func(context.Context, int) (engine.Backfill, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req BackfillRequest
		if !readJSON(w, r, &req) {
			return
		}
		b, err := f(r.Context(), req.Days)
		if err != nil {
			h.writeAPIError(w, err)
			return
		}
		writeJSON(w, b)
	}
}

func (h *handler) startBackfill(w http.ResponseWriter, r *http.Request) {
	var req BackfillRequest
	if !readJSON(w, r, &req) {
		return
	}
	if err := h.api.StartBackfill(r.Context(), req.Days); err != nil {
		h.writeAPIError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// watch streams one NDJSON line per status, flushed as it comes, until the
// request or the API's stream ends.
func (h *handler) watch(w http.ResponseWriter, r *http.Request) {
	ch, err := h.api.Watch(r.Context())
	if err != nil {
		h.writeAPIError(w, err)
		return
	}
	stream(w, r, ch)
}

// stream writes one NDJSON line per value of ch, flushed as it comes,
// until ch is closed or the request ends.
func stream[T any](w http.ResponseWriter, r *http.Request, ch <-chan T) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				return
			}
			if err := enc.Encode(v); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

func (h *handler) connect(w http.ResponseWriter, r *http.Request) {
	var req connectRequest
	if !readJSON(w, r, &req) {
		return
	}
	url, err := h.api.Connect(r.Context(), req.OpenBrowser)
	if err != nil {
		h.writeAPIError(w, err)
		return
	}
	writeJSON(w, connectReply{URL: url})
}

func (h *handler) crmLogin(w http.ResponseWriter, r *http.Request) {
	var in crmLoginRequest
	if !readJSON(w, r, &in) {
		return
	}
	if err := h.api.CRMLogin(r.Context(), in.Username, in.Password); err != nil {
		h.writeAPIError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) setSettings(w http.ResponseWriter, r *http.Request) {
	var in Settings
	if !readJSON(w, r, &in) {
		return
	}
	if err := h.api.SetSettings(r.Context(), in); err != nil {
		h.writeAPIError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) setSetup(w http.ResponseWriter, r *http.Request) {
	var in map[string]string
	if !readJSON(w, r, &in) {
		return
	}
	if err := h.api.SetSetup(r.Context(), in); err != nil {
		h.writeAPIError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) decisions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := limitOf(w, q)
	if !ok {
		return
	}
	ds, err := h.api.Decisions(r.Context(), q.Get("q"), limit)
	h.writeDecisions(w, ds, err)
}

// limitOf reads the limit parameter of a list (0 when absent); a wrong
// one is answered 400 and ok is false.
func limitOf(w http.ResponseWriter, q url.Values) (limit int, ok bool) {
	s := q.Get("limit")
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, badLimit)
		return 0, false
	}
	return n, true
}

// writeDecisions answers a list of decisions (never null) or err.
func (h *handler) writeDecisions(w http.ResponseWriter, ds []Decision, err error) {
	if err != nil {
		h.writeAPIError(w, err)
		return
	}
	if ds == nil {
		ds = []Decision{}
	}
	writeJSON(w, ds)
}

func (h *handler) decideUnsure(w http.ResponseWriter, r *http.Request) {
	var in decideUnsureRequest
	if !readJSON(w, r, &in) {
		return
	}
	if err := h.api.DecideUnsure(r.Context(), r.PathValue("id"), in.CopyAgain); err != nil {
		h.writeAPIError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Wire types of the requests and replies that are not API types.
type (
	decideUnsureRequest struct {
		CopyAgain bool `json:"copyAgain"`
	}
	connectRequest struct {
		OpenBrowser bool `json:"openBrowser"`
	}
	connectReply struct {
		URL string `json:"url"`
	}
	crmLoginRequest struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	errorReply struct {
		Error string `json:"error"`
	}
)

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, badJSON)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// writeAPIError sends err as words (WordsOf) and logs the error itself,
// whose text may not be fit to show.
func (h *handler) writeAPIError(w http.ResponseWriter, err error) {
	words := WordsOf(h.api, err)
	if words != err.Error() {
		h.log.Warn("local API: call failed", "err", err)
	}
	writeError(w, http.StatusInternalServerError, words)
}

func writeError(w http.ResponseWriter, code int, words string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(errorReply{Error: words})
}
