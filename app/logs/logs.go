// Package logs writes Mail Sync's log (log/slog, one plain text line per
// record: time, level, message, then key=value pairs) to a size-rotated file
// in the data directory. A person opens this file from the tray, so it is
// text rather than JSON and durations read as milliseconds ("took=1234ms").
// It keeps secrets out: any attribute whose key names a token, password,
// secret, code or authorization is replaced before it is written, whatever
// the caller passed.
//
// Rotation is lumberjack's: it is small, well kept and does the one thing
// (rotate by size, keep N old files) that would otherwise be hand-written.
package logs

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// FileName is the log file in the data directory.
const FileName = "mailsync.log"

// Path is the log file of dataDir.
func Path(dataDir string) string { return filepath.Join(dataDir, FileName) }

// Open returns a logger writing to the log file of dataDir (1 MB per file,
// three old files kept), and the closer of that file. When verbose, records
// also go to stderr.
//
// After Close, records are dropped: lumberjack would open the file again
// on the next write, and an open file keeps its folder from being removed
// on Windows (the demo removes its temporary data directory at the end).
func Open(dataDir string, verbose bool) (*slog.Logger, io.Closer) {
	lj := &lumberjack.Logger{Filename: Path(dataDir), MaxSize: 1, MaxBackups: 3}
	// lumberjack creates files 0600 (and keeps the mode of an existing one).
	f := &closableFile{w: lj}
	var w io.Writer = f
	if verbose {
		w = io.MultiWriter(f, os.Stderr)
	}
	return New(w, slog.LevelInfo), f
}

// closableFile is the log file that stays closed once closed.
type closableFile struct {
	mu     sync.Mutex
	w      *lumberjack.Logger
	closed bool
}

func (f *closableFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return len(p), nil
	}
	return f.w.Write(p)
}

func (f *closableFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return f.w.Close()
}

// New returns a logger on w that writes plain text lines, renders durations
// in milliseconds and redacts secrets.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replace}))
}

// replace is the handler's ReplaceAttr: secrets first (whatever their
// type), then durations as whole milliseconds.
func replace(groups []string, a slog.Attr) slog.Attr {
	a = Redact(groups, a)
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, Millis(a.Value.Duration()))
	}
	return a
}

// Millis renders d as whole milliseconds, "1234ms"; a positive duration
// under a millisecond is "<1ms" rather than a misleading "0ms".
func Millis(d time.Duration) string {
	if d > 0 && d < time.Millisecond {
		return "<1ms"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
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
