// Package winetest checks the Windows build of Mail Sync from Linux: the
// exe's PE header and resources, and the agent run under Wine against the
// sandbox services. It has tests only; `make test-windows` runs them inside
// .ci/wine-session with MAILSYNC_WINDOWS_EXE naming bin/mailsync.exe.
package winetest
