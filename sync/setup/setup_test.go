package setup

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		key, in, want, wrong string // wrong: part of the sentence when refused
	}{
		{KeyClientID, "0D2A6C6E-4B1F-4E5B-9A55-1F7C3B8A9E21", "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21", ""},
		{KeyClientID, " {0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21} ", "0d2a6c6e-4b1f-4e5b-9a55-1f7c3b8a9e21", ""},
		{KeyClientID, "0d2a6c6e4b1f4e5b9a551f7c3b8a9e21", "", "is a GUID"},
		{KeyClientID, "Mail Sync", "", "is a GUID"},
		{KeyClientID, "", "", "Enter the application"},
		{KeyTenant, "organizations", "organizations", ""},
		{KeyTenant, "Common", "common", ""},
		{KeyTenant, "Contoso.COM", "contoso.com", ""},
		{KeyTenant, "contoso.onmicrosoft.com", "contoso.onmicrosoft.com", ""},
		{KeyTenant, "72F988BF-86F1-41AF-91AB-2D7CD011DB47", "72f988bf-86f1-41af-91ab-2d7cd011db47", ""},
		{KeyTenant, "consumers", "", "personal Microsoft account"},
		{KeyTenant, "contoso", "", "is not a directory"},
		{KeyTenant, "https://login.microsoftonline.com/contoso.com", "", "is not a directory"},
		{KeyTenant, "-bad-.com", "", "is not a directory"},
		{KeyCRMURL, "https://api.clientsuccess.com", "https://api.clientsuccess.com", ""},
		{KeyCRMURL, "https://API.ClientSuccess.com/v1/", "https://api.clientsuccess.com", ""},
		{KeyCRMURL, "https://cs.example.com/proxy/", "https://cs.example.com/proxy", ""},
		{KeyCRMURL, "http://127.0.0.1:8080/v1", "http://127.0.0.1:8080", ""},
		{KeyCRMURL, "http://localhost:9000", "http://localhost:9000", ""},
		{KeyCRMURL, "http://[::1]:9000", "http://[::1]:9000", ""},
		{KeyCRMURL, "http://api.clientsuccess.com", "", "must start with https://"},
		{KeyCRMURL, "http://127.0.0.1.evil.example", "", "must start with https://"},
		{KeyCRMURL, "ftp://api.clientsuccess.com", "", "not ftp:"},
		{KeyCRMURL, "api.clientsuccess.com", "", "not a web address"},
		{KeyCRMURL, "https://user:pw@api.clientsuccess.com", "", "without a name, password"},
		{KeyCRMURL, "https://api.clientsuccess.com/?x=1", "", "without a name, password"},
		{KeyCRMURL, "", "", "Enter the ClientSuccess address"},
		{"secret", "x", "", `no setting "secret"`},
	} {
		got, err := Check(c.key, c.in)
		switch {
		case c.wrong == "" && (err != nil || got != c.want):
			t.Errorf("Check(%s, %q) = %q, %v; want %q", c.key, c.in, got, err, c.want)
		case c.wrong != "" && (err == nil || !strings.Contains(err.Error(), c.wrong)):
			t.Errorf("Check(%s, %q) = %q, %v; want a refusal saying %q", c.key, c.in, got, err, c.wrong)
		}
	}
}

// TestResolvePrecedence checks the order policy > environment > person >
// build > default, key by key, and the authority and API base built from
// the winners.
func TestResolvePrecedence(t *testing.T) {
	const pol, env, person, build = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
		"33333333-3333-3333-3333-333333333333", "44444444-4444-4444-4444-444444444444"
	all := Values{ClientID: person, Tenant: "person.example", CRMURL: "https://person.example"}
	for _, c := range []struct {
		name                     string
		policy                   Values
		env                      Env
		person                   Values
		build                    string
		clientID, authority, crm string
		sources                  [3]Source
	}{
		{name: "nothing set", clientID: "", authority: "https://login.microsoftonline.com/organizations",
			crm: "https://api.clientsuccess.com/v1", sources: [3]Source{Unset, FromDefault, FromDefault}},
		{name: "build only", build: build, clientID: build, authority: "https://login.microsoftonline.com/organizations",
			crm: "https://api.clientsuccess.com/v1", sources: [3]Source{FromBuild, FromDefault, FromDefault}},
		{name: "person over build", person: all, build: build, clientID: person,
			authority: "https://login.microsoftonline.com/person.example", crm: "https://person.example/v1",
			sources: [3]Source{FromPerson, FromPerson, FromPerson}},
		{name: "environment over person", person: all, build: build,
			env:      Env{Values: Values{ClientID: env, CRMURL: "http://127.0.0.1:5000"}, Authority: "http://127.0.0.1:6000/tenant-x"},
			clientID: env, authority: "http://127.0.0.1:6000/tenant-x", crm: "http://127.0.0.1:5000",
			sources: [3]Source{FromEnv, FromEnv, FromEnv}},
		{name: "policy over everything", person: all, build: build,
			policy:   Values{ClientID: pol, Tenant: "corp.example", CRMURL: "https://corp.example"},
			env:      Env{Values: Values{ClientID: env, CRMURL: "http://127.0.0.1:5000"}, Authority: "http://127.0.0.1:6000/tenant-x"},
			clientID: pol, authority: "https://login.microsoftonline.com/corp.example", crm: "https://corp.example/v1",
			sources: [3]Source{FromPolicy, FromPolicy, FromPolicy}},
		{name: "policy for one key only", person: all, policy: Values{Tenant: "corp.example"},
			clientID: person, authority: "https://login.microsoftonline.com/corp.example", crm: "https://person.example/v1",
			sources: [3]Source{FromPerson, FromPolicy, FromPerson}},
	} {
		r := Resolve(c.policy, c.env, c.person, c.build)
		if r.ClientID != c.clientID || r.Authority != c.authority || r.CRMBase != c.crm {
			t.Errorf("%s: got client %q, authority %q, crm %q; want %q, %q, %q", c.name, r.ClientID, r.Authority, r.CRMBase, c.clientID, c.authority, c.crm)
		}
		for i, k := range Keys {
			if f := r.Field(k); f.Source != c.sources[i] {
				t.Errorf("%s: %s comes from %q, want %q", c.name, k, f.Source, c.sources[i])
			}
		}
		if locked := r.Field(KeyTenant).Locked(); locked != (c.policy.Tenant != "") {
			t.Errorf("%s: tenant locked = %v", c.name, locked)
		}
	}
}
