package assets

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"sync"

	"golang.org/x/image/draw"
)

// TraySizes are the sizes of the images in a tray ICO: Windows picks the
// one that fits the notification area at 100–200 % display scaling.
var TraySizes = []int{16, 20, 24, 32, 40, 48, 64}

// ICO converts a PNG into a Windows icon file holding one 32-bit
// (BGRA with alpha) image per size, each scaled from the PNG. Windows'
// tray (Shell_NotifyIcon through LoadImage) takes icons only, not PNGs.
func ICO(pngData []byte, sizes ...int) ([]byte, error) {
	src, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return nil, fmt.Errorf("assets: read PNG: %w", err)
	}
	if len(sizes) == 0 {
		return nil, fmt.Errorf("assets: an icon needs at least one size")
	}
	images := make([][]byte, len(sizes))
	for i, n := range sizes {
		if n < 1 || n > 256 {
			return nil, fmt.Errorf("assets: icon size %d is outside 1–256", n)
		}
		dst := image.NewNRGBA(image.Rect(0, 0, n, n))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		images[i] = dib(dst)
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	// ICONDIR: reserved, type 1 (icon), count.
	b.Write(le.AppendUint16(le.AppendUint16(le.AppendUint16(nil, 0), 1), uint16(len(sizes))))
	offset := 6 + 16*len(sizes)
	for i, n := range sizes {
		side := byte(n)
		if n == 256 {
			side = 0 // 256 is written as 0
		}
		// ICONDIRENTRY: width, height, colours, reserved, planes, bits, size, offset.
		e := []byte{side, side, 0, 0}
		e = le.AppendUint16(e, 1)
		e = le.AppendUint16(e, 32)
		e = le.AppendUint32(e, uint32(len(images[i])))
		e = le.AppendUint32(e, uint32(offset))
		b.Write(e)
		offset += len(images[i])
	}
	for _, img := range images {
		b.Write(img)
	}
	return b.Bytes(), nil
}

// dib is an icon image: a BITMAPINFOHEADER of twice the height (colour
// then mask), the BGRA rows bottom-up, then the 1-bit AND mask (all zero:
// the alpha channel decides).
func dib(m *image.NRGBA) []byte {
	n := m.Bounds().Dx()
	maskStride := (n + 31) / 32 * 4
	le := binary.LittleEndian
	h := make([]byte, 0, 40)
	h = le.AppendUint32(h, 40)
	h = le.AppendUint32(h, uint32(n))
	h = le.AppendUint32(h, uint32(2*n))
	h = le.AppendUint16(h, 1)  // planes
	h = le.AppendUint16(h, 32) // bits per pixel
	h = le.AppendUint32(h, 0)  // BI_RGB
	h = le.AppendUint32(h, uint32(n*n*4+maskStride*n))
	h = append(h, make([]byte, 16)...) // resolution and palette: unused
	out := append(h, make([]byte, n*n*4+maskStride*n)...)
	px := out[40:]
	for y := range n {
		row := m.Pix[(n-1-y)*m.Stride:]
		for x := range n {
			r, g, b, a := row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]
			copy(px[4*(y*n+x):], []byte{b, g, r, a})
		}
	}
	return out
}

var trayICOs sync.Map // icon name → []byte

// TrayICO returns TrayIcon(name) as an ICO at TraySizes, for the Windows
// tray. It is converted from the PNG on first use, so every tray icon,
// present or added later, has one. The returned slice is shared: callers
// must not modify it.
func TrayICO(name string) ([]byte, error) {
	if b, ok := trayICOs.Load(name); ok {
		return b.([]byte), nil
	}
	b, err := ICO(TrayIcon(name), TraySizes...)
	if err != nil {
		return nil, fmt.Errorf("assets: tray icon %q: %w", name, err)
	}
	trayICOs.Store(name, b)
	return b, nil
}
