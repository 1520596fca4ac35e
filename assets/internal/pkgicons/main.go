// Command pkgicons writes the app icon in the forms the installers need:
//
//	go run ./assets/internal/pkgicons DIR
//
// DIR/mailsync.ico (16 to 256 pixels, for the Windows installer's shortcut
// and its Apps & features entry) and DIR/hicolor/NxN/apps/mailsync.png (the
// freedesktop icon theme sizes, for the Linux package), all scaled from
// assets/icon.png.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"

	"mailsync/assets"
)

// icoSizes are the sizes Windows picks from for shortcuts and Apps &
// features at 100–300 % scaling.
var icoSizes = []int{16, 20, 24, 32, 40, 48, 64, 256}

// hicolorSizes are the freedesktop hicolor sizes desktops look up.
var hicolorSizes = []int{16, 24, 32, 48, 64, 128, 256}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pkgicons DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "pkgicons:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	src := assets.AppIcon()
	ico, err := assets.ICO(src, icoSizes...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "mailsync.ico"), ico, 0o644); err != nil {
		return err
	}
	img, err := png.Decode(bytes.NewReader(src))
	if err != nil {
		return fmt.Errorf("read the app icon: %w", err)
	}
	for _, n := range hicolorSizes {
		dst := image.NewNRGBA(image.Rect(0, 0, n, n))
		draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
		var b bytes.Buffer
		if err := png.Encode(&b, dst); err != nil {
			return err
		}
		d := filepath.Join(dir, "hicolor", fmt.Sprintf("%dx%d", n, n), "apps")
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "mailsync.png"), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
