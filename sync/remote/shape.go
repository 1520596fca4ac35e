package remote

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ShapeWords describes an answer a client could not read by its shape —
// keys and types, never values — in the words of the message the shape
// goes into. Each client keeps its own words (a doctor report says "bool",
// a ClientSuccess error "boolean"); the walk over the answer is this one.
type ShapeWords struct {
	// Bool names a true or false: "bool", "boolean".
	Bool string
	// Array names an array on its own, without its length: "array", "list".
	Array string
	// Folded is what an object deeper than the shape shows reads as:
	// "object", "object{…}".
	Folded string
	// More formats how many keys of an object were left out: "… %d more".
	More string
	// Key shows one key. An answer could use values as keys, so Key must
	// hide or cut what could be one. Shape needs Folded, More and Key;
	// TypeOf does not.
	Key func(string) string
}

// shapeDepth is how many levels of nesting a shape shows.
const shapeDepth = 2

// shapeKeys is how many keys of one object a shape shows.
const shapeKeys = 12

// Shape describes raw, an answer's body, without its values:
// "object{id:number,note:string}", "array[3] of object{…}", "null",
// "an empty body" or "not JSON (N bytes)". top names the JSON type at the
// top (TypeOf), "" when raw is not JSON.
func (w ShapeWords) Shape(raw []byte) (shape, top string) {
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
	return w.describe(v, shapeDepth), w.TypeOf(v)
}

// TypeOf names the JSON type of v, a value encoding/json decoded into an
// any with UseNumber: null, object, Array, string, number, Bool; "unknown"
// for anything else.
func (w ShapeWords) TypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return w.Array
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return w.Bool
	}
	return "unknown"
}

// describe writes v's shape: objects with their keys (sorted) and the
// types of their values, arrays with their length and the shape of their
// first element, down to depth levels.
func (w ShapeWords) describe(v any, depth int) string {
	switch x := v.(type) {
	case map[string]any:
		if depth <= 0 {
			return w.Folded
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, 0, min(len(keys), shapeKeys)+1)
		for i, k := range keys {
			if i == shapeKeys {
				parts = append(parts, fmt.Sprintf(w.More, len(keys)-shapeKeys))
				break
			}
			parts = append(parts, w.Key(k)+":"+w.describe(x[k], depth-1))
		}
		return "object{" + strings.Join(parts, ",") + "}"
	case []any:
		if len(x) == 0 {
			return "array[0]"
		}
		if depth <= 0 {
			return fmt.Sprintf("array[%d]", len(x))
		}
		return fmt.Sprintf("array[%d] of %s", len(x), w.describe(x[0], depth-1))
	}
	return w.TypeOf(v)
}
