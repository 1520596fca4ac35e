package graph_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"mailsync/sync/graph"
	"mailsync/sync/graphtest"
)

// Every shape in which Microsoft answers a consent problem ends the sign-in
// with an *ApprovalError naming the code (none for the bare answer, which
// is also ErrDeclined), and no token is issued.
func TestSignInConsentShapes(t *testing.T) {
	for _, c := range []struct {
		name     string
		refusal  graphtest.ApprovalRefusal
		code     string
		declined bool
	}{
		{"bare access_denied cancel", graphtest.ApprovalRefusal{}, "", true},
		{"65001 on the redirect", graphtest.ApprovalRefusal{Code: "AADSTS65001"}, graph.ConsentMissing, false},
		{"90094 on the redirect", graphtest.ApprovalRefusal{Code: "AADSTS90094"}, graph.ConsentAdminOnly, false},
		{"90095 on the redirect", graphtest.ApprovalRefusal{Code: "90095"}, graph.ConsentAdminWorkflow, false},
		{"65001 from the token endpoint", graphtest.ApprovalRefusal{Code: "AADSTS65001", AtToken: true}, graph.ConsentMissing, false},
		{"90094 from the token endpoint", graphtest.ApprovalRefusal{Code: "AADSTS90094", AtToken: true}, graph.ConsentAdminOnly, false},
		{"90095 from the token endpoint", graphtest.ApprovalRefusal{Code: "AADSTS90095", AtToken: true}, graph.ConsentAdminWorkflow, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := newIdentity(t)
			id.AutoApprove(true)
			id.RequireApproval(&c.refusal)
			open, pages := browser(func(u string) (string, error) {
				_, page, err := browse(u)
				return page, err
			})
			s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID()), Open: open}
			_, out := startSignIn(t, context.Background(), s)
			r := wait(t, out)
			var ae *graph.ApprovalError
			if r.res != nil || !errors.As(r.err, &ae) {
				t.Fatalf("Run = %v, %v; want an *ApprovalError", r.res, r.err)
			}
			if ae.Code != c.code || ae.Maybe() != (c.code == "") {
				t.Errorf("code %q (maybe %v), want %q", ae.Code, ae.Maybe(), c.code)
			}
			if got := errors.Is(r.err, graph.ErrDeclined); got != c.declined {
				t.Errorf("errors.Is(ErrDeclined) = %v, want %v", got, c.declined)
			}
			if page := <-pages; !strings.Contains(page, "approval link for your IT admin") {
				t.Errorf("browser page = %q", page)
			}
			if n := len(id.Issued()); n != 0 {
				t.Errorf("%d tokens issued", n)
			}
		})
	}
}

// A consent code on an answer that is not access_denied (consent_required,
// invalid_client) is still a consent problem; other AADSTS codes are not.
func TestSignInConsentCodeOnOtherErrors(t *testing.T) {
	for _, c := range []struct {
		errCode, desc string
		approval      bool
	}{
		{"consent_required", "AADSTS65001: The user or administrator has not consented.\r\nTrace ID: 1", true},
		{"invalid_client", "AADSTS65001: The user or administrator has not consented.", true},
		{"access_denied", "AADSTS90094: The grant requires admin permission.", true},
		{"access_denied", "AADSTS53003: Access has been blocked by Conditional Access policies.", false},
		{"server_error", "AADSTS50000: There was an error issuing a token.", false},
	} {
		id := newIdentity(t)
		s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID())}
		authURL, out := startSignIn(t, context.Background(), s)
		port, state := callbackOf(t, authURL)
		q := url.Values{"error": {c.errCode}, "error_description": {c.desc}, "state": {state}}
		if status, err := postWithHost("http://localhost:"+port+"/", q, ""); err != nil || status != http.StatusOK {
			t.Fatalf("callback: %d %v", status, err)
		}
		r := wait(t, out)
		var ae *graph.ApprovalError
		if got := errors.As(r.err, &ae); got != c.approval {
			t.Errorf("%s %q: Run = %v; approval error %v, want %v", c.errCode, c.desc, r.err, got, c.approval)
		}
	}
}

