package agent_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
)

// pageRequest is the hidden id of the sandbox sign-in page's form.
var pageRequest = regexp.MustCompile(`name="request" value="([^"]+)"`)

// Pressing Cancel on the sign-in page (the identity fake then answers
// error=access_denied, as Entra does) ends the sign-in without an account,
// and the status the window shows says it was cancelled, in words.
func TestSignInCancelledInBrowser(t *testing.T) {
	f := newFixture(t)
	f.svc.Identity.AutoApprove(false)
	ctx := ctxFor(t)
	u, err := f.ag.Connect(ctx, false)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	status, page, err := graphtest.Browse(u)
	if err != nil || status != http.StatusOK {
		t.Fatalf("sign-in page: %d %v", status, err)
	}
	m := pageRequest.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-in form on the page: %s", page)
	}
	if _, _, err := graphtest.BrowsePost(u, url.Values{"request": {m[1]}, "action": {"cancel"}}); err != nil {
		t.Fatalf("press Cancel: %v", err)
	}
	acct, err := f.ag.WaitConnected(ctx)
	if acct != nil || err == nil || err.Error() != graph.ErrDeclined.Error() {
		t.Fatalf("WaitConnected = %v, %v; want no account and %q", acct, err, graph.ErrDeclined)
	}
	st, _ := f.ag.Status(ctx)
	if st.Connecting || st.Account != nil || st.SignInError != "Sign-in was cancelled in the browser, so Mail Sync is not connected." {
		t.Errorf("status after Cancel: connecting %v, account %v, sign-in error %q", st.Connecting, st.Account, st.SignInError)
	}
}
