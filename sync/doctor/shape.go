package doctor

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"mailsync/sync/remote"
)

// maxRecorded bounds how much of an answer the recorder reads to describe
// it; the clients read at most as much.
const maxRecorded = 32 << 20

// exchange is what one HTTP answer looked like, without its values: the
// status, the media type and the shape of a JSON body (keys and types).
type exchange struct {
	status    int
	mediaType string
	shape     string // "object{id:string,…}", "array[2] of object{…}", "null", "an empty body", "not JSON (N bytes)"
	top       string // the JSON type at the top: object, array, null, string, number, bool; "" when not JSON
}

// describe says in words what came back: "HTTP 404, object{code:string}".
func (x exchange) describe() string {
	if x.mediaType == "text/html" {
		return fmt.Sprintf("HTTP %d, an HTML page", x.status)
	}
	return fmt.Sprintf("HTTP %d, %s", x.status, x.shape)
}

// recorder is an http.RoundTripper that remembers the shape of every answer
// that passes through it, so that a check can say what came back when a
// client could not use it, or when the client coped with a shape the
// service is not known to give. It keeps no header, no URL and no value.
type recorder struct {
	base http.RoundTripper

	mu   sync.Mutex
	seen []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxRecorded))
	resp.Body.Close()
	// The client reads the same bytes, and meets the same read error.
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	x := exchange{status: resp.StatusCode, mediaType: mt}
	x.shape, x.top = shapeWords.Shape(body)
	r.mu.Lock()
	r.seen = append(r.seen, x)
	r.mu.Unlock()
	return resp, nil
}

// errReader returns err (io.EOF when nil) on every read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

// take returns the answers seen since the last take and forgets them.
func (r *recorder) take() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen
	r.seen = nil
	return s
}

// shapeWords describe an answer in a report's words: "object{…}" for an
// object too deep to show, "bool", keys that could be values hidden.
var shapeWords = remote.ShapeWords{Bool: "bool", Array: "array", Folded: "object{…}", More: "… %d more", Key: safeKey}

// safeKey shows a key unless it could be a value used as a key (an
// address, an id, free text): then only that a key was there.
func safeKey(k string) string {
	if k == "" || len(k) > 40 {
		return "…"
	}
	for _, r := range k {
		ok := r == '_' || r == '@' && k[0] == '@' || r == '.' || r == '$' ||
			r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok {
			return "…"
		}
	}
	if strings.Contains(k[1:], "@") {
		return "…"
	}
	return k
}
