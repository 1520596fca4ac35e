// Package agent is the headless core of the agent process: it owns the
// state file, the keyring secrets, the engine and the scheduler, runs the
// browser sign-in, and answers the local API (it implements agentapi.API).
// The tray, the settings window and the command line are its clients; it
// asks them to open URLs and windows instead of doing so itself, so nothing
// here links a GUI or a browser.
//
// One serve loop owns the agent's facts and is the only writer of them
// (loop.go, whose doc says how to add a command). The files follow the
// concerns: agent.go (opening, closing, passes, pause), accounts.go
// (sign-ins, token sources, the keyring), settings.go (options, setup,
// policy), doctor.go (the read-only checks), words.go (sentences for
// people), config.go (where the state and the services are).
package agent

import (
	"cmp"
	"fmt"
	"os"
	"time"

	"mailsync/storage"
	"mailsync/sync/policy"
	"mailsync/sync/setup"
	"mailsync/sync/words"
)

// Defaults of the real services (ARCHITECTURE.md "Configuration").
const (
	DefaultAuthority = setup.LoginHost + "/" + setup.DefaultTenant
	DefaultGraphURL  = "https://graph.microsoft.com/v1.0"
	DefaultCRMURL    = setup.DefaultCRMAddress + "/v1"
)

// BuildClientID is the Microsoft app (client) ID a build carries, set at
// link time: -ldflags "-X mailsync/sync/agent.BuildClientID=<guid>". Empty
// when the build carries none; the person or the policy then sets one.
var BuildClientID string

// Version is this build's version, set at link time:
// -ldflags "-X mailsync/sync/agent.Version=<v>".
var Version = "dev"

// ErrNoClientID is returned by Connect when no Microsoft app registration is
// configured.
var ErrNoClientID = words.New(noClientID)

// Config says where the agent keeps its state and which services it talks
// to. Authority, CRMURL and ClientID, when set, override what the person
// set (they are the MAILSYNC_* environment, the demo's and the tests'
// services); the organisation's Policy overrides them in turn.
type Config struct {
	DataDir   string
	Authority string // OAuth authority, e.g. https://login.microsoftonline.com/organizations
	GraphURL  string
	CRMURL    string // the ClientSuccess API base, /v1 included
	ClientID  string
	// Policy is what the organisation manages (package policy).
	Policy         policy.Policy
	KeyringService string // storage.DefaultService; the demo uses its own
	// Sandbox marks the demo: the window and tray label it as such.
	Sandbox bool
	// Interval between passes (1 h).
	Interval time.Duration
	// PassTimeout bounds one pass (MAILSYNC_PASS_TIMEOUT); 0 is
	// engine.DefaultPassTimeout.
	PassTimeout time.Duration
}

// ConfigFromEnv reads the MAILSYNC_* variables and the organisation's
// policy. The Microsoft app, directory and ClientSuccess address not set
// there come from what the person set (the state) when the agent opens.
func ConfigFromEnv() (Config, error) {
	dir, err := storage.DefaultDir()
	if err != nil {
		return Config{}, err
	}
	var passTimeout time.Duration
	if v := os.Getenv("MAILSYNC_PASS_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("MAILSYNC_PASS_TIMEOUT=%q: want a duration such as 3h or 90m", v)
		}
		passTimeout = d
	}
	return Config{
		PassTimeout:    passTimeout,
		DataDir:        dir,
		Authority:      os.Getenv("MAILSYNC_AUTHORITY"),
		GraphURL:       cmp.Or(os.Getenv("MAILSYNC_GRAPH_URL"), DefaultGraphURL),
		CRMURL:         os.Getenv("MAILSYNC_CRM_URL"),
		ClientID:       os.Getenv("MAILSYNC_CLIENT_ID"),
		Policy:         policy.Load(),
		KeyringService: cmp.Or(os.Getenv("MAILSYNC_KEYRING_SERVICE"), storage.DefaultService),
		Interval:       time.Hour,
	}, nil
}

// envLayer is the part of cfg that overrides what the person set.
func (c Config) envLayer() setup.Env {
	return setup.Env{Values: setup.Values{ClientID: c.ClientID, CRMURL: c.CRMURL}, Authority: c.Authority}
}
