package autostart

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDesktopEntryExec(t *testing.T) {
	tests := []struct {
		exe, wantExec string
	}{
		{"/usr/bin/mailsync", `Exec="/usr/bin/mailsync"`},
		{"/opt/Mail Sync/mailsync", `Exec="/opt/Mail Sync/mailsync"`},
		{`/home/ann/odd"name/mailsync`, `Exec="/home/ann/odd\\"name/mailsync"`},
		{"/home/ann/$HOME/mailsync", `Exec="/home/ann/\\$HOME/mailsync"`},
		{`/home/ann/back\slash/mailsync`, `Exec="/home/ann/back\\\\slash/mailsync"`},
		{"/home/ann/100%/mailsync", `Exec="/home/ann/100%%/mailsync"`},
	}
	for _, tt := range tests {
		t.Run(tt.exe, func(t *testing.T) {
			entry := DesktopEntry(tt.exe)
			lines := strings.Split(entry, "\n")
			if !slices.Contains(lines, tt.wantExec) {
				t.Errorf("DesktopEntry(%q) has no line %s:\n%s", tt.exe, tt.wantExec, entry)
			}
			for _, want := range []string{"[Desktop Entry]", "Type=Application", "Name=Mail Sync", "Icon=" + IconName, "X-GNOME-Autostart-enabled=true"} {
				if !slices.Contains(lines, want) {
					t.Errorf("DesktopEntry(%q) has no line %s", tt.exe, want)
				}
			}
			if !strings.HasPrefix(entry, "[Desktop Entry]\n") {
				t.Errorf("DesktopEntry does not start with its group header")
			}
			validate(t, entry)
		})
	}
}

// validate runs desktop-file-validate on entry when it is installed.
func validate(t *testing.T, entry string) {
	t.Helper()
	bin, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		t.Log("desktop-file-validate not installed (Debian: desktop-file-utils); content checked by the assertions only")
		return
	}
	path := filepath.Join(t.TempDir(), DesktopFileName)
	if err := os.WriteFile(path, []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("desktop-file-validate: %v\n%s", err, out)
	}
}

func TestLaunchAgentPlist(t *testing.T) {
	for _, exe := range []string{"/Applications/Mail Sync.app/Contents/MacOS/mailsync", "/Users/ann/R&D <tools>/mailsync"} {
		t.Run(exe, func(t *testing.T) {
			got := parsePlist(t, LaunchAgentPlist(exe))
			if got["Label"] != LaunchAgentLabel {
				t.Errorf("Label = %v, want %q", got["Label"], LaunchAgentLabel)
			}
			if args, _ := got["ProgramArguments"].([]string); len(args) != 1 || args[0] != exe {
				t.Errorf("ProgramArguments = %#v, want [%q]", got["ProgramArguments"], exe)
			}
			if got["RunAtLoad"] != true {
				t.Errorf("RunAtLoad = %v, want true", got["RunAtLoad"])
			}
			if got["KeepAlive"] != false {
				t.Errorf("KeepAlive = %v, want false (Quit must stick until next login)", got["KeepAlive"])
			}
		})
	}
}

// parsePlist reads the top-level dict of a property list holding strings,
// booleans and arrays of strings, which is all a LaunchAgent needs.
func parsePlist(t *testing.T, doc string) map[string]any {
	t.Helper()
	var p struct {
		XMLName xml.Name `xml:"plist"`
		Version string   `xml:"version,attr"`
		Dict    struct {
			Items []struct {
				XMLName xml.Name
				Text    string   `xml:",chardata"`
				Strings []string `xml:"string"`
			} `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("plist is not XML: %v\n%s", err, doc)
	}
	if p.Version != "1.0" {
		t.Errorf("plist version = %q, want 1.0", p.Version)
	}
	out := map[string]any{}
	items := p.Dict.Items
	if len(items)%2 != 0 {
		t.Fatalf("dict has %d children, want key/value pairs", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		k, v := items[i], items[i+1]
		if k.XMLName.Local != "key" {
			t.Fatalf("dict child %d is <%s>, want <key>", i, k.XMLName.Local)
		}
		switch v.XMLName.Local {
		case "string":
			out[k.Text] = v.Text
		case "true", "false":
			out[k.Text] = v.XMLName.Local == "true"
		case "array":
			out[k.Text] = v.Strings
		default:
			t.Fatalf("unexpected value <%s> for %s", v.XMLName.Local, k.Text)
		}
	}
	return out
}

func TestRunValue(t *testing.T) {
	tests := []struct{ exe, want string }{
		{`C:\Program Files\Mail Sync\mailsync.exe`, `"C:\Program Files\Mail Sync\mailsync.exe"`},
		{`C:\mailsync.exe`, `"C:\mailsync.exe"`},
	}
	for _, tt := range tests {
		if got := RunValue(tt.exe); got != tt.want {
			t.Errorf("RunValue(%q) = %s, want %s", tt.exe, got, tt.want)
		}
	}
}
