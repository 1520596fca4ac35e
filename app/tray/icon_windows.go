package tray

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"

	"fyne.io/systray"

	"mailsync/assets"
)

// iconFiles remembers which icons' ICO files are written and were shown.
var iconFiles sync.Map // icon name → path

// setIcon shows the tray icon called name. The Windows notification area takes icons
// only (systray loads a file with LoadImage), so the PNG artwork is given
// as an ICO converted from it. Failures go to the standard logger, which
// the agent sends to its log.
func setIcon(name string) {
	if err := setICO(name); err != nil {
		log.Printf("tray: icon %q: %v", name, err)
	}
}

func setICO(name string) error {
	p, seen := iconFiles.Load(name)
	if !seen {
		ico, err := assets.TrayICO(name)
		if err != nil {
			return err
		}
		dir := filepath.Join(os.TempDir(), "Mail Sync icons")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("write the icon: %w", err)
		}
		p = filepath.Join(dir, "tray-"+name+".ico")
		if err := os.WriteFile(p.(string), ico, 0o600); err != nil {
			return fmt.Errorf("write the icon: %w", err)
		}
	}
	if err := systray.SetIconFromFilePath(p.(string)); err != nil {
		return err
	}
	if !seen {
		iconFiles.Store(name, p)
		log.Printf("tray: icon %q loaded from ICO (%s)", name, p)
	}
	return nil
}
