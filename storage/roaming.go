package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// renameDir is os.Rename; tests make it fail the way a move across volumes
// fails (a roaming profile redirected to a network share), and copyDir fail
// the way a share that drops out halfway does.
var (
	renameDir = os.Rename
	copyDir   = copyTree
)

// moveRoaming moves the data directory an older version kept in old (the
// roaming profile) to dir, once: only when old exists and dir does not. It
// returns the directory to use. A rename does it when both are on one
// volume; when the rename fails (the roaming folder is redirected to a
// network share), the state is copied instead and old removed; when that
// fails too, the state stays in old and is used there, and the next start
// tries again. What failed is logged; nothing here stops a start.
func moveRoaming(old, dir string) string {
	if _, err := os.Stat(old); errors.Is(err, fs.ErrNotExist) {
		return dir
	}
	if _, err := os.Stat(dir); err == nil {
		return dir // moved already, or both exist: never overwrite
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		slog.Warn("storage: could not move the state; using it where it is", "from", old, "to", dir, "err", err)
		return old
	}
	err := renameDir(old, dir)
	if err == nil {
		return dir
	}
	slog.Warn("storage: could not move the state; copying it", "from", old, "to", dir, "err", err)
	// Into a directory beside dir first, so that a copy cut short never
	// looks like a finished move to the next start.
	tmp := dir + ".moving"
	if err := os.RemoveAll(tmp); err != nil {
		slog.Warn("storage: could not copy the state; using it where it is", "from", old, "err", err)
		return old
	}
	if err := copyDir(old, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		slog.Warn("storage: could not copy the state; using it where it is", "from", old, "err", err)
		return old
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		slog.Warn("storage: could not copy the state; using it where it is", "from", old, "err", err)
		return old
	}
	if err := os.RemoveAll(old); err != nil {
		slog.Warn("storage: the state was copied; its old copy could not be removed", "from", old, "err", err)
	}
	return dir
}

// copyTree copies the directories and regular files under src to dst
// (which must not exist) with the data directory's modes; anything else
// (a socket, a link) is left out.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.Mkdir(to, 0o700)
		case d.Type().IsRegular():
			return copyFile(path, to)
		}
		return nil
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