func TestAdminConsentURL(t *testing.T) {
	const client = "11111111-2222-3333-4444-555555555555"
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	graphScopes := "openid profile email https://graph.microsoft.com/User.Read offline_access https://graph.microsoft.com/Mail.Read"
	for _, c := range []struct {
		authority, graphURL, hint string
		want                      string // "" when no link
	}{
		{"https://login.microsoftonline.com/organizations", "https://graph.microsoft.com/v1.0", "", "https://login.microsoftonline.com/organizations/v2.0/adminconsent"},
		{"https://login.microsoftonline.com/organizations", "https://graph.microsoft.com/v1.0", tid, "https://login.microsoftonline.com/" + tid + "/v2.0/adminconsent"},
		{"https://login.microsoftonline.com/common/", "https://graph.microsoft.com/v1.0", "", "https://login.microsoftonline.com/organizations/v2.0/adminconsent"},
		{"https://login.microsoftonline.com/contoso.onmicrosoft.com", "https://graph.microsoft.com/v1.0", tid, "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent"},
		{"https://login.microsoftonline.com/consumers", "https://graph.microsoft.com/v1.0", "", ""},
		{"https://login.microsoftonline.us/" + tid, "https://graph.microsoft.us/v1.0", "", "https://login.microsoftonline.us/" + tid + "/v2.0/adminconsent"},
	} {
		link, ok := graph.AdminConsentURL(c.authority, client, c.graphURL, c.hint)
		if c.want == "" {
			if ok || link != "" {
				t.Errorf("%s: link %q, want none", c.authority, link)
			}
			continue
		}
		u, err := url.Parse(link)
		if !ok || err != nil {
			t.Fatalf("%s: %q, %v", c.authority, link, err)
		}
		q := u.Query()
		if got := u.Scheme + "://" + u.Host + u.Path; got != c.want {
			t.Errorf("%s: endpoint %q, want %q", c.authority, got, c.want)
		}
		res := "https://graph.microsoft.com"
		if strings.Contains(c.graphURL, ".us/") {
			res = "https://graph.microsoft.us"
		}
		wantScope := strings.ReplaceAll(graphScopes, "https://graph.microsoft.com", res)
		if q.Get("client_id") != client || q.Get("redirect_uri") != "http://localhost" || !sameScopes(q.Get("scope"), wantScope) {
			t.Errorf("%s: parameters %v", c.authority, q)
		}
	}
}

// The link works against the identity fake, which checks it as the
// admin-consent documentation describes: an administrator who accepts
// approves the app, and the person's next sign-in connects.
func TestAdminConsentLinkApproves(t *testing.T) {
	id := newIdentity(t)
	id.AutoApprove(true)
	id.RequireApproval(&graphtest.ApprovalRefusal{Code: "AADSTS90094"})
	link, ok := graph.AdminConsentURL(id.URL()+"/organizations", id.ClientID(), "https://graph.microsoft.com/v1.0", "")
	if !ok {
		t.Fatal("no link")
	}
	status, page, err := browse(link)
	if err != nil || status != http.StatusOK || !strings.Contains(page, `id="accept"`) {
		t.Fatalf("admin-consent page: %d %v %s", status, err, page)
	}
	// Entra sends the administrator back to redirect_uri, where nothing
	// listens: the POST's redirect is not followed here.
	req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader(url.Values{"action": {"accept"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "http://localhost?") || !strings.Contains(loc, "admin_consent=True") {
		t.Fatalf("accept answered %d %q", resp.StatusCode, loc)
	}
	if !id.Approved() {
		t.Fatal("the fake did not record the approval")
	}
	open, _ := browser(func(u string) (string, error) { _, p, err := browse(u); return p, err })
	s := &graph.SignIn{Config: graph.OAuthConfig(id.Authority(), id.ClientID()), Open: open}
	_, out := startSignIn(t, context.Background(), s)
	if r := wait(t, out); r.err != nil {
		t.Fatalf("sign-in after approval: %v", r.err)
	}

	// "common" is refused by the endpoint, as the documentation says.
	common := strings.Replace(link, "/organizations/", "/common/", 1)
	if status, _, _ := browse(common); status != http.StatusBadRequest {
		t.Errorf("admin consent for common answered %d, want 400", status)
	}
}
