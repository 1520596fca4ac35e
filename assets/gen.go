//go:build ignore

// gen draws the tray icons and the app icon and writes them as PNGs next to
// this file. Run it from the module root with `go run assets/gen.go`; the
// PNGs are committed and embedded by assets.go, so a build never needs it.
//
// The shapes are described in unit coordinates (0..1, y down) and rendered
// with supersampling, so the same description gives a crisp 64×64 tray icon
// and a 256×256 app icon without any image dependency beyond the standard
// library.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// shape reports whether the unit-space point (x, y) is inside.
type shape func(x, y float64) bool

// layer paints shape in colour c over what lies below; a clear layer erases
// instead, which is how the badge gets a transparent gap around it.
type layer struct {
	in    shape
	c     color.NRGBA
	clear bool
}

func rgb(hex uint32) color.NRGBA {
	return color.NRGBA{uint8(hex >> 16), uint8(hex >> 8), uint8(hex), 0xff}
}

var (
	ink       = rgb(0x37474F) // envelope outline: readable on light and dark panels
	paper     = rgb(0xF7F9FB)
	white     = rgb(0xFFFFFF)
	green     = rgb(0x2E9E4F)
	blue      = rgb(0x1E78D7)
	amber     = rgb(0xF2A900)
	amberInk  = rgb(0x3A2A00)
	red       = rgb(0xD93025)
	grey      = rgb(0x757575)
	lightGrey = rgb(0x9AA0A6)
	indigo    = rgb(0x3F51B5)
)

func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return math.Hypot(x-cx, y-cy) <= r
	}
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) bool { return math.Hypot(x-cx, y-cy) <= r }
}

func ring(cx, cy, r, w float64) shape {
	return func(x, y float64) bool { return math.Abs(math.Hypot(x-cx, y-cy)-r) <= w/2 }
}

// arc is a ring limited to angles a0..a1 (radians, clockwise on screen).
func arc(cx, cy, r, w, a0, a1 float64) shape {
	rg := ring(cx, cy, r, w)
	return func(x, y float64) bool {
		if !rg(x, y) {
			return false
		}
		a := math.Atan2(y-cy, x-cx)
		for a < a0 {
			a += 2 * math.Pi
		}
		return a <= a1
	}
}

// segment is a stroke with round caps from a to b, w wide.
func segment(ax, ay, bx, by, w float64) shape {
	return func(x, y float64) bool {
		dx, dy := bx-ax, by-ay
		t := ((x-ax)*dx + (y-ay)*dy) / (dx*dx + dy*dy)
		t = math.Max(0, math.Min(1, t))
		return math.Hypot(x-(ax+t*dx), y-(ay+t*dy)) <= w/2
	}
}

func triangle(ax, ay, bx, by, cx, cy float64) shape {
	side := func(px, py, qx, qy, x, y float64) float64 { return (qx-px)*(y-py) - (qy-py)*(x-px) }
	return func(x, y float64) bool {
		d1 := side(ax, ay, bx, by, x, y)
		d2 := side(bx, by, cx, cy, x, y)
		d3 := side(cx, cy, ax, ay, x, y)
		neg := d1 < 0 || d2 < 0 || d3 < 0
		pos := d1 > 0 || d2 > 0 || d3 > 0
		return !(neg && pos)
	}
}

func union(ss ...shape) shape {
	return func(x, y float64) bool {
		for _, s := range ss {
			if s(x, y) {
				return true
			}
		}
		return false
	}
}

func minus(a, b shape) shape { return func(x, y float64) bool { return a(x, y) && !b(x, y) } }

// syncArrows is two clockwise arcs, each ending in an arrowhead: the
// conventional "sync" sign.
func syncArrows(cx, cy, r, w float64) shape {
	var parts []shape
	for _, start := range []float64{math.Pi * 0.05, math.Pi * 1.05} {
		end := start + math.Pi*0.72
		parts = append(parts, arc(cx, cy, r, w, start, end))
		px, py := cx+r*math.Cos(end), cy+r*math.Sin(end)
		tx, ty := -math.Sin(end), math.Cos(end) // clockwise tangent
		nx, ny := math.Cos(end), math.Sin(end)  // outward normal
		h, b := w*1.5, w*1.25
		parts = append(parts, triangle(px+tx*h, py+ty*h, px+nx*b, py+ny*b, px-nx*b, py-ny*b))
	}
	return union(parts...)
}

// envelope returns the body and the flap of an envelope in the box.
func envelope(x0, y0, x1, y1, w float64) (body, outline, flap shape) {
	r := (y1 - y0) * 0.12
	body = roundRect(x0, y0, x1, y1, r)
	outline = minus(body, roundRect(x0+w, y0+w, x1-w, y1-w, math.Max(r-w, 0.001)))
	mx, my := (x0+x1)/2, y0+(y1-y0)*0.55
	inset := w * 0.9
	flap = union(segment(x0+inset, y0+inset, mx, my, w), segment(x1-inset, y0+inset, mx, my, w))
	return body, outline, flap
}

// Badge geometry of the tray icons: bottom right, overlapping the envelope.
const (
	bx, by, br = 0.73, 0.70, 0.255
	gap        = 0.06
)

