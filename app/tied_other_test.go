//go:build !linux

package app

import "os/exec"

// StartTied starts cmd; only Linux can tie a child's life to the test
// process (see tied_linux_test.go), elsewhere the cleanups alone end it.
func StartTied(cmd *exec.Cmd) (release func(), err error) {
	return sync1(func() {}), cmd.Start()
}
