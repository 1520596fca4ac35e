// Package autostart makes Mail Sync start when the person logs in: an XDG
// autostart entry on Linux and other freedesktop systems, a LaunchAgent on
// macOS, a value under HKCU\Software\Microsoft\Windows\CurrentVersion\Run on
// Windows. Each points at the executable given to Enable (the agent, started
// without arguments).
//
// Enable overwrites an existing entry, so it also repairs one that points at
// an old path. Disable removes the entry and leaves nothing behind; disabling
// when nothing is enabled is not an error. The content of each entry comes
// from a pure function (DesktopEntry, LaunchAgentPlist, RunValue) that
// compiles on every OS, so all three are tested everywhere.
package autostart

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// Names of the entry on each OS.
const (
	DesktopFileName  = "mailsync.desktop"   // in $XDG_CONFIG_HOME/autostart
	LaunchAgentLabel = "com.mailsync.agent" // ~/Library/LaunchAgents/<label>.plist
	RunValueName     = "Mail Sync"          // under HKCU\...\Run
	IconName         = "mailsync"           // icon theme name used by the .desktop entry
)

// DesktopEntry returns the XDG autostart .desktop file that starts exe.
// The path is quoted and escaped as the Desktop Entry Specification asks
// for Exec arguments, so paths with spaces, quotes or '%' work.
func DesktopEntry(exe string) string {
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=Mail Sync\n" +
		"Comment=Copies emails with your ClientSuccess contacts to their timelines\n" +
		"Exec=" + desktopExec(exe) + "\n" +
		"Icon=" + IconName + "\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
}

// desktopExec quotes exe for an Exec key: inside double quotes, '"', '`',
// '$' and '\' are backslash-escaped; then, because the value is a string,
// every '\' is escaped again; '%' is doubled so it is not a field code.
func desktopExec(exe string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range exe {
		switch r {
		case '"', '`', '$', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	s := strings.ReplaceAll(b.String(), `\`, `\\`)
	return strings.ReplaceAll(s, "%", "%%")
}

// LaunchAgentPlist returns the launchd property list that starts exe at
// login. KeepAlive is off: Quit in the tray means quit until next login.
func LaunchAgentPlist(exe string) string {
	var esc bytes.Buffer
	xml.EscapeText(&esc, []byte(exe)) // never fails writing to a buffer
	return xml.Header +
		`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n" +
		`<plist version="1.0">` + "\n" +
		"<dict>\n" +
		"\t<key>Label</key>\n\t<string>" + LaunchAgentLabel + "</string>\n" +
		"\t<key>ProgramArguments</key>\n\t<array>\n\t\t<string>" + esc.String() + "</string>\n\t</array>\n" +
		"\t<key>RunAtLoad</key>\n\t<true/>\n" +
		"\t<key>KeepAlive</key>\n\t<false/>\n" +
		"\t<key>ProcessType</key>\n\t<string>Interactive</string>\n" +
		"</dict>\n" +
		"</plist>\n"
}

// RunValue returns the command line stored under the Run key: the quoted
// executable, so a path with spaces ("C:\Program Files\...") is one word.
func RunValue(exe string) string {
	return `"` + exe + `"`
}
