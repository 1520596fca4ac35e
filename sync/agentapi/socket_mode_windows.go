package agentapi

// restrictSocket does nothing on Windows: Unix-mode bits do not apply there,
// and the socket inherits the per-user ACL of the data directory (under
// %LOCALAPPDATA%), which already keeps other users out.
func restrictSocket(string) error { return nil }
