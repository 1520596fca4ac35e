package engine

import (
	"testing"
)

func TestBoardNeverBlocksAndKeepsNewest(t *testing.T) {
	b := NewBoard(Status{State: SignedOut})
	ch, stop := b.Subscribe()
	defer stop()
	if s := <-ch; s.State != SignedOut {
		t.Fatalf("first status = %v", s.State)
	}
	// Nobody reads while 1,000 updates are published: none may block.
	for i := range 1000 {
		b.Update(func(s *Status) { s.State = Syncing; s.Progress = &Progress{Done: i, Total: 1000} })
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
	b.Update(func(s *Status) { s.State = Idle }) // must not panic on a closed channel
}
