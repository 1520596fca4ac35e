package crm

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// The readers face whatever ClientSuccess (or something in between) sends:
// they must never panic, must keep only what they could read, and must
// describe what they could not without repeating it.

var answerSeeds = []string{
	`null`, ``, `[]`, `{}`, `"x"`, `12`,
	`{"id":12182818,"uuid":"cnt_pzda6yfp","clientId":90764325,"email":"test@test.com","firstName":"Jimmy","lastName":"Neutron","client":"TEST_CLIENT"}`,
	`[{"clientId":90336962,"email":"john.smith@address.com","id":10910588}]`,
	`{"data":[{"id":"101","tenantClientId":9001,"tenantClient":{"id":9001},"modifiedTime":1704164645000}],"page":0,"last":false,"totalPages":2}`,
	`[{"id":1,"note":"&lt;p&gt;","createdDateTime":"2019-01-02T03:20:27.000+0000","contactIds":[1,"2",null]}]`,
	`{"userMessage":"Subject is required"}`, `{"error":"invalid_token","error_description":"t"}`,
	`<!DOCTYPE html><html>`, `{"data":null}`, `{"content":[{"id":1e3}]}`, `[{"id":-1}]`, `[{"id":9007199254740993}]`,
}

// noValues fails when the description of an unreadable answer repeats a
// string of it longer than a key could plausibly be.
func noValues(t *testing.T, err error, raw string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if !utf8.ValidString(msg) {
		t.Fatalf("error is not UTF-8: %q", msg)
	}
	if len(raw) > 40 && strings.Contains(msg, raw) {
		t.Fatalf("error repeats the answer: %q", msg)
	}
}

func FuzzReadContacts(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cs, err := readContacts([]byte(raw))
		noValues(t, err, raw)
		for _, c := range cs {
			if c.ID <= 0 || c.ClientID <= 0 {
				t.Fatalf("contact without ids: %+v", c)
			}
		}
		p, err := readContactPage([]byte(raw), 0, 200)
		noValues(t, err, raw)
		// A page with nothing in it ends the listing; one whose contacts
		// were all skipped (no client, no id) does not: the next page may
		// hold usable ones.
		if err == nil && len(p.Contacts) == 0 && len(p.Skipped) == 0 && !p.Last {
			t.Fatal("an empty page that is not the last")
		}
	})
}

func FuzzReadInteractions(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ins, err := readInteractions([]byte(raw))
		noValues(t, err, raw)
		for _, in := range ins {
			if in.ID <= 0 {
				t.Fatalf("interaction without an id: %+v", in)
			}
			if in.ClientID < 0 || in.InteractionTypeID < 0 {
				t.Fatalf("interaction with a negative client or type id: %+v", in)
			}
		}
	})
}

func FuzzReadCreated(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add(s, "")
		f.Add(s, "https://api.clientsuccess.com/v1/clients/7/interactions/556")
	}
	f.Add("", "/v1/clients/7/interactions/%zz")
	f.Fuzz(func(t *testing.T, raw, location string) {
		id, err := readCreated([]byte(raw), location)
		noValues(t, err, raw)
		if err == nil && id <= 0 {
			t.Fatalf("created without an id: %d", id)
		}
	})
}

func FuzzReadErrorAndAuth(f *testing.F) {
	for _, s := range answerSeeds {
		f.Add(s)
	}
	f.Add(`{"access_token":"t","token_type":"Bearer","expires_in":"43200"}`)
	f.Fuzz(func(t *testing.T, raw string) {
		msg := readErrorMessage([]byte(raw))
		if utf8.RuneCountInString(msg) > 201 || strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("error message not short and on one line: %q", msg)
		}
		// error_description is never read: without it the message is the
		// same. (The words "error_description" may well be a message.)
		var o map[string]json.RawMessage
		if json.Unmarshal([]byte(raw), &o) == nil {
			if _, ok := o["error_description"]; ok {
				delete(o, "error_description")
				rest, err := json.Marshal(o)
				if err != nil {
					t.Fatal(err)
				}
				if without := readErrorMessage(rest); without != msg {
					t.Fatalf("read error_description: %q, without it %q", msg, without)
				}
			}
		}
		a, err := readAuth([]byte(raw))
		noValues(t, err, raw)
		if err == nil && a.AccessToken == "" {
			t.Fatal("a sign-in answer without a token was accepted")
		}
		if a.ExpiresIn < 0 {
			t.Fatalf("a sign-in answer read as expiring in %d s", a.ExpiresIn)
		}
		_ = shapeOf([]byte(raw))
	})
}
