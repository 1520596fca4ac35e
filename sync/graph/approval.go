package graph

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Consent problems, by the AADSTS code Microsoft describes them with
// (Entra error codes reference):
//   - AADSTS65001: the person or an administrator has not consented to
//     the app;
//   - AADSTS90094: only an administrator may grant what the app asks
//     (the organisation turned user consent off);
//   - AADSTS90095: the same, with the admin consent workflow on: Microsoft
//     offers the person to send a request to an administrator.
const (
	ConsentMissing       = "AADSTS65001"
	ConsentAdminOnly     = "AADSTS90094"
	ConsentAdminWorkflow = "AADSTS90095"
)

// ApprovalError is returned by SignIn.Run when Microsoft's answer says, or
// may say, that the organisation must approve Mail Sync before the person
// can connect: one of the consent codes above in error_description, on the
// redirect or in the token endpoint's answer to the code redemption.
//
// Code is "" for the bare answer error=access_denied&error_subcode=cancel
// with no description, which is what a person refused by their
// organisation's consent policy ("Need admin approval" → "Return to the
// application") brings back, byte for byte the same as a person who pressed
// Cancel (docs/evidence.md "Microsoft Graph and Entra"). Such an error is also ErrDeclined: it may
// be either, and the words must say both.
type ApprovalError struct {
	Code string
}

func (e *ApprovalError) Error() string {
	if e.Code == "" {
		return "graph: sign in: cancelled, or the organisation's approval is needed"
	}
	return "graph: sign in: the organisation's approval is needed (" + e.Code + ")"
}

// Is makes the bare answer match ErrDeclined too.
func (e *ApprovalError) Is(target error) bool { return e.Code == "" && target == ErrDeclined }

// Maybe reports whether the answer is the bare one, which may as well be a
// person's own Cancel.
func (e *ApprovalError) Maybe() bool { return e.Code == "" }

// consentCode returns the consent code a description starts with or
// carries, "" when none.
func consentCode(description string) string {
	m := aadstsPattern.FindStringSubmatch(description)
	if m == nil {
		return ""
	}
	switch c := "AADSTS" + m[1]; c {
	case ConsentMissing, ConsentAdminOnly, ConsentAdminWorkflow:
		return c
	}
	return ""
}

// approvalFromToken returns an *ApprovalError when the token endpoint's
// error names a consent problem, else nil.
func approvalFromToken(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return nil
	}
	if c := consentCode(re.ErrorDescription); c != "" {
		return &ApprovalError{Code: c}
	}
	return nil
}

// AdminConsentRedirect is the redirect URI the admin-consent link sends
// the administrator back to: the one Mail Sync's app registration has
// (README "For IT": a public client with the redirect http://localhost).
// The admin-consent endpoint requires redirect_uri to match a registered
// one exactly. Nothing listens there; the browser then shows that the page
// cannot be reached, with admin_consent=True in its address.
const AdminConsentRedirect = "http://localhost"

// AdminConsentURL is the link an administrator opens to approve Mail Sync
// for their whole organisation, as Microsoft's admin-consent documentation
// (Entra "Admin consent on the Microsoft identity platform", v2.0) builds
// it:
//
//	{authority host}/{tenant}/v2.0/adminconsent?client_id=…&scope=…&redirect_uri=…
//
// with the exact permissions a sign-in asks for (Scopes), the Graph ones
// named with graphResource (the origin of the Graph URL, so that national
// clouds get theirs). The v2.0 endpoint is used rather than the older
// /{tenant}/adminconsent, which grants whatever the app registration lists
// instead of what Mail Sync asks for.
//
// authority is the configured one ({host}/{tenant}). Its tenant is kept when
// it names a directory (a domain or a tenant id). The documentation
// allows "organizations" (the administrator's own directory, chosen by
// signing in) and forbids "common"; tenantHint, the tenant id of an
// account that signed in before, is used instead of either when known, and
// "common" becomes "organizations" otherwise. "consumers" has no
// administrator: ok is false.
func AdminConsentURL(authority, clientID, graphResource, tenantHint string) (link string, ok bool) {
	u, err := url.Parse(strings.TrimRight(authority, "/"))
	if err != nil || u.Host == "" || clientID == "" {
		return "", false
	}
	base, tenant := "", u.Path
	if i := strings.LastIndex(u.Path, "/"); i >= 0 {
		base, tenant = u.Path[:i], u.Path[i+1:]
	}
	switch strings.ToLower(tenant) {
	case "consumers":
		return "", false
	case "organizations", "common", "":
		tenant = "organizations"
		if tenantHint != "" {
			tenant = tenantHint
		}
	}
	res := strings.TrimRight(graphResource, "/")
	if g, err := url.Parse(graphResource); err == nil && g.Host != "" {
		res = g.Scheme + "://" + g.Host
	}
	var scopes []string
	for _, s := range Scopes {
		switch s {
		case "openid", "profile", "email", "offline_access":
			scopes = append(scopes, s)
		default:
			scopes = append(scopes, res+"/"+s)
		}
	}
	q := url.Values{
		"client_id":    {clientID},
		"scope":        {strings.Join(scopes, " ")},
		"redirect_uri": {AdminConsentRedirect},
	}
	link = fmt.Sprintf("%s://%s%s/%s/v2.0/adminconsent?%s", u.Scheme, u.Host, base, url.PathEscape(tenant), q.Encode())
	return link, true
}
