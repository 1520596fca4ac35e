package graph

// The words of a Microsoft sign-in, as the window, the tray, the command
// line and the browser's tab show them.
const (
	declined     = "Sign-in was cancelled in the browser, so Mail Sync is not connected."
	timedOut     = "Sign-in timed out after %s; nothing was changed."
	noCode       = "Microsoft answered the sign-in without a code; Mail Sync is not connected."
	notConnected = "Mail Sync is not connected to Microsoft 365; connect first."
	// providerRefused is followed by Microsoft's own description.
	providerRefused = "Microsoft did not complete the sign-in: "

	signInUnreachable = "Could not reach the Microsoft sign-in service; Mail Sync will try again later."
	signInUnreadable  = "The Microsoft sign-in service gave an answer Mail Sync does not understand."
	signInRefused     = "Microsoft no longer accepts Mail Sync's sign-in; connect again."
	appRefused        = "Microsoft does not accept Mail Sync's app registration (check MAILSYNC_CLIENT_ID)."
	signInUnavailable = "The Microsoft sign-in service is unavailable; Mail Sync will try again later."
)

// What the browser's tab says once the sign-in answer arrived, or why it
// was refused. In a consent problem the window and `mailsync connect` say
// the rest, with the approval link.
const (
	pageCanClose      = "Mail Sync can now read your mailbox. You can close this tab."
	pageNotLoopback   = "This address only answers the computer it runs on."
	pageWrongHost     = "This request was not sent to Mail Sync's sign-in address."
	pageAnswerInLink  = "Mail Sync takes the sign-in answer only as a form Microsoft's page sends; an answer in a link is refused. Finish signing in from the page Mail Sync opened."
	pageOnlyTheForm   = "Mail Sync's sign-in address only answers the sign-in page's form."
	pageUnreadable    = "The sign-in answer could not be read."
	pageOtherSignIn   = "This link does not belong to the sign-in Mail Sync is waiting for. Finish signing in from the page Mail Sync opened."
	pageFinished      = "This sign-in has already finished."
	pageNeedsApproval = "Your organization needs an administrator to approve Mail Sync before you can connect. Mail Sync has the approval link for your IT admin."
	pageMaybeApproval = "Mail Sync is not connected: either you cancelled the sign-in, or your organization needs an administrator to approve Mail Sync. Mail Sync has the approval link for your IT admin."
)

// reconnectReasons says in words why Microsoft refused a grant, by AADSTS
// code.
var reconnectReasons = map[string]string{
	"50173":  "Access was revoked or your password changed; connect again.",
	"50133":  "Your password changed; connect again.",
	"50132":  "Your password changed; connect again.",
	"700082": "Your Microsoft sign-in expired; connect again.",
	"70008":  "Your Microsoft sign-in expired; connect again.",
	"700084": "Your Microsoft sign-in expired; connect again.",
	"65001":  "Mail Sync no longer has your consent to read your mail; connect again to grant it.",
	"50076":  "Your organization now asks for multi-factor authentication; connect again to complete it.",
	"50079":  "Your organization now asks for multi-factor authentication; connect again to complete it.",
	"50078":  "Your multi-factor authentication expired; connect again.",
	"50057":  "Your Microsoft account is disabled; ask your administrator, then connect again.",
	"50053":  "Your Microsoft account is locked; connect again once it is unlocked.",
	"53003":  "Your organization's access policy blocked Mail Sync; connect again or ask your administrator.",
	"54005":  "This sign-in was already used; connect again.",
	"501481": "The sign-in could not be verified; connect again.",
}
