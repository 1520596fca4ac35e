package agent

import (
	"strings"
	"testing"
	"time"
)

// MAILSYNC_PASS_TIMEOUT bounds a pass; unset it leaves the engine's
// default, and a value that is not a positive duration is refused with
// words naming the variable.
func TestConfigPassTimeout(t *testing.T) {
	t.Setenv("MAILSYNC_HOME", t.TempDir())
	t.Setenv("MAILSYNC_PASS_TIMEOUT", "")
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.PassTimeout != 0 {
		t.Fatalf("unset: %v, %v", cfg.PassTimeout, err)
	}
	t.Setenv("MAILSYNC_PASS_TIMEOUT", "3h30m")
	if cfg, err = ConfigFromEnv(); err != nil || cfg.PassTimeout != 3*time.Hour+30*time.Minute {
		t.Fatalf("3h30m: %v, %v", cfg.PassTimeout, err)
	}
	for _, bad := range []string{"soon", "-1h", "0s"} {
		t.Setenv("MAILSYNC_PASS_TIMEOUT", bad)
		if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "MAILSYNC_PASS_TIMEOUT") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
