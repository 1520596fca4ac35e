package winetest

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"image/png"
	"os"
	"testing"
)

// windowsExe returns the exe under test. Outside `make test-windows` (no
// MAILSYNC_WINDOWS_EXE) the Windows checks are skipped with that reason;
// under it a missing exe fails.
func windowsExe(t *testing.T) string {
	t.Helper()
	exe := os.Getenv("MAILSYNC_WINDOWS_EXE")
	if exe == "" {
		t.Skip("checks the Windows build: run by `make test-windows` (MAILSYNC_WINDOWS_EXE unset)")
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("the Windows build: %v", err)
	}
	return exe
}

// Resource types (winuser.h).
const (
	rtIcon      = 3
	rtGroupIcon = 14
	rtVersion   = 16
	rtManifest  = 24
)

// TestExeIsAGUIProgramWithIcon: the login item and the tray start the exe
// without a console window, and Explorer shows the app's icon.
func TestExeIsAGUIProgramWithIcon(t *testing.T) {
	f, err := pe.Open(windowsExe(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatalf("optional header %T, want a 64-bit PE", f.OptionalHeader)
	}
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		t.Errorf("subsystem %d, want %d (Windows GUI): a console would open at login", oh.Subsystem, pe.IMAGE_SUBSYSTEM_WINDOWS_GUI)
	}

	dir := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE]
	if dir.VirtualAddress == 0 || dir.Size == 0 {
		t.Fatal("the exe has no resources")
	}
	var rsrc *pe.Section
	for _, s := range f.Sections {
		if dir.VirtualAddress >= s.VirtualAddress && dir.VirtualAddress < s.VirtualAddress+s.VirtualSize {
			rsrc = s
		}
	}
	if rsrc == nil {
		t.Fatal("no section holds the resource directory")
	}
	data, err := rsrc.Data()
	if err != nil {
		t.Fatal(err)
	}
	base := dir.VirtualAddress - rsrc.VirtualAddress
	res := resources{data: data[base:], rva: dir.VirtualAddress}
	types := res.entries(t, 0)
	for _, want := range []uint32{rtIcon, rtGroupIcon, rtVersion, rtManifest} {
		if _, ok := types[want]; !ok {
			t.Errorf("no resource of type %d (have %v)", want, keys(types))
		}
	}
	// Every icon image is a PNG or a DIB; the largest is at least 64 px.
	largest := 0
	for _, nameOff := range res.entries(t, types[rtIcon]) {
		for _, langOff := range res.entries(t, nameOff) {
			img := res.leaf(t, langOff, data, rsrc.VirtualAddress)
			switch {
			case bytes.HasPrefix(img, []byte("\x89PNG")):
				cfg, err := png.DecodeConfig(bytes.NewReader(img))
				if err != nil {
					t.Fatalf("icon PNG: %v", err)
				}
				largest = max(largest, cfg.Width)
			case len(img) >= 40 && binary.LittleEndian.Uint32(img) == 40:
				largest = max(largest, int(binary.LittleEndian.Uint32(img[4:])))
			default:
				t.Fatalf("an icon image is neither PNG nor DIB: %x", img[:min(8, len(img))])
			}
		}
	}
	if largest < 64 {
		t.Errorf("the largest icon image is %d px, want the app icon at 64 px or more", largest)
	}
}

// resources reads an IMAGE_RESOURCE_DIRECTORY tree.
type resources struct {
	data []byte // from the root directory on
	rva  uint32 // of the root directory
}

// entries returns the id (or name offset) → offset of the entries of the
// directory at off. High bits mark subdirectories and names.
func (r resources) entries(t *testing.T, off uint32) map[uint32]uint32 {
	t.Helper()
	le := binary.LittleEndian
	if int(off)+16 > len(r.data) {
		t.Fatalf("resource directory at %d is outside the section", off)
	}
	d := r.data[off:]
	n := int(le.Uint16(d[12:])) + int(le.Uint16(d[14:]))
	out := map[uint32]uint32{}
	for i := range n {
		e := d[16+8*i:]
		out[le.Uint32(e)] = le.Uint32(e[4:]) &^ 0x80000000
	}
	return out
}

// leaf returns the bytes of the data entry at off.
func (r resources) leaf(t *testing.T, off uint32, section []byte, sectionRVA uint32) []byte {
	t.Helper()
	le := binary.LittleEndian
	e := r.data[off:]
	rva, size := le.Uint32(e), le.Uint32(e[4:])
	start := rva - sectionRVA
	if int(start+size) > len(section) {
		t.Fatalf("resource data at RVA %#x runs past its section", rva)
	}
	return section[start : start+size]
}

func keys(m map[uint32]uint32) []uint32 {
	var out []uint32
	for k := range m {
		out = append(out, k)
	}
	return out
}
