package graph

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// batchExample is Microsoft's own JSON batching answer shape: a 200 batch
// whose steps failed 403 and 500 next to successes, ids as strings, a
// Retry-After in a step's headers.
const batchExample = `{"responses":[
{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"body":{"contentType":"text","content":"Hello \u00e9\ud83d\ude00"}}},
{"id":"2","status":403,"headers":{"Content-Type":"application/json"},"body":{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}}},
{"id":"3","status":500,"body":{"error":{"code":"InternalServerError","message":"An internal server error occurred."}}},
{"id":4,"status":"429","headers":{"Retry-After":"2.128"},"body":{"error":{"code":"ApplicationThrottled","message":"Application is over its MailboxConcurrency limit."}}},
{"id":"5","status":424,"body":{"error":{"code":"FailedDependency"}}}]}`

// FuzzBatchAnswer: whatever a batch answer holds, reading it gives no
// panic; what encoding/json reads, decodeCapped reads the same (uncut); cut
// strings keep at most the cap and count what they left out.
func FuzzBatchAnswer(f *testing.F) {
	f.Add([]byte(batchExample), 5)
	f.Add([]byte(`{"responses":[]}`), 0)
	f.Add([]byte(`{"responses":[{"id":"1","status":200,"body":{"body":{"content":"\ud800\u0041 x"}}}]}`), 2)
	f.Add([]byte(`[1,2,{"a":[true,false,null,-1.5e3]}]`), 1)
	f.Add([]byte(`{"responses":[{"id":"1","status":200,"body":"<html>"}]}`), 3)
	f.Fuzz(func(t *testing.T, data []byte, maxChars int) {
		maxChars %= 64
		tree, err := decodeCapped(bytes.NewReader(data), maxChars)
		if err == nil {
			if resps, err := readBatchAnswer(tree); err == nil {
				for i := range resps {
					_, _ = resps[i].messageBody("read")
					_ = resps[i].code()
				}
			}
			checkCapped(t, tree, maxChars)
		}
		if !json.Valid(data) || !utf8.Valid(data) {
			return
		}
		var want any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&want) != nil {
			return
		}
		got, err := decodeCapped(bytes.NewReader(data), 0)
		if err != nil {
			t.Fatalf("encoding/json reads %q, decodeCapped fails: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeCapped(%q) = %#v, encoding/json %#v", data, got, want)
		}
	})
}

// checkCapped checks every string of a tree against the cap.
func checkCapped(t *testing.T, v any, maxChars int) {
	switch v := v.(type) {
	case capped:
		if maxChars <= 0 || utf8.RuneCountInString(v.Kept) != maxChars || v.Omitted <= 0 {
			t.Fatalf("cut string kept %d characters and omitted %d with the cap %d", utf8.RuneCountInString(v.Kept), v.Omitted, maxChars)
		}
	case string:
		if maxChars > 0 && utf8.RuneCountInString(v) > maxChars {
			t.Fatalf("a string of %d characters was not cut at %d", utf8.RuneCountInString(v), maxChars)
		}
	case map[string]any:
		for _, e := range v {
			checkCapped(t, e, maxChars)
		}
	case []any:
		for _, e := range v {
			checkCapped(t, e, maxChars)
		}
	}
}

// FuzzListPage: whatever a page of the message list holds, reading it and
// what the rules ask of each message gives no panic.
func FuzzListPage(f *testing.F) {
	f.Add([]byte(`{"value":[{"id":"AAMk","internetMessageId":"<a@x>","from":{"emailAddress":{"address":"kim@fabrikam.example"}},
"toRecipients":[{"emailAddress":{"name":"Avery","address":"avery@contoso.example"}}],"receivedDateTime":"2026-03-02T12:00:00Z",
"categories":["Private"],"singleValueExtendedProperties":[{"id":"String 0x1a","value":"IPM.Note"},{"id":"Integer 0x36","value":"2"}]}],
"@odata.nextLink":"https://graph.microsoft.com/v1.0/me/messages?$skip=1000"}`))
	f.Add([]byte(`{"value":[{"singleValueExtendedProperties":[{"id":"String","value":""},{"id":"Integer 0x","value":"x"}]}]}`))
	f.Add([]byte(`{"id":"me","proxyAddresses":["SMTP:a@x","smtp:","x500:/o"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var page struct {
			Value    []Message `json:"value"`
			NextLink string    `json:"@odata.nextLink"`
		}
		if json.Unmarshal(data, &page) == nil {
			for i := range page.Value {
				_ = page.Value[i].MessageClass()
				s := page.Value[i].Sensitivity()
				switch s {
				case "", "normal", "personal", "private", "confidential":
				default:
					t.Fatalf("Sensitivity() = %q", s)
				}
			}
		}
		var me Me
		if json.Unmarshal(data, &me) == nil {
			for _, a := range me.Addresses() {
				if a != strings.ToLower(strings.TrimSpace(a)) || a == "" {
					t.Fatalf("address %q not normalised", a)
				}
			}
		}
	})
}

// FuzzIDToken: whatever the token endpoint calls an ID token, reading the
// account from it gives no panic, and claims that hold an address give it.
func FuzzIDToken(f *testing.F) {
	enc := func(claims string) string {
		return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + ".sig"
	}
	f.Add(enc(`{"name":"Ada","preferred_username":"ada@contoso.example","tid":"t"}`))
	f.Add(enc(`{"upn":"x@y","email":7}`))
	f.Add("a.b.c")
	f.Add("..")
	f.Add(enc(`null`))
	f.Fuzz(func(t *testing.T, token string) {
		a, err := AccountFromIDToken(token)
		if err != nil {
			return
		}
		if strings.Count(token, ".") != 2 {
			t.Fatalf("%q is not a JWT, yet it gave %+v", token, a)
		}
	})
}
