package agentapi

import "errors"

// This file lends the package's insides to its external tests.

// TransportCause is the error under a failure to reach the agent, or nil
// for any other error.
func TransportCause(err error) error {
	var te *transportError
	if errors.As(err, &te) {
		return te.err
	}
	return nil
}

// CloseIdleConnections closes the client's idle connections, so that its
// next call dials again.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }
