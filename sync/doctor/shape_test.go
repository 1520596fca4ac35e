package doctor

import (
	"strings"
	"testing"
)

func TestShapeShowsKeysAndTypesNeverValues(t *testing.T) {
	for _, tc := range []struct {
		body, shape, top string
	}{
		{`{"id": 7, "email": "nancy@northwind.example", "tags": ["secret-tag"]}`, "object{email:string,id:number,tags:array[1] of string}", "object"},
		{`null`, "null", "null"},
		{`[{"id": 1, "email": "a@b.example"}, {"id": 2}]`, "array[2] of object{email:string,id:number}", "array"},
		{`[]`, "array[0]", "array"},
		{``, "an empty body", ""},
		{`<html>maintenance</html>`, "not JSON (24 bytes)", ""},
		{`{"access_token": "eyJhbGciOi.secret", "expires_in": 43200}`, "object{access_token:string,expires_in:number}", "object"},
		// Keys that could be values (an address, free text) are not shown.
		{`{"nancy@northwind.example": 1, "has space": true, "@odata.nextLink": "https://x/?a=b"}`, "object{@odata.nextLink:string,…:bool,…:number}", "object"},
		{`{"a": {"b": {"c": "deep"}}}`, "object{a:object{b:object{…}}}", "object"},
	} {
		shape, top := shapeWords.Shape([]byte(tc.body))
		if shape != tc.shape || top != tc.top {
			t.Errorf("Shape(%s) = %q, %q; want %q, %q", tc.body, shape, top, tc.shape, tc.top)
		}
		for _, secret := range []string{"nancy", "secret", "deep", "https"} {
			if strings.Contains(shape, secret) {
				t.Errorf("Shape(%s) = %q shows a value", tc.body, shape)
			}
		}
	}
}

func TestDetailsHideAddresses(t *testing.T) {
	got := withoutAddresses(`ClientSuccess refused the request (HTTP 400): Contact "Nancy.Davolio@northwind.example" is not valid`)
	if strings.Contains(got, "northwind") || !strings.Contains(got, "<address>") {
		t.Errorf("withoutAddresses left the address: %q", got)
	}
	if got := withoutAddresses("answered HTTP 200, object{@odata.nextLink:string}"); got != "answered HTTP 200, object{@odata.nextLink:string}" {
		t.Errorf("withoutAddresses changed a shape: %q", got)
	}
}

func TestOutcomeReadsAsWords(t *testing.T) {
	for _, o := range []Outcome{Passed, Failed, Skipped} {
		b, err := o.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Outcome
		if err := back.UnmarshalText(b); err != nil || back != o {
			t.Errorf("%s: read back as %v, %v", b, back, err)
		}
	}
	if _, err := Outcome(0).MarshalText(); err == nil {
		t.Error("the zero outcome was written")
	}
}
