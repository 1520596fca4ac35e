package remote

import (
	"io"
	"net"
	"syscall"
	"testing"
)

func TestNeverConnectedOnlyWhenNoConnectionWasMade(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
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
		if got := NeverConnected(tc.err); got != tc.want {
			t.Errorf("NeverConnected(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
