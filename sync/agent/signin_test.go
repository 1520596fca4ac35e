package agent_test

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"mailsync/sync/agent"
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

// Each shape of "your organization must approve Mail Sync" ends the
// sign-in with words that say so (both possibilities for the bare answer
// that looks like a Cancel) and the admin-consent link for the configured
// app and directory, on the status the window renders and from
// WaitConnected as `mailsync connect` prints it. A new sign-in clears both.
func TestSignInNeedsApproval(t *testing.T) {
	for _, c := range []struct {
		name    string
		refusal graphtest.ApprovalRefusal
		words   []string
	}{
		{"bare", graphtest.ApprovalRefusal{}, []string{"Either you cancelled the sign-in, or your organization needs an administrator"}},
		{"65001", graphtest.ApprovalRefusal{Code: "AADSTS65001"}, []string{"has not been approved to read your mail"}},
		{"90094", graphtest.ApprovalRefusal{Code: "AADSTS90094"}, []string{"allows only administrators to approve"}},
		{"90095 at token", graphtest.ApprovalRefusal{Code: "AADSTS90095", AtToken: true}, []string{"needs an administrator to approve Mail Sync"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.svc.Identity.RequireApproval(&c.refusal)
			ctx := ctxFor(t)
			if _, err := f.ag.Connect(ctx, true); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			acct, err := f.ag.WaitConnected(ctx)
			var need *agent.ApprovalNeeded
			if acct != nil || !errors.As(err, &need) {
				t.Fatalf("WaitConnected = %v, %v; want *ApprovalNeeded", acct, err)
			}
			want, _ := graph.AdminConsentURL(f.cfg.Authority, f.cfg.ClientID, f.cfg.GraphURL, "")
			if want == "" || need.URL != want {
				t.Errorf("link %q, want %q", need.URL, want)
			}
			st, _ := f.ag.Status(ctx)
			if st.ApprovalURL != want || st.SignInError != need.Words {
				t.Errorf("status: link %q, words %q", st.ApprovalURL, st.SignInError)
			}
			for _, w := range append(c.words, "Send them the approval link below") {
				if !strings.Contains(need.Words, w) {
					t.Errorf("words %q lack %q", need.Words, w)
				}
			}
			if strings.Contains(need.Words, "AADSTS") {
				t.Errorf("words carry Microsoft's code: %q", need.Words)
			}
			// The administrator approves; the next sign-in connects and
			// the message and link are gone.
			if status, _, err := graphtest.Browse(need.URL); err != nil || status != http.StatusOK {
				t.Fatalf("admin-consent page: %d %v", status, err)
			}
			f.svc.Identity.RequireApproval(nil)
			f.connect(t)
			if st, _ := f.ag.Status(ctx); st.ApprovalURL != "" || st.SignInError != "" {
				t.Errorf("after connecting: link %q, words %q", st.ApprovalURL, st.SignInError)
			}
		})
	}
}

// With a directory that has no administrator ("consumers") there is no
// link to give: the words do not promise one.
func TestSignInNeedsApprovalWithoutLink(t *testing.T) {
	f := newFixture(t)
	f.ag.Close()
	f.cfg.Authority = f.svc.Identity.URL() + "/consumers"
	f.open(t)
	f.svc.Identity.RequireApproval(&graphtest.ApprovalRefusal{Code: "AADSTS90094"})
	ctx := ctxFor(t)
	if _, err := f.ag.Connect(ctx, true); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	acct, err := f.ag.WaitConnected(ctx)
	var need *agent.ApprovalNeeded
	if acct != nil || err == nil || errors.As(err, &need) {
		t.Fatalf("WaitConnected = %v, %v; want words without a link", acct, err)
	}
	if !strings.Contains(err.Error(), "allows only administrators") || strings.Contains(err.Error(), "link") {
		t.Errorf("words %q", err)
	}
	if st, _ := f.ag.Status(ctx); st.ApprovalURL != "" {
		t.Errorf("status carries a link %q", st.ApprovalURL)
	}
}
