package remote_test

import (
	"io"
	"net"
	"syscall"
	"testing"

	"mailsync/sync/remote"
	"mailsync/sync/remote/remotetest"
)

func TestNeverConnectedOnlyWhenNoConnectionWasMade(t *testing.T) {
	addr, err := remotetest.ClosedAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, dialErr := net.Dial("tcp", addr)
	if dialErr == nil {
		t.Skip("something listens on the closed port")
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{dialErr, true},
		{&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, true},
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, false},
		{io.ErrUnexpectedEOF, false},
	} {
		if got := remote.NeverConnected(tc.err); got != tc.want {
			t.Errorf("NeverConnected(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
