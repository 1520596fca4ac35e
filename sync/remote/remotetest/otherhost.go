package remotetest

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
)

// OtherHost stands for the host a redirect points to, for tests that a
// credential never follows a redirect there. It records the Authorization
// header and body of every request that reaches it, and answers a JSON
// body a token endpoint or Graph list would give, so a client that did
// follow would carry on rather than stop at an error.
type OtherHost struct {
	*httptest.Server
	mu  sync.Mutex
	got []string // each request's Authorization header and body, "|"-joined
}

// NewOtherHost starts an OtherHost; Close stops it.
func NewOtherHost() *OtherHost {
	h := &OtherHost{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, r.Header.Get("Authorization")+"|"+string(b))
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"stolen","token_type":"Bearer","expires_in":3600,"value":[]}`)
	}))
	return h
}

// Requests returns what reached the host: each request's Authorization
// header and body, joined by "|".
func (h *OtherHost) Requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// ClosedAddr returns a loopback address nothing listens on (a port just
// let go), where a connection is refused: a service that is not there.
func ClosedAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}
