package graphtest

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	formPostPattern  = regexp.MustCompile(`(?s)<form method="POST" name="hiddenform"[^>]*action="([^"]*)">(.*?)</form>`)
	formFieldPattern = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)" />`)
)

// Browse visits u the way a browser with script does on the fake identity
// platform: it follows redirects and submits the self-posting form of a
// response_mode=form_post answer. It returns the status and the text of the
// last page. Tests and the demo use it where a person would use a browser
// and the fake auto-approves (AutoApprove).
func Browse(u string) (int, string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return 0, "", err
	}
	return followFormPost(resp)
}

// BrowsePost submits form to u as a browser does, then like Browse.
func BrowsePost(u string, form url.Values) (int, string, error) {
	resp, err := http.PostForm(u, form)
	if err != nil {
		return 0, "", err
	}
	return followFormPost(resp)
}

func followFormPost(resp *http.Response) (int, string, error) {
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return resp.StatusCode, "", err
	}
	page := string(b)
	m := formPostPattern.FindStringSubmatch(page)
	if m == nil {
		return resp.StatusCode, page, nil
	}
	form := url.Values{}
	for _, f := range formFieldPattern.FindAllStringSubmatch(m[2], -1) {
		form.Add(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	action := html.UnescapeString(m[1])
	if !strings.HasPrefix(action, "http://") && !strings.HasPrefix(action, "https://") {
		return resp.StatusCode, page, nil
	}
	post, err := http.PostForm(action, form)
	if err != nil {
		return 0, "", err
	}
	defer post.Body.Close()
	b, err = io.ReadAll(post.Body)
	return post.StatusCode, string(b), err
}
