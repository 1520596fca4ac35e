//go:build unix

package agentapi

import (
	"context"
	"net"
	"net/http"
)

// DialUnchecked is Dial without the client's checks of the folder, the
// socket and the peer: what another user's own program could do.
func DialUnchecked(dir string) (*Client, error) {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.Dial("unix", SocketPath(dir))
	if err != nil {
		return nil, &transportError{words: "dial", err: err}
	}
	conn.Close()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, "unix", SocketPath(dir))
	}}
	return &Client{hc: &http.Client{Transport: tr}, done: make(chan struct{})}, nil
}
