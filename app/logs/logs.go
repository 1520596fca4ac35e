// Package logs writes Mail Sync's structured log (log/slog, JSON lines) to
// a size-rotated file in the data directory and keeps secrets out of it: any
// attribute whose key names a token, password, secret, code or
// authorization is replaced before it is written, whatever the caller
// passed.
//
// Rotation is lumberjack's: it is small, well kept and does the one thing
// (rotate by size, keep N old files) that would otherwise be hand-written.
package logs

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/natefinch/lumberjack.v2"
)

// FileName is the log file in the data directory.
const FileName = "mailsync.log"

// Path is the log file of dataDir.
func Path(dataDir string) string { return filepath.Join(dataDir, FileName) }

// Open returns a logger writing to the log file of dataDir (1 MB per file,
// three old files kept), and the closer of that file. When verbose, records
// also go to stderr.
func Open(dataDir string, verbose bool) (*slog.Logger, io.Closer) {
	lj := &lumberjack.Logger{Filename: Path(dataDir), MaxSize: 1, MaxBackups: 3}
	// lumberjack creates files 0600 (and keeps the mode of an existing one).
	var w io.Writer = lj
	if verbose {
		w = io.MultiWriter(lj, os.Stderr)
	}
	return New(w, slog.LevelInfo), lj
}

// New returns a JSON logger on w that redacts secrets.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: Redact}))
}

// Redacted is what a secret is replaced with.
const Redacted = "[redacted]"

var secretWords = []string{"token", "password", "passwd", "secret", "authorization", "cookie", "code", "verifier", "assertion"}

// Redact is a slog ReplaceAttr that hides the values of secret-looking keys.
func Redact(_ []string, a slog.Attr) slog.Attr {
	k := strings.ToLower(a.Key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return slog.String(a.Key, Redacted)
		}
	}
	return a
}
