package doctor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
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
	x.shape, x.top = shapeOf(body)
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

// shapeOf describes a JSON body without its values, and names its top type.
func shapeOf(raw []byte) (shape, top string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "an empty body", ""
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return fmt.Sprintf("not JSON (%d bytes)", len(raw)), ""
	}
	return describe(v, 2), typeName(v)
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	}
	return "unknown"
}

// describe writes v's shape: objects with their keys (sorted) and the types
// of their values, arrays with their length and the shape of their first
// element, down to depth levels.
func describe(v any, depth int) string {
	switch x := v.(type) {
	case map[string]any:
		if depth <= 0 {
			return "object{…}"
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		const most = 12
		parts := make([]string, 0, min(len(keys), most)+1)
		for i, k := range keys {
			if i == most {
				parts = append(parts, fmt.Sprintf("… %d more", len(keys)-most))
				break
			}
			parts = append(parts, safeKey(k)+":"+describe(x[k], depth-1))
		}
		return "object{" + strings.Join(parts, ",") + "}"
	case []any:
		if len(x) == 0 {
			return "array[0]"
		}
		if depth <= 0 {
			return fmt.Sprintf("array[%d]", len(x))
		}
		return fmt.Sprintf("array[%d] of %s", len(x), describe(x[0], depth-1))
	}
	return typeName(v)
}

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
