package agentapi_test

import (
	"context"
	"errors"
	"mailsync/sync/agentapi"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

func TestPipeNameIsPerUserAndPerDataDir(t *testing.T) {
	user, err := agentapi.CurrentUser()
	if err != nil {
		t.Fatal(err)
	}
	a, b := agentapi.Address(`C:\Users\ann\AppData\Local\Mail Sync`), agentapi.Address(`C:\Users\ann\AppData\Local\Mail Sync Demo`)
	if !strings.HasPrefix(a, `\\.\pipe\`) || !strings.Contains(a, user.String()) {
		t.Fatalf("pipe name %q is not a pipe named after the user %s", a, user)
	}
	if a == b {
		t.Fatalf("two data directories share the pipe %q", a)
	}
	if c := agentapi.Address(`c:\users\ann\appdata\local\mail sync\`); c != a {
		t.Fatalf("the same directory spelt differently names another pipe: %q, %q", c, a)
	}
}

// TestPipeAdmitsOnlyTheUser reads back the live agent pipe's security
// descriptor through a client handle.
func TestPipeAdmitsOnlyTheUser(t *testing.T) {
	a := startAgent(t)
	c, err := winio.DialPipeContext(context.Background(), agentapi.Address(a.dir))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sd, err := windows.GetSecurityInfo(windows.Handle(c.(interface{ Fd() uintptr }).Fd()), windows.SE_KERNEL_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	user, _ := agentapi.CurrentUser()
	// Windows reports generic-all (GA) as the pipe's full access (FA).
	got := strings.Replace(sd.String(), "(A;;FA;;;", "(A;;GA;;;", 1)
	if want := "O:" + user.String() + "D:P(A;;GA;;;" + user.String() + ")"; got != want {
		t.Fatalf("pipe security %s, want %s", sd, want)
	}
	if err := agentapi.CheckPipeSecurity(sd, user); err != nil {
		t.Fatalf("the agent's own pipe was refused: %v", err)
	}
}

// TestPipeTakenFirstIsRefused: a pipe of the same name created first by
// another program, with a descriptor that is not the agent's, is neither
// served over (Listen fails) nor talked to (Dial refuses it, without
// saying "not running").
func TestPipeTakenFirstIsRefused(t *testing.T) {
	user, err := agentapi.CurrentUser()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, sddl, want string }{
		{"admits everyone", "O:" + user.String() + "D:(A;;GA;;;WD)(A;;GA;;;" + user.String() + ")", "the pipe also admits S-1-1-0"},
		{"owned by someone else", "O:SYD:P(A;;GA;;;" + user.String() + ")", "the pipe belongs to S-1-5-18"},
		{"no DACL", "O:" + user.String() + "D:NO_ACCESS_CONTROL", "no DACL|does not name the current user"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := shortDir(t)
			squat, err := winio.ListenPipe(agentapi.Address(dir), &winio.PipeConfig{SecurityDescriptor: tc.sddl})
			if err != nil {
				t.Fatalf("create the squatting pipe: %v", err)
			}
			defer squat.Close()
			accepted := make(chan struct{}, 8)
			go func() {
				for {
					c, err := squat.Accept()
					if err != nil {
						return
					}
					accepted <- struct{}{}
					c.Close()
				}
			}()

			if l, err := agentapi.Listen(dir); err == nil || errors.Is(err, agentapi.ErrAgentRunning) {
				if l != nil {
					l.Close()
				}
				t.Fatalf("Listen over a pipe someone else created = %v, want a refusal", err)
			} else if !saysOneOf(err, tc.want) {
				t.Fatalf("Listen error %q does not say %q", err, tc.want)
			}
			c, err := agentapi.Dial(dir)
			if err == nil {
				c.Close()
				t.Fatal("Dial talked to a pipe someone else created")
			}
			if errors.Is(err, agentapi.ErrNoAgent) || !saysOneOf(err, tc.want) {
				t.Fatalf("Dial error %q, want a refusal saying %q", err, tc.want)
			}
		})
	}
}

// TestOtherIdentityCannotOpenThePipe opens the agent's pipe from a thread
// that impersonates another security identity: this user's token with the
// user's SID turned deny-only, which any ACE naming the user no longer
// grants. The pipe's DACL must refuse it at open.
func TestOtherIdentityCannotOpenThePipe(t *testing.T) {
	if underWine() {
		t.Skip("Wine grants deny-only SIDs in access checks; this check needs a real Windows PC")
	}
	a := startAgent(t)
	name := agentapi.Address(a.dir)
	user, _ := agentapi.CurrentUser()
	var tok windows.Token
	disable := []windows.SIDAndAttributes{{Sid: user}}
	if err := createRestrictedToken(windows.GetCurrentProcessToken(), disable, &tok); err != nil {
		t.Fatalf("create a restricted token: %v", err)
	}
	defer tok.Close()
	var imp windows.Token
	if err := windows.DuplicateTokenEx(tok, windows.TOKEN_ALL_ACCESS, nil, windows.SecurityImpersonation, windows.TokenImpersonation, &imp); err != nil {
		t.Fatalf("duplicate the token: %v", err)
	}
	defer imp.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread ends impersonating; it is never reused
		if err := windows.SetThreadToken(nil, imp); err != nil {
			errc <- err
			return
		}
		h, err := windows.CreateFile(windows.StringToUTF16Ptr(name), windows.GENERIC_READ|windows.GENERIC_WRITE,
			0, nil, windows.OPEN_EXISTING, 0, 0)
		if err == nil {
			windows.CloseHandle(h)
		}
		errc <- err
	}()
	err := <-errc
	if !errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		t.Fatalf("opening the pipe as another identity = %v, want access denied", err)
	}
	if calls := a.api.Calls(); len(calls) != 0 {
		t.Fatalf("the other identity reached the API: %v", calls)
	}
	// The user itself still gets in.
	if _, err := a.client.Status(context.Background()); err != nil {
		t.Fatalf("the user's own client: %v", err)
	}
}

var procCreateRestrictedToken = windows.NewLazySystemDLL("advapi32.dll").NewProc("CreateRestrictedToken")

// createRestrictedToken copies tok with the SIDs of disable made deny-only.
func createRestrictedToken(tok windows.Token, disable []windows.SIDAndAttributes, out *windows.Token) error {
	r, _, err := procCreateRestrictedToken.Call(uintptr(tok), 0,
		uintptr(len(disable)), uintptr(unsafe.Pointer(&disable[0])), 0, 0, 0, 0, uintptr(unsafe.Pointer(out)))
	if r == 0 {
		return err
	}
	return nil
}

// underWine reports whether this runs under Wine, whose ntdll exports
// wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// saysOneOf reports whether err's words contain one of the |-separated
// phrases of want.
func saysOneOf(err error, want string) bool {
	for _, w := range strings.Split(want, "|") {
		if strings.Contains(err.Error(), w) {
			return true
		}
	}
	return false
}
