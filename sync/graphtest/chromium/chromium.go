// Package chromium drives the sign-in page of the fake identity platform
// (graphtest.Identity) in a real headless Chromium, for end-to-end tests of
// the browser sign-in. It lives apart from graphtest so that `mailsync demo`,
// which links graphtest, does not carry the DevTools client.
package chromium

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Path is the Chromium binary the tests use.
var Path = "/usr/bin/chromium"

// Available reports whether the Chromium binary at Path exists.
func Available() bool {
	fi, err := os.Stat(Path)
	return err == nil && !fi.IsDir()
}

// Options are the flags of a quiet headless Chromium with its own profile in
// userDataDir: no sandbox (tests run as root in containers), no GPU, no
// first-run, background networking, component updates or sync.
func Options(userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(userDataDir),
	}
}

// NewBrowser starts a headless Chromium with a profile in userDataDir and
// returns a chromedp context for one tab of it. cancel stops the browser.
// The browser is started before NewBrowser returns, so that deadlines set on
// contexts derived later bound single actions, not the browser's life.
func NewBrowser(parent context.Context, userDataDir string) (context.Context, context.CancelFunc, error) {
	actx, acancel := chromedp.NewExecAllocator(parent, Options(userDataDir)...)
	bctx, bcancel := chromedp.NewContext(actx)
	cancel := func() { bcancel(); acancel() }
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("chromium: start %s: %w", Path, err)
	}
	return bctx, cancel, nil
}

// Click opens url (the sign-in URL, or the fake's authorize URL) in the
// browser of browserCtx (from NewBrowser), clicks the button with the id
// buttonID ("accept" or "cancel") and waits until the browser has followed
// the redirect and loaded the page that answers it (Mail Sync's loopback
// page). It returns the text of that page. It fails when the button is not
// there or the answer page could not be loaded (for example when nothing
// listens on the redirect URI).
func Click(browserCtx context.Context, signInURL, buttonID string) (string, error) {
	u, err := url.Parse(signInURL)
	if err != nil {
		return "", fmt.Errorf("chromium: parse sign-in URL: %w", err)
	}
	signInOrigin := u.Scheme + "://" + u.Host + "/"
	sel := chromedp.CSS("#" + buttonID)
	if err := chromedp.Do(browserCtx,
		chromedp.Navigate(signInURL),
		chromedp.WaitVisible(sel),
		chromedp.Click(sel),
	); err != nil {
		return "", fmt.Errorf("chromium: click #%s on the sign-in page: %w", buttonID, err)
	}
	type pageState struct {
		Href  string `json:"href"`
		Ready string `json:"ready"`
		Text  string `json:"text"`
	}
	const probe = `({href: location.href, ready: document.readyState, text: document.body ? document.body.innerText : ""})`
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// Errors while the page is being replaced (the execution context
		// goes away) are expected: ask again on the next tick.
		st, err := chromedp.Run(browserCtx, chromedp.Evaluate[pageState](probe))
		if err == nil && st.Ready == "complete" && !strings.HasPrefix(st.Href, signInOrigin) && st.Href != "about:blank" {
			if strings.HasPrefix(st.Href, "chrome-error:") {
				return "", fmt.Errorf("chromium: the browser could not load the answer to the sign-in: %s", firstLine(st.Text))
			}
			return st.Text, nil
		}
		select {
		case <-browserCtx.Done():
			return "", fmt.Errorf("chromium: wait for the answer to the sign-in: %w", browserCtx.Err())
		case <-tick.C:
		}
	}
}

// ClickInBrowser starts a headless Chromium with a throw-away profile, does
// Click, and stops the browser. It gives up after a minute unless ctx ends
// sooner.
func ClickInBrowser(ctx context.Context, signInURL, buttonID string) (string, error) {
	if !Available() {
		return "", errors.New("chromium: no browser at " + Path)
	}
	dir, err := os.MkdirTemp("", "mailsync-chromium-")
	if err != nil {
		return "", fmt.Errorf("chromium: profile directory: %w", err)
	}
	defer os.RemoveAll(dir)
	ctx, cancelTimeout := context.WithTimeout(ctx, time.Minute)
	defer cancelTimeout()
	bctx, cancel, err := NewBrowser(ctx, dir)
	if err != nil {
		return "", err
	}
	defer cancel()
	return Click(bctx, signInURL, buttonID)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
