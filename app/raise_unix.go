//go:build !windows

package app

import (
	"os"
	"syscall"
)

// raiseSignal asks a running window process to come to the front.
var raiseSignal os.Signal = syscall.SIGUSR1
