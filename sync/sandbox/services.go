package sandbox

import (
	"mailsync/sync/crmtest"
	"mailsync/sync/graphtest"
)

// Services are the three fakes a sandbox world runs on: the Microsoft
// identity platform, Microsoft Graph and ClientSuccess, each on its own
// loopback port. The end-to-end tests and `mailsync demo` both use them.
type Services struct {
	World    *World
	Identity *graphtest.Identity
	Graph    *graphtest.Graph
	CRM      *crmtest.CRM
}

// Start serves w: Graph accepts only access tokens that Identity issued,
// as the real Graph accepts only Entra's.
func Start(w *World) *Services {
	s := &Services{
		World: w,
		Identity: graphtest.NewIdentity(graphtest.IdentityAccount{
			Name:     w.Me.DisplayName,
			Email:    w.Me.Mail,
			TenantID: Tenant,
			ObjectID: w.Me.ID,
		}),
		Graph: graphtest.NewGraph(),
		CRM:   crmtest.NewCRM(),
	}
	s.Graph.SetAuthorizer(s.Identity.ValidAccessToken)
	w.Load(s.Graph, s.CRM)
	return s
}

// Env is the configuration that points Mail Sync at the services, as
// MAILSYNC_* variables.
func (s *Services) Env() []string {
	return []string{
		"MAILSYNC_AUTHORITY=" + s.Identity.Authority(),
		"MAILSYNC_GRAPH_URL=" + s.Graph.URL,
		"MAILSYNC_CRM_URL=" + s.CRM.URL,
		"MAILSYNC_CLIENT_ID=" + s.Identity.ClientID(),
	}
}

// Close stops the services.
func (s *Services) Close() {
	s.Identity.Close()
	s.Graph.Close()
	s.CRM.Close()
}
