package assets

import (
	"bytes"
	"image"
	"image/png"
	"testing"
)

func TestTrayIcons(t *testing.T) {
	seen := map[string]string{}
	for _, s := range TrayNames() {
		b := TrayIcon(s)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("tray icon for %v is not a PNG: %v", s, err)
		}
		if got := img.Bounds().Size(); got != image.Pt(64, 64) {
			t.Errorf("tray icon for %v is %v, want 64×64", s, got)
		}
		if other, dup := seen[string(b)]; dup {
			t.Errorf("states %v and %v share an icon", other, s)
		}
		seen[string(b)] = s
	}
	if !bytes.Equal(TrayIcon("no such icon"), TrayIcon(TrayError)) {
		t.Error("an unknown name does not get the error icon")
	}
}

func TestAppIcon(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(AppIcon()))
	if err != nil {
		t.Fatalf("app icon is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != image.Pt(256, 256) {
		t.Errorf("app icon is %v, want 256×256", got)
	}
}
