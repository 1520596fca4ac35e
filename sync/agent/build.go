package agent

// BuildClientID is the application (client) ID of the Entra app
// registration a build carries, set at link time
// (`-ldflags "-X mailsync/sync/agent.BuildClientID=<guid>"`; `make build
// CLIENT_ID=<guid>` does it). Empty when the build carries none.
var BuildClientID string

// Version is the version of this build, set at link time
// (`-X mailsync/sync/agent.Version=<v>`; the Makefile passes what `git
// describe` says). "dev" for a plain `go build`.
var Version = "dev"
