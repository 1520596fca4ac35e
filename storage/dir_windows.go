package storage

import (
	"errors"
	"os"
	"path/filepath"
)

// dirName is the data directory's name under %LOCALAPPDATA%.
const dirName = "Mail Sync"

func defaultDir() (string, error) {
	local := os.Getenv("LOCALAPPDATA")
	if local == "" {
		return "", errors.New("storage: %LOCALAPPDATA% is not set")
	}
	dir := filepath.Join(local, dirName)
	if roaming := os.Getenv("APPDATA"); roaming != "" {
		dir = moveRoaming(filepath.Join(roaming, dirName), dir)
	}
	return dir, nil
}