func trayIcon(badge []layer, hollow bool) []layer {
	body, outline, flap := envelope(0.04, 0.14, 0.86, 0.72, 0.075)
	var ls []layer
	if hollow {
		ls = append(ls, layer{in: union(outline, flap), c: lightGrey})
	} else {
		ls = append(ls, layer{in: body, c: paper}, layer{in: union(outline, flap), c: ink})
	}
	ls = append(ls, layer{in: circle(bx, by, br+gap), clear: true})
	return append(ls, badge...)
}

func disk(c color.NRGBA) layer { return layer{in: circle(bx, by, br), c: c} }

func badges() map[string][]layer {
	w := 0.075
	return map[string][]layer{
		"signedout": {{in: ring(bx, by, br-w/2, w), c: lightGrey},
			{in: segment(bx-br*0.45, by, bx+br*0.45, by, w), c: lightGrey}},
		"idle": {disk(green),
			{in: union(segment(bx-br*0.48, by+br*0.02, bx-br*0.12, by+br*0.38, w),
				segment(bx-br*0.12, by+br*0.38, bx+br*0.5, by-br*0.34, w)), c: white}},
		"syncing": {disk(blue), {in: syncArrows(bx, by, br*0.56, w*0.8), c: white}},
		"reconnect": {disk(amber),
			{in: union(segment(bx, by-br*0.52, bx, by+br*0.12, w*1.1), circle(bx, by+br*0.48, w*0.62)), c: amberInk}},
		"error": {disk(red),
			{in: union(segment(bx-br*0.4, by-br*0.4, bx+br*0.4, by+br*0.4, w),
				segment(bx-br*0.4, by+br*0.4, bx+br*0.4, by-br*0.4, w)), c: white}},
		// A person: sign in to ClientSuccess.
		"crmsignedout": {disk(indigo),
			{in: union(circle(bx, by-br*0.28, br*0.26),
				minus(circle(bx, by+br*0.62, br*0.52), func(x, y float64) bool { return y > by+br*0.58 })), c: white}},
		"paused": {disk(grey),
			{in: union(roundRect(bx-br*0.42, by-br*0.45, bx-br*0.12, by+br*0.45, 0.012),
				roundRect(bx+br*0.12, by-br*0.45, bx+br*0.42, by+br*0.45, 0.012)), c: white}},
	}
}

// appIcon is a blue rounded square with a white envelope and a sync badge.
func appIcon() []layer {
	body, outline, flap := envelope(0.16, 0.24, 0.84, 0.74, 0.045)
	const cx, cy, r = 0.72, 0.71, 0.17
	return []layer{
		{in: roundRect(0.02, 0.02, 0.98, 0.98, 0.2), c: blue},
		{in: body, c: white},
		{in: union(outline, flap), c: rgb(0x155AA8)},
		{in: circle(cx, cy, r+0.035), c: blue},
		{in: circle(cx, cy, r), c: green},
		{in: syncArrows(cx, cy, r*0.56, 0.042), c: white},
	}
}

// render draws the layers at size×size pixels, ss×ss samples per pixel.
// With hardAlpha every pixel ends fully opaque or fully transparent:
// fyne.io/systray v1.12 hands the desktop premultiplied channels truncated
// to their low byte, which speckles semi-transparent edge pixels with stray
// colours; the panel smooths the outline anyway when it scales the icon
// down to 22–24 px. Edges inside the icon stay antialiased.
func render(size, ss int, ls []layer, hardAlpha bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/float64(ss)) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/float64(ss)) / float64(size)
					var cr, cg, cb, ca float64 // premultiplied, one sample
					for _, l := range ls {
						if !l.in(x, y) {
							continue
						}
						if l.clear {
							cr, cg, cb, ca = 0, 0, 0, 0
							continue
						}
						la := float64(l.c.A) / 255
						cr = float64(l.c.R)/255*la + cr*(1-la)
						cg = float64(l.c.G)/255*la + cg*(1-la)
						cb = float64(l.c.B)/255*la + cb*(1-la)
						ca = la + ca*(1-la)
					}
					r, g, b, a = r+cr, g+cg, b+cb, a+ca
				}
			}
			n := float64(ss * ss)
			r, g, b, a = r/n, g/n, b/n, a/n
			if a == 0 || hardAlpha && a < 0.5 {
				continue
			}
			col := color.NRGBA{
				R: uint8(math.Round(r / a * 255)), G: uint8(math.Round(g / a * 255)),
				B: uint8(math.Round(b / a * 255)), A: uint8(math.Round(a * 255)),
			}
			if hardAlpha {
				col.A = 0xff
			}
			img.SetNRGBA(px, py, col)
		}
	}
	return img
}

func write(dir, name string, img image.Image) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		fmt.Fprintln(os.Stderr, "gen: encode", name+":", err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen: write", name+":", err)
		os.Exit(1)
	}
}

func main() {
	dir := "assets"
	if _, err := os.Stat(filepath.Join(dir, "assets.go")); err != nil {
		dir = "." // run from inside assets/
	}
	for name, badge := range badges() {
		write(dir, "tray_"+name+".png", render(64, 8, trayIcon(badge, name == "signedout"), true))
	}
	write(dir, "icon.png", render(256, 4, appIcon(), false))
}
