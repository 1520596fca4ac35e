package logs

import (
	"bytes"
	"os"
	"strings"
	"testing"
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
	if !strings.Contains(string(data), `"msg":"hello"`) {
		t.Errorf("log = %s", data)
	}
}
