// Package setup is what Mail Sync must know before it can sign in: the
// Microsoft app (client) ID, the directory (tenant) and the ClientSuccess
// address. It checks values as a person types them, in words, and resolves
// the value in force from its layers: the organisation's policy, then the
// MAILSYNC_* environment, then what the person set, then what the build
// carries and the defaults.
package setup

import (
	"fmt"
	"mailsync/sync/words"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Keys, as `mailsync config` names them.
const (
	KeyClientID = "client-id"
	KeyTenant   = "tenant"
	KeyCRMURL   = "crm-url"
)

// Keys lists the keys in the order they are shown.
var Keys = []string{KeyClientID, KeyTenant, KeyCRMURL}

// Defaults of the real services.
const (
	// LoginHost is Microsoft's sign-in host; the authority is it plus the
	// directory.
	LoginHost = "https://login.microsoftonline.com"
	// DefaultTenant lets any work or school account sign in.
	DefaultTenant = "organizations"
	// DefaultCRMAddress is the ClientSuccess address as a person sees it;
	// the API lives under /v1 of it (APIBase).
	DefaultCRMAddress = "https://api.clientsuccess.com"
)

// Source says where a value in force comes from.
type Source string

// Sources, from the strongest.
const (
	FromPolicy  Source = "policy"
	FromEnv     Source = "environment"
	FromPerson  Source = "set"
	FromBuild   Source = "build"
	FromDefault Source = "default"
	Unset       Source = ""
)

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID as Entra writes them
// (00000000-0000-0000-0000-000000000000), braces allowed.
func IsGUID(s string) bool {
	return guidRE.MatchString(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}"))
}

// CheckClientID returns the app (client) ID in its usual form (lower case,
// no braces), or a sentence that says what is wrong with s.
func CheckClientID(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", words.New(enterClientID)
	}
	if !IsGUID(s) {
		return "", words.New(clientIDNotGUID)
	}
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")), nil
}

var domainLabelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// CheckTenant returns the directory in its usual form, or a sentence that
// says what is wrong: organizations, common, a domain (contoso.com,
// contoso.onmicrosoft.com) or a directory (tenant) ID.
func CheckTenant(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return "", words.New(enterTenant)
	case s == "organizations" || s == "common":
		return s, nil
	case s == "consumers":
		return "", words.New(noConsumers)
	case IsGUID(s):
		return strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"), nil
	}
	labels := strings.Split(s, ".")
	ok := len(labels) >= 2 && len(s) <= 253
	for _, l := range labels {
		ok = ok && domainLabelRE.MatchString(l)
	}
	if !ok {
		return "", words.New(fmt.Sprintf(notATenant, s))
	}
	return s, nil
}

// CheckCRMURL returns the ClientSuccess address in its usual form (no
// trailing slash, no /v1), or a sentence that says what is wrong: it must
// be https, or plain http to this computer (loopback) only.
func CheckCRMURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", words.New(fmt.Sprintf(enterCRMURL, DefaultCRMAddress))
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", words.New(fmt.Sprintf(notAWebAddress, s, DefaultCRMAddress))
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !loopback(u.Hostname()) {
			return "", words.New(httpsOnly)
		}
	default:
		return "", words.New(fmt.Sprintf(notHTTPS, u.Scheme+":"))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", words.New(fmt.Sprintf(onlyTheAddress, DefaultCRMAddress))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v1")
	u.RawPath = ""
	return u.String(), nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Check checks value for key (one of Keys) and returns its usual form; an
// unknown key is an error naming the known ones.
func Check(key, value string) (string, error) {
	switch key {
	case KeyClientID:
		return CheckClientID(value)
	case KeyTenant:
		return CheckTenant(value)
	case KeyCRMURL:
		return CheckCRMURL(value)
	}
	return "", fmt.Errorf("there is no setting %q: the settings are %s", key, strings.Join(Keys, ", "))
}

