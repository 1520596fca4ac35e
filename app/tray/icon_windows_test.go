package tray

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"mailsync/assets"
)

var (
	user32        = windows.NewLazySystemDLL("user32.dll")
	procLoadImage = user32.NewProc("LoadImageW")
	procDestroy   = user32.NewProc("DestroyIcon")
	procIconInfo  = user32.NewProc("GetIconInfo")
)

// TestEveryTrayICOLoads loads each tray icon's ICO the way the notification
// area's icon is loaded (LoadImage from a file), at the small-icon size.
func TestEveryTrayICOLoads(t *testing.T) {
	const imageIcon, lrLoadFromFile = 1, 0x10
	dir := t.TempDir()
	for _, name := range assets.TrayNames() {
		ico, err := assets.TrayICO(name)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".ico")
		if err := os.WriteFile(p, ico, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, size := range []uintptr{16, 32} {
			h, _, err := procLoadImage.Call(0, uintptr(unsafe.Pointer(windows.StringToUTF16Ptr(p))), imageIcon, size, size, lrLoadFromFile)
			if h == 0 {
				t.Fatalf("LoadImage(%s, %d px): %v", name, size, err)
			}
			var info struct {
				fIcon              int32
				xHotspot, yHotspot uint32
				hbmMask, hbmColor  windows.Handle
			}
			if r, _, err := procIconInfo.Call(h, uintptr(unsafe.Pointer(&info))); r == 0 || info.fIcon == 0 || info.hbmColor == 0 {
				t.Errorf("%s at %d px is not a colour icon: %v", name, size, err)
			}
			procDestroy.Call(h)
		}
	}
}
