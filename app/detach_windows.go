package app

import (
	"os/exec"
	"syscall"
)

// detach starts cmd without a console of its own and outside this
// process's group, so it outlives it.
func detach(cmd *exec.Cmd) {
	const detachedProcess = 0x00000008
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: detachedProcess | syscall.CREATE_NEW_PROCESS_GROUP}
}
