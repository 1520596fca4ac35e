package graphtest_test

import (
	"net/url"
	"testing"
)

// TestGraphRefusesOneAddressQueries: the ways to read one address's mail
// that the evidence shows refused or unreliable are refused by the fake
// (docs/evidence.md, "Reading one address's mail"): $filter on recipients
// (ErrorInvalidUrlQueryFilter), and $search, alone or with a $filter, which
// the fake does not implement, so that no client comes to depend on it.
func TestGraphRefusesOneAddressQueries(t *testing.T) {
	g := newMailbox(t)
	for _, q := range []string{
		"$filter=" + url.QueryEscape("toRecipients/any(r:r/emailAddress/address eq 'ann@a.example')"),
		"$search=" + url.QueryEscape(`"participants:ann@a.example"`),
		"$search=" + url.QueryEscape(`"participants:ann@a.example"`) + "&$filter=" + url.QueryEscape("receivedDateTime ge 2026-01-01T00:00:00Z"),
	} {
		status, _, body := call(t, "GET", g.URL+"/me/messages?$select=id&"+q, nil, nil)
		if status != 400 {
			t.Errorf("%s: status %d, want 400: %v", q, status, body)
		}
	}
}