// APIBase is the ClientSuccess API's base URL for an address: the address
// with /v1, which a person does not type.
func APIBase(address string) string {
	address = strings.TrimSuffix(address, "/")
	if strings.HasSuffix(address, "/v1") {
		return address
	}
	return address + "/v1"
}

// Authority is the Microsoft sign-in authority of a directory.
func Authority(tenant string) string { return LoginHost + "/" + tenant }

// Values are one layer of the settings; "" is not set.
type Values struct {
	ClientID string `json:"clientId,omitempty"`
	Tenant   string `json:"tenant,omitempty"`
	CRMURL   string `json:"crmUrl,omitempty"` // the address, without /v1
}

// Get returns the value of key in v.
func (v Values) Get(key string) string {
	switch key {
	case KeyClientID:
		return v.ClientID
	case KeyTenant:
		return v.Tenant
	case KeyCRMURL:
		return v.CRMURL
	}
	return ""
}

// With returns v with key set to value ("" unsets it).
func (v Values) With(key, value string) Values {
	switch key {
	case KeyClientID:
		v.ClientID = value
	case KeyTenant:
		v.Tenant = value
	case KeyCRMURL:
		v.CRMURL = value
	}
	return v
}

// Env is the environment's layer: the values and, for development and
// national clouds, a whole authority URL (MAILSYNC_AUTHORITY) that stands
// for the directory. Its CRMURL is the API base as it is (MAILSYNC_CRM_URL).
type Env struct {
	Values
	Authority string // MAILSYNC_AUTHORITY, used as it is
}

// Field is one setting as it is in force.
type Field struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source Source `json:"source"`
}

// Locked reports whether the organisation set the field, so that it
// cannot be changed on this computer.
func (f Field) Locked() bool { return f.Source == FromPolicy }

// Resolved is the settings in force.
type Resolved struct {
	Fields    []Field `json:"fields"`     // in the order of Keys
	ClientID  string  `json:"clientId"`   // "" when none is configured
	Authority string  `json:"authority"`  // the sign-in authority URL
	CRMBase   string  `json:"crmBaseUrl"` // the ClientSuccess API base, with /v1
}

// Field returns the field of key.
func (r Resolved) Field(key string) Field {
	for _, f := range r.Fields {
		if f.Key == key {
			return f
		}
	}
	return Field{Key: key}
}

// Resolve puts the layers together: policy over environment over what the
// person set over the build's app ID and the defaults.
func Resolve(policy Values, env Env, person Values, buildClientID string) Resolved {
	pick := func(key string, build, def string) Field {
		for _, l := range []struct {
			v   string
			src Source
		}{{policy.Get(key), FromPolicy}, {env.Get(key), FromEnv}, {person.Get(key), FromPerson}, {build, FromBuild}, {def, FromDefault}} {
			if l.v != "" {
				return Field{Key: key, Value: l.v, Source: l.src}
			}
		}
		return Field{Key: key}
	}
	cid := pick(KeyClientID, buildClientID, "")
	tenant := pick(KeyTenant, "", DefaultTenant)
	authority := Authority(tenant.Value)
	if tenant.Source != FromPolicy && tenant.Source != FromEnv && env.Authority != "" {
		// MAILSYNC_AUTHORITY stands for the whole authority, directory and
		// all: show the directory it names.
		authority = strings.TrimSuffix(env.Authority, "/")
		tenant = Field{Key: KeyTenant, Value: authority[strings.LastIndex(authority, "/")+1:], Source: FromEnv}
	}
	crm := pick(KeyCRMURL, "", DefaultCRMAddress)
	base := APIBase(crm.Value)
	if crm.Source == FromEnv {
		// MAILSYNC_CRM_URL is the API base itself (the fakes serve theirs
		// at the root), as it always was.
		base = strings.TrimSuffix(crm.Value, "/")
	}
	return Resolved{
		Fields:    []Field{cid, tenant, crm},
		ClientID:  cid.Value,
		Authority: authority,
		CRMBase:   base,
	}
}
