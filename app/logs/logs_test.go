package logs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRedactsSecretKeys(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, 0)
	log.Info("refreshed", "refresh_token", "0.AXcA-very-secret", "accessToken", "eyJ-secret",
		"password", "hunter2", "Authorization", "tok-secret", "code", "M.C-secret", "account", "alex@contoso.example")
	out := buf.String()
	for _, s := range []string{"0.AXcA-very-secret", "eyJ-secret", "hunter2", "tok-secret", "M.C-secret"} {
		if strings.Contains(out, s) {
			t.Errorf("log contains secret %q: %s", s, out)
		}
	}
	if !strings.Contains(out, "alex@contoso.example") || strings.Count(out, Redacted) != 5 {
		t.Errorf("log lost ordinary values or did not redact all five: %s", out)
	}
}

func TestFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	log, c := Open(dir, false)
	log.Info("hello")
	c.Close()
	fi, err := os.Stat(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("log file mode %o is readable by others", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(Path(dir))
	if !strings.Contains(string(data), "msg=hello") {
		t.Errorf("log = %s", data)
	}
}

// The file is what "Open log" shows a person: one text line per record
// (time, level, message, key=value), durations in milliseconds, secrets
// redacted even when they are not strings.
func TestFileIsReadableText(t *testing.T) {
	dir := t.TempDir()
	log, c := Open(dir, false)
	log.Info("pass done", "took", 1234567*time.Microsecond, "account", "alex@contoso.example")
	log.Warn("token refreshed", "wait", 250*time.Microsecond, "refresh_token", []byte("0.AXcA-very-secret"))
	log.Error("pass failed", "err", "Graph said 503", "took", 2*time.Minute)
	c.Close()
	data, err := os.ReadFile(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %d:\n%s", len(lines), text)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^time=\S+ level=INFO msg="pass done" took=1234ms account=alex@contoso.example$`),
		regexp.MustCompile(`^time=\S+ level=WARN msg="token refreshed" wait=<1ms refresh_token=\[redacted\]$`),
		regexp.MustCompile(`^time=\S+ level=ERROR msg="pass failed" err="Graph said 503" took=120000ms$`),
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q, want it to match %s", i+1, lines[i], re)
		}
	}
	if strings.ContainsAny(text, "{}") || strings.Contains(text, "very-secret") {
		t.Errorf("log is not plain redacted text:\n%s", text)
	}
}

func TestMillis(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0ms", 999 * time.Microsecond: "<1ms", time.Millisecond: "1ms",
		1500 * time.Millisecond: "1500ms", 3 * time.Second: "3000ms", -2 * time.Millisecond: "-2ms",
	} {
		if got := Millis(d); got != want {
			t.Errorf("Millis(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestClosedStaysClosed: a record logged after Close does not open the
// file again, so nothing keeps the data directory busy once the agent has
// closed its log (on Windows an open file keeps its folder from being
// removed).
func TestClosedStaysClosed(t *testing.T) {
	dir := t.TempDir()
	log, c := Open(dir, false)
	log.Info("before")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(Path(dir)); err != nil {
		t.Fatal(err)
	}
	log.Info("after close")
	if _, err := os.Stat(Path(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the log file was opened again after Close: %v", err)
	}
}
