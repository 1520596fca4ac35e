package graph_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"mailsync/sync/graph"
	"mailsync/sync/graphtest/chromium"
)

// TestSignInInChromium drives the whole sign-in through a real headless
// Chromium: the browser opens the sign-in URL, the fake's page is answered
// with its Accept and then its Cancel button, and the browser posts the
// answer (response_mode=form_post) to the loopback listener, which takes no
// answer in a URL.
func TestSignInInChromium(t *testing.T) {
	if !chromium.Available() {
		t.Skip("no Chromium at " + chromium.Path + "; install the chromium package to run the browser sign-in test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bctx, stop, err := chromium.NewBrowser(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	id := newIdentity(t)
	type outcome struct {
		res      *graph.Result
		err      error
		page     string
		clickErr error
		authURL  string
	}
	run := func(button string) outcome {
		pages := make(chan string, 1)
		clickErrs := make(chan error, 1)
		urls := make(chan string, 1)
		s := &graph.SignIn{
			Config:  graph.OAuthConfig(id.Authority(), id.ClientID()),
			Timeout: time.Minute,
			Open: func(u string) error {
				urls <- u
				go func() {
					page, err := chromium.Click(bctx, u, button)
					pages <- page
					clickErrs <- err
				}()
				return nil
			},
		}
		res, err := s.Run(ctx)
		return outcome{res, err, <-pages, <-clickErrs, <-urls}
	}

	o := run("accept")
	res, err, page, clickErr := o.res, o.err, o.page, o.clickErr
	if clickErr != nil {
		t.Fatalf("browser: %v", clickErr)
	}
	if err != nil {
		t.Fatalf("Run after Accept: %v", err)
	}
	if !strings.Contains(page, "Connected — you can close this tab") {
		t.Errorf("page after Accept = %q", page)
	}
	u, err := url.Parse(o.authURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Query().Get("scope"); !sameScopes(got, sixScopes) || len(strings.Fields(got)) != 6 {
		t.Errorf("the authorize URL asks for %q, want exactly %q", got, sixScopes)
	}
	if got := u.Query().Get("response_mode"); got != "form_post" {
		t.Errorf("response_mode = %q, want form_post", got)
	}
	if st := id.Stats(); st.AuthorizeResponseMode != "form_post" || !sameScopes(st.RedemptionScope, sixScopes) {
		t.Errorf("the identity platform saw response_mode %q and redemption scope %q", st.AuthorizeResponseMode, st.RedemptionScope)
	}
	if !id.ValidAccessToken(res.Token.AccessToken) || res.Token.RefreshToken == "" {
		t.Error("Accept gave no usable token")
	}
	if res.Account.Email != sandboxAccount.Email || res.Account.Name != sandboxAccount.Name || res.Account.TenantID != sandboxAccount.TenantID {
		t.Errorf("account = %+v", res.Account)
	}

	o = run("cancel")
	res, err, page, clickErr = o.res, o.err, o.page, o.clickErr
	if clickErr != nil {
		t.Fatalf("browser: %v", clickErr)
	}
	if !errors.Is(err, graph.ErrDeclined) || res != nil {
		t.Fatalf("Run after Cancel = %v, %v; want ErrDeclined", res, err)
	}
	if !strings.Contains(page, "Sign-in was cancelled in the browser") {
		t.Errorf("page after Cancel = %q", page)
	}
}
