package engine

import (
	"maps"
	"testing"
)

func TestBoardNeverBlocksAndKeepsNewest(t *testing.T) {
	b := NewBoard(Status{})
	ch, stop := b.Subscribe()
	defer stop()
	if s := <-ch; s.State != SignedOut {
		t.Fatalf("first status = %v", s.State)
	}
	// Nobody reads while 1,000 updates are published: none may block.
	for i := range 1000 {
		b.Update(func(s *Status) { s.Running = true; s.Progress = &Progress{Done: i, Total: 1000} })
	}
	s := <-ch
	if s.Progress == nil || s.Progress.Done != 999 {
		t.Fatalf("reader got %+v, want the newest update", s.Progress)
	}
	select {
	case s := <-ch:
		t.Fatalf("stale update left in channel: %+v", s)
	default:
	}
}

func TestBoardCopiesAreIndependent(t *testing.T) {
	b := NewBoard(Status{LastCounts: PassCounts{Skipped: map[string]int{"junk folder": 1}}})
	got := b.Get()
	got.LastCounts.Skipped["junk folder"] = 99
	if b.Get().LastCounts.Skipped["junk folder"] != 1 {
		t.Fatal("a copy shares its map with the board")
	}
}

func TestBoardUnsubscribeCloses(t *testing.T) {
	b := NewBoard(Status{})
	ch, stop := b.Subscribe()
	<-ch
	stop()
	stop() // idempotent
	if _, ok := <-ch; ok {
		t.Fatal("channel open after stop")
	}
	b.Update(func(s *Status) { s.Paused = true }) // must not panic on a closed channel
}

// TestDerive covers every combination of the facts: the state is decided
// by Derive alone, in its order of precedence.
func TestDerive(t *testing.T) {
	acct := &Account{Email: "ann@example.com"}
	for mask := range 1 << 7 {
		s := Status{}
		has := func(bit int) bool { return mask&(1<<bit) != 0 }
		if has(0) {
			s.Account = acct
		}
		if has(1) {
			s.CRMUser = "ann"
		}
		if has(2) {
			s.Reconnect = "revoked"
		}
		if has(3) {
			s.Running = true
		}
		if has(4) {
			s.Paused = true
		}
		if has(5) {
			s.LastError = "down"
		}
		if has(6) {
			s.Keyring = "Unlock your keyring"
		}
		var want State
		switch {
		case !has(0):
			want = SignedOut
		case has(2):
			want = NeedsReconnect
		case has(3):
			want = Syncing
		case has(4):
			want = Paused
		case has(6):
			want = Error
		case !has(1):
			want = CRMSignedOut
		case has(5):
			want = Error
		default:
			want = Idle
		}
		if got := Derive(s); got != want {
			t.Errorf("Derive(%+v) = %v, want %v", s, got, want)
		}
		s.State = want
		if p := s.Problem(); want == Error && has(6) && p != s.Keyring {
			t.Errorf("Problem of %+v = %q, want the keyring's words", s, p)
		}
		b := NewBoard(Status{})
		b.Update(func(st *Status) { *st = s; st.State = Idle })
		if got := b.Get().State; got != want {
			t.Errorf("board derived %v from %+v, want %v (a writer's State is ignored)", got, s, want)
		}
	}
}

// Text from the services and their errors is printable in every status
// the board hands out, however a writer set it.
func TestBoardMakesServiceTextPrintable(t *testing.T) {
	acct := &Account{Name: "Ann\u202E Lee", Email: "ann@example.com"}
	b := NewBoard(Status{Account: acct, CRMUser: "ann\x00", Reconnect: "revoked\r\nby admin"})
	ch, stop := b.Subscribe()
	defer stop()
	<-ch
	b.Update(func(s *Status) {
		s.LastError = "ClientSuccess: \x1b]0;pwned\x07down\u2066"
		s.SignInError = "AADSTS\tdenied"
		s.LastCounts.Skipped = map[string]int{"Microsoft 365 refused\n it": 2, "junk folder": 1, "Microsoft 365 refused it": 1}
	})
	for _, s := range []Status{b.Get(), <-ch} {
		if s.Account.Name != "Ann Lee" || s.CRMUser != "ann" || s.Reconnect != "revoked by admin" {
			t.Errorf("facts from NewBoard not printable: %q %q %q", s.Account.Name, s.CRMUser, s.Reconnect)
		}
		if s.LastError != "ClientSuccess: ]0;pwneddown" || s.SignInError != "AADSTS denied" {
			t.Errorf("facts from Update not printable: %q %q", s.LastError, s.SignInError)
		}
		if want := map[string]int{"Microsoft 365 refused  it": 2, "junk folder": 1, "Microsoft 365 refused it": 1}; !maps.Equal(s.LastCounts.Skipped, want) {
			t.Errorf("skip reasons = %v, want %v", s.LastCounts.Skipped, want)
		}
	}
	if acct.Name != "Ann\u202E Lee" {
		t.Errorf("the writer's account was changed in place: %q", acct.Name)
	}
}
