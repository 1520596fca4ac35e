package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailsync/sync/remote"
)

// pager serves /me/messages with a next link chosen by next(n) for the
// n-th request (from 1); "" ends the list.
func pager(t *testing.T, next func(base string, n int) string) (*Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := int(n.Add(1))
		link := next(srv.URL+"/v1.0", k)
		w.Header().Set("Content-Type", "application/json")
		if link == "" {
			fmt.Fprint(w, `{"value":[{"id":"m"}]}`)
			return
		}
		fmt.Fprintf(w, `{"value":[{"id":"m"}],"@odata.nextLink":%q}`, link)
	}))
	t.Cleanup(srv.Close)
	c := NewClient(srv.URL+"/v1.0", srv.Client())
	c.Policy = remote.Policy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}
	return c, &n
}

func TestListStopsAtARepeatedNextLink(t *testing.T) {
	c, n := pager(t, func(base string, k int) string {
		return base + "/me/messages?$skip=" + fmt.Sprint(1000*min(k, 2))
	})
	err := c.ListMessages(context.Background(), time.Now(), func([]Message) error { return nil })
	var re *remote.Error
	if !errors.As(err, &re) || re.Kind != remote.Permanent || !strings.Contains(re.Message, "already given") {
		t.Fatalf("err = %v, want a permanent error about a repeated next page", err)
	}
	if n.Load() != 3 {
		t.Errorf("%d requests, want 3 (the third repeats the second's link)", n.Load())
	}
}

func TestListStopsAtThePageCap(t *testing.T) {
	old := maxPages
	maxPages = 50
	t.Cleanup(func() { maxPages = old })
	c, n := pager(t, func(base string, k int) string {
		return base + "/me/messages?$skip=" + fmt.Sprint(1000*k)
	})
	pages := 0
	err := c.ListMessages(context.Background(), time.Now(), func([]Message) error { pages++; return nil })
	var re *remote.Error
	if !errors.As(err, &re) || !strings.Contains(re.Message, "more than 50 pages") {
		t.Fatalf("err = %v, want the page cap", err)
	}
	if pages != 50 || n.Load() != 50 {
		t.Errorf("%d pages in %d requests, want 50", pages, n.Load())
	}
	// A list that ends is read to its end.
	c, _ = pager(t, func(base string, k int) string {
		if k == 50 {
			return ""
		}
		return base + "/me/messages?$skip=" + fmt.Sprint(1000*k)
	})
	if err := c.ListMessages(context.Background(), time.Now(), func([]Message) error { return nil }); err != nil {
		t.Errorf("a list of exactly 50 pages: %v", err)
	}
}

// Every decoded answer is bounded: a plain answer over maxAnswer is
// refused with words, and so is a batch answer whose kept text or values
// exceed it, while one whose strings are cut below it is read.
func TestAnswersOverTheCapAreRefused(t *testing.T) {
	old := maxAnswer
	maxAnswer = 4 << 10
	t.Cleanup(func() { maxAnswer = old })
	big := strings.Repeat("x", 8<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"me","displayName":%q}`, big)
	}))
	defer srv.Close()
	c := NewClient(srv.URL, srv.Client())
	c.Policy = remote.Policy{MaxAttempts: 1}
	_, err := c.Me(context.Background())
	var re *remote.Error
	if !errors.As(err, &re) || re.Kind != remote.Permanent || !strings.Contains(re.Message, "larger than") {
		t.Fatalf("err = %v, want a permanent error saying the answer is too large", err)
	}

	many := "[" + strings.Repeat(`1,`, 2000) + "1]"
	if _, err := decodeCapped(strings.NewReader(many), 0); !errors.Is(err, errTooLarge) {
		t.Errorf("2,000 numbers: err = %v, want errTooLarge", err)
	}
	long := `{"a":"` + big + `"}`
	if _, err := decodeCapped(strings.NewReader(long), 0); !errors.Is(err, errTooLarge) {
		t.Errorf("an uncut 8 KB string: err = %v, want errTooLarge", err)
	}
	v, err := decodeCapped(strings.NewReader(long), 100)
	if err != nil {
		t.Fatalf("an 8 KB string cut to 100: %v", err)
	}
	if c := v.(map[string]any)["a"].(capped); len(c.Kept) != 100 || c.Omitted != len(big)-100 {
		t.Errorf("cut to %d, omitted %d", len(c.Kept), c.Omitted)
	}
}
