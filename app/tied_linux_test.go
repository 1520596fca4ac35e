package app

import (
	"os/exec"
	"runtime"
	"syscall"
)

// StartTied starts cmd so that the kernel kills it if the test process dies
// before its cleanups run (a go test -timeout panic, a ^C): an agent left
// behind would keep its tray item, its keyring entries and a deleted data
// directory for as long as the machine runs. Call release after the child has
// been waited for.
//
// Pdeathsig fires when the thread that forked the child exits, not the
// process, so the start happens on a goroutine locked to its thread that
// stays parked until release.
func StartTied(cmd *exec.Cmd) (release func(), err error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		started <- cmd.Start()
		<-done
	}()
	err = <-started
	release = sync1(func() { close(done) })
	if err != nil {
		release()
	}
	return release, err
}
