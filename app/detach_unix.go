//go:build !windows

package app

import (
	"os/exec"
	"syscall"
)

// detach puts cmd in a session of its own, so it outlives the process that
// started it and its terminal.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
