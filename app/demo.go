package app

import (
	"context"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"

	"mailsync/storage"
	"mailsync/sync/agent"
	"mailsync/sync/graphtest"
	"mailsync/sync/sandbox"
)

// SandboxKeyringService is the keyring service of the demo, apart from the
// real app's entries.
const SandboxKeyringService = "Mail Sync sandbox"

// DemoOptions tune `mailsync demo`.
type DemoOptions struct {
	Verbose bool
	// NoWindow and NoTray are for tests that drive the demo through its API.
	NoWindow, NoTray bool
	// NeedsApproval, if set, makes the sandbox's sign-in refuse the way
	// Microsoft does when the organization must approve Mail Sync, until
	// its admin-consent link is accepted: a shape as
	// graphtest.ParseApprovalRefusal reads it ("cancel", "90094@token"…).
	NeedsApproval string
	// Ready, if set, is called with the data directory once the demo agent
	// serves its local API.
	Ready func(dataDir string, svc *sandbox.Services)
}

// RunDemo runs Mail Sync against the built-in sandbox: fakes of the
// Microsoft identity platform, Graph and ClientSuccess on loopback with a
// seeded mailbox, an agent in a temporary data directory signed in to the
// sandbox ClientSuccess, and the settings window. Connect Office 365 opens
// the browser on the sandbox sign-in page. Closing the window ends the demo;
// nothing is left behind, and the real data directory and keyring entries
// are never touched.
func RunDemo(ctx context.Context, env Env, opt DemoOptions) error {
	var refusal *graphtest.ApprovalRefusal
	if opt.NeedsApproval != "" {
		r, err := graphtest.ParseApprovalRefusal(opt.NeedsApproval)
		if err != nil {
			return err
		}
		refusal = r
	}
	w := sandbox.Demo(time.Now())
	svc := sandbox.Start(w)
	defer svc.Close()
	svc.Identity.RequireApproval(refusal)

	dir, err := sandbox.DataDir()
	if err != nil {
		return fmt.Errorf("could not create the sandbox's data directory: %w", err)
	}

	if err := probeKeyring(); err != nil {
		// No Secret Service (a bare desktop or a container): the sandbox's
		// made-up tokens are kept in this process's memory instead.
		fmt.Fprintf(env.Stderr, demoNoKeyring, err)
		keyring.MockInit()
	}

	cfg := agent.Config{
		DataDir:        dir,
		Authority:      svc.Identity.Authority(),
		GraphURL:       svc.Graph.URL,
		CRMURL:         svc.CRM.URL,
		ClientID:       svc.Identity.ClientID(),
		KeyringService: SandboxKeyringService,
		Sandbox:        true,
		Interval:       time.Hour,
	}
	env.ChildEnv = append(env.ChildEnv, "MAILSYNC_SANDBOX=1")
	fmt.Fprintf(env.Stdout, `Mail Sync sandbox — nothing here touches a real account.
  Microsoft 365 (sandbox): %s
  ClientSuccess (sandbox): %s, signed in as %s
  Mailbox: %d seeded messages for %s <%s>
  Data: %s (deleted when the demo ends)
Click "Connect Office 365" in the window, then Accept on the sandbox sign-in page.
Close the window or press Ctrl-C to end the demo.
`, svc.Graph.URL, svc.CRM.URL, w.CRMUser, len(w.Messages), w.Me.DisplayName, w.Me.Mail, dir)

	ready := func(ag *agent.Agent) {
		bg := context.Background()
		if err := ag.CRMLogin(bg, w.CRMUser, w.CRMPassword); err != nil {
			fmt.Fprintf(env.Stderr, "sandbox: ClientSuccess sign-in failed: %v\n", err)
		}
		set, err := ag.Settings(bg)
		if err == nil {
			set.Rules = sandbox.Settings()
			err = ag.SetSettings(bg, set)
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "sandbox: could not apply its settings: %v\n", err)
		}
		if opt.Ready != nil {
			opt.Ready(dir, svc)
		}
	}
	defer func() {
		// Leave no sandbox secrets in the real keyring.
		_ = deleteSandboxSecrets(w)
	}()
	err = RunAgent(ctx, cfg, env, AgentOptions{
		NoWindow:       opt.NoWindow,
		NoTray:         opt.NoTray,
		Verbose:        opt.Verbose,
		QuitWithWindow: !opt.NoWindow,
		Ready:          ready,
	})
	// RunAgent has closed the state file and the log and waited for its
	// window: nothing holds the folder any more (on Windows an open file
	// would keep it).
	if rerr := removeDemoDir(dir); rerr != nil {
		fmt.Fprintf(env.Stderr, demoFolderLeft, dir, rerr)
		if err == nil {
			err = fmt.Errorf("could not remove the demo's temporary folder %s: %w", dir, rerr)
		}
	}
	return err
}

// removeDemoDir removes the demo's data directory (a variable for tests).
var removeDemoDir = sandbox.RemoveDir

func probeKeyring() error {
	const user = "probe"
	if err := keyring.Set(SandboxKeyringService, user, "x"); err != nil {
		return err
	}
	return keyring.Delete(SandboxKeyringService, user)
}

func deleteSandboxSecrets(w *sandbox.World) error {
	s := storage.Secrets{Service: SandboxKeyringService}
	_ = s.Delete(storage.MicrosoftKey(w.Me.Mail))
	return s.Delete(storage.CRMKey(w.CRMUser))
}
