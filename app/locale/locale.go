// Package locale keeps Fyne quiet about the C locale. Fyne reads the
// locale from LC_ALL, LC_MESSAGES or LANG while its packages initialise,
// and a value such as C.UTF-8 (the default of many containers, services
// and minimal systems) makes it log "Fyne error: Error parsing user locale
// C" on every run of every command. Plain "C" it takes quietly, as English.
//
// Importing this package from main rewrites such a value to "C" before
// Fyne's packages initialise: Go initialises a package whose imports are
// ready before the packages that sort after it by import path, and this
// one imports only os and strings, which text/template (which Fyne's lang
// package waits for) needs too. Restore puts the person's value back, for
// the processes Mail Sync starts (browser, window).
package locale

import (
	"os"
	"strings"
)

// saved is the variable rewritten at init and its value, if any.
var saved struct {
	name, value string
}

func init() {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(name)
		if v == "" {
			continue
		}
		if IsC(v) && v != "C" && v != "POSIX" {
			saved.name, saved.value = name, v
			_ = os.Setenv(name, "C")
		}
		return // the first variable set is the one that counts
	}
}

// IsC reports whether v names the C or POSIX locale, with or without a
// codeset or modifier (C.UTF-8, POSIX, C@euro).
func IsC(v string) bool {
	base, _, _ := strings.Cut(v, ".")
	base, _, _ = strings.Cut(base, "@")
	return base == "C" || base == "POSIX"
}

// Restore gives back the value rewritten at init. Call it once Fyne's
// packages have initialised (first thing in main).
func Restore() {
	if saved.name != "" {
		_ = os.Setenv(saved.name, saved.value)
		saved.name = ""
	}
}
