package policy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"time"
)

// managedDir is where macOS keeps the preferences a configuration profile
// (MDM) manages: per user in a folder of the user's name, and for the
// whole computer.
const managedDir = "/Library/Managed Preferences"

// loadOS reads the managed preferences of BundleID: the user's win over the
// computer's, key by key. Each plist is turned into JSON by plutil, which
// reads both the XML and the binary form.
func loadOS() Policy {
	var files []string
	if u, err := user.Current(); err == nil {
		files = append(files, filepath.Join(managedDir, u.Username, BundleID+".plist"))
	}
	files = append(files, filepath.Join(managedDir, BundleID+".plist"))
	var p Policy
	for _, f := range files {
		p = merge(p, readPlist(f))
	}
	return p
}

func readPlist(name string) Policy {
	if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
		return Policy{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/plutil", "-convert", "json", "-o", "-", name).Output()
	if err != nil {
		return Policy{Source: name, Problems: []string{fmt.Sprintf(preferencesUnreadable, name, err)}}
	}
	return ParseJSON(out, name)
}
