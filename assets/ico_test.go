package assets

import (
	"bytes"
	"encoding/binary"
	"image/color"
	"image/png"
	"testing"
)

func TestTrayICOForEveryIcon(t *testing.T) {
	for _, s := range TrayNames() {
		ico, err := TrayICO(s)
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		src, err := png.Decode(bytes.NewReader(TrayIcon(s)))
		if err != nil {
			t.Fatal(err)
		}
		le := binary.LittleEndian
		if le.Uint16(ico[0:]) != 0 || le.Uint16(ico[2:]) != 1 || int(le.Uint16(ico[4:])) != len(TraySizes) {
			t.Fatalf("%v: ICONDIR %x is not an icon of %d images", s, ico[:6], len(TraySizes))
		}
		for i, n := range TraySizes {
			e := ico[6+16*i:]
			size, off := le.Uint32(e[8:]), le.Uint32(e[12:])
			if int(e[0]) != n || int(e[1]) != n || le.Uint16(e[6:]) != 32 {
				t.Fatalf("%v: entry %d is %d×%d at %d bits, want %d×%d at 32", s, i, e[0], e[1], le.Uint16(e[6:]), n, n)
			}
			if int(off+size) > len(ico) {
				t.Fatalf("%v: entry %d runs past the file", s, i)
			}
			d := ico[off : off+size]
			if le.Uint32(d) != 40 || int(le.Uint32(d[4:])) != n || int(le.Uint32(d[8:])) != 2*n || le.Uint16(d[14:]) != 32 {
				t.Fatalf("%v: entry %d has a bad BITMAPINFOHEADER %x", s, i, d[:16])
			}
			if want := 40 + n*n*4 + (n+31)/32*4*n; len(d) != want {
				t.Fatalf("%v: entry %d has %d bytes, want %d", s, i, len(d), want)
			}
			if n != 64 {
				continue
			}
			// At the PNG's own size the pixels are the PNG's, bottom-up, BGRA.
			for _, p := range [][2]int{{32, 32}, {10, 50}, {5, 5}, {60, 12}, {20, 40}} {
				x, y := p[0], p[1]
				c := color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA)
				px := d[40+4*((n-1-y)*n+x):]
				got := color.NRGBA{px[2], px[1], px[0], px[3]}
				if !near(got.A, c.A) || (c.A > 0 && (!near(got.R, c.R) || !near(got.G, c.G) || !near(got.B, c.B))) {
					t.Errorf("%v: pixel (%d,%d) is %v, the PNG has %v", s, x, y, got, c)
				}
			}
		}
	}
}

func near(a, b uint8) bool { return a-b < 3 || b-a < 3 }

func TestICORefusesBadInput(t *testing.T) {
	if _, err := ICO([]byte("not a png"), 16); err == nil {
		t.Error("ICO accepted bytes that are not a PNG")
	}
	if _, err := ICO(AppIcon()); err == nil {
		t.Error("ICO accepted no sizes")
	}
	if _, err := ICO(AppIcon(), 300); err == nil {
		t.Error("ICO accepted a size over 256")
	}
	if ico, err := ICO(AppIcon(), 256); err != nil || ico[6] != 0 {
		t.Errorf("a 256-pixel image must be written as width 0: %v", err)
	}
}
