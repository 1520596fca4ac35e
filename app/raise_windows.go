package app

import "os"

// raiseSignal: Windows delivers no signals but Kill to another process, so a
// second request while a window is open is ignored there.
var raiseSignal os.Signal = nil
