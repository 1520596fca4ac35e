// Package agent is the headless core of the agent process: it owns the
// state file, the keyring secrets, the engine and the scheduler, runs the
// browser sign-in, and answers the local API (it implements agentapi.API).
// The tray, the settings window and the command line are its clients; it
// asks them to open URLs and windows instead of doing so itself, so nothing
// here links a GUI or a browser.
package agent

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"time"

	"mailsync/storage"
)

// Defaults of the real services (ARCHITECTURE.md "Configuration").
const (
	DefaultAuthority = "https://login.microsoftonline.com/organizations"
	DefaultGraphURL  = "https://graph.microsoft.com/v1.0"
	DefaultCRMURL    = "https://api.clientsuccess.com/v1"
)

// ErrNoClientID is returned by Connect when no Entra app registration is
// configured; the README explains how to register one.
var ErrNoClientID = errors.New("No Microsoft app registration is configured: set MAILSYNC_CLIENT_ID to the application (client) ID of your Entra app registration (see the README).")

// Config says where the agent keeps its state and which services it talks to.
type Config struct {
	DataDir        string
	Authority      string // OAuth authority, e.g. https://login.microsoftonline.com/organizations
	GraphURL       string
	CRMURL         string
	ClientID       string
	KeyringService string // storage.DefaultService; the demo uses its own
	// Sandbox marks the demo: the window and tray label it as such.
	Sandbox bool
	// Interval between passes (1 h).
	Interval time.Duration
	// PassTimeout bounds one pass (MAILSYNC_PASS_TIMEOUT); 0 is
	// engine.DefaultPassTimeout.
	PassTimeout time.Duration
}

// ConfigFromEnv reads the MAILSYNC_* variables over the defaults.
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
		Authority:      cmp.Or(os.Getenv("MAILSYNC_AUTHORITY"), DefaultAuthority),
		GraphURL:       cmp.Or(os.Getenv("MAILSYNC_GRAPH_URL"), DefaultGraphURL),
		CRMURL:         cmp.Or(os.Getenv("MAILSYNC_CRM_URL"), DefaultCRMURL),
		ClientID:       os.Getenv("MAILSYNC_CLIENT_ID"),
		KeyringService: cmp.Or(os.Getenv("MAILSYNC_KEYRING_SERVICE"), storage.DefaultService),
		Interval:       time.Hour,
	}, nil
}
