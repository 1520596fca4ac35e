package remote

import (
	"fmt"
	"strings"
	"testing"
)

func TestShapeKeepsEachCallersWords(t *testing.T) {
	var keys []string
	for i := range 14 {
		keys = append(keys, fmt.Sprintf(`"k%02d": {"secret": {"deep": true}}`, i))
	}
	raw := []byte("{" + strings.Join(keys, ",") + "}")
	quiet := func(string) string { return "k" }
	for _, tc := range []struct {
		w    ShapeWords
		want string
	}{
		{ShapeWords{Bool: "bool", Array: "array", Folded: "object{…}", More: "… %d more", Key: quiet}, "object{…}"},
		{ShapeWords{Bool: "boolean", Array: "list", Folded: "object", More: "…%d more", Key: quiet}, "object"},
	} {
		shape, top := tc.w.Shape(raw)
		want := "object{" + strings.Repeat("k:object{k:"+tc.want+"},", 12) + fmt.Sprintf(tc.w.More, 2) + "}"
		if shape != want || top != "object" {
			t.Errorf("Shape = %q, %q; want %q, object", shape, top, want)
		}
		if strings.Contains(shape, "secret") || strings.Contains(shape, "true") {
			t.Errorf("Shape = %q shows a value", shape)
		}
		if got := tc.w.TypeOf([]any{}) + " " + tc.w.TypeOf(false); got != tc.w.Array+" "+tc.w.Bool {
			t.Errorf("TypeOf = %q, want %q %q", got, tc.w.Array, tc.w.Bool)
		}
	}
}
