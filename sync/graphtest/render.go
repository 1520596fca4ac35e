package graphtest

import (
	"html"
	"net/url"
	"slices"
	"strings"
	"time"

	"mailsync/sync/graph"
)

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

var messageDefaults = []string{
	"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories",
	"receivedDateTime", "sentDateTime", "hasAttachments", "internetMessageId",
	"subject", "bodyPreview", "importance", "parentFolderId", "conversationId",
	"conversationIndex", "isDeliveryReceiptRequested", "isReadReceiptRequested",
	"isRead", "isDraft", "webLink", "inferenceClassification", "body", "sender",
	"from", "toRecipients", "ccRecipients", "bccRecipients", "replyTo", "flag",
}

// messageJSON renders every field of a message as Graph does (nulls and
// empty arrays included); textBody chooses the body's content type.
func messageJSON(sm *storedMessage, textBody bool) map[string]any {
	m := sm.msg
	recips := func(rs []graph.Recipient) []graph.Recipient {
		if rs == nil {
			return []graph.Recipient{}
		}
		return rs
	}
	one := func(r *graph.Recipient) any {
		if r == nil {
			return nil
		}
		return r
	}
	cats := m.Categories
	if cats == nil {
		cats = []string{}
	}
	stamp := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UTC().Format(time.RFC3339)
	}
	body := graph.Body{ContentType: "text", Content: sm.body}
	if !textBody {
		body = graph.Body{ContentType: "html", Content: textToHTML(sm.body)}
	}
	preview := sm.body
	if r := []rune(preview); len(r) > 255 {
		preview = string(r[:255])
	}
	return map[string]any{
		"@odata.etag":                `W/"CQAAABYAAAC` + m.ID[len(m.ID)/2:] + `"`,
		"id":                         m.ID,
		"createdDateTime":            stamp(m.ReceivedDateTime),
		"lastModifiedDateTime":       stamp(sm.modified),
		"changeKey":                  "CQAAABYAAAC",
		"categories":                 cats,
		"receivedDateTime":           stamp(m.ReceivedDateTime),
		"sentDateTime":               stamp(m.SentDateTime),
		"hasAttachments":             false,
		"internetMessageId":          nullIfEmpty(m.InternetMessageID),
		"subject":                    m.Subject,
		"bodyPreview":                preview,
		"importance":                 "normal",
		"parentFolderId":             m.ParentFolderID,
		"conversationId":             nullIfEmpty(m.ConversationID),
		"conversationIndex":          "AQHZ",
		"isDeliveryReceiptRequested": false,
		"isReadReceiptRequested":     false,
		"isRead":                     !sm.unread,
		"isDraft":                    m.IsDraft,
		"webLink":                    "https://outlook.office365.com/owa/?ItemID=" + url.QueryEscape(m.ID),
		"inferenceClassification":    "focused",
		"body":                       body,
		"uniqueBody":                 body,
		"sender":                     one(m.Sender),
		"from":                       one(m.From),
		"toRecipients":               recips(m.ToRecipients),
		"ccRecipients":               recips(m.CcRecipients),
		"bccRecipients":              recips(m.BccRecipients),
		"replyTo":                    []graph.Recipient{},
		"flag":                       map[string]any{"flagStatus": "notFlagged"},
	}
}

// textToHTML wraps a text body the way Exchange renders plain text as HTML.
func textToHTML(s string) string {
	esc := strings.ReplaceAll(html.EscapeString(s), "\n", "<br>\r\n")
	return "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body><div>" + esc + "</div></body></html>"
}

// expandPropertiesLocked adds the extended properties asked for to out;
// several asked at once get none with CombinedExpandEmpty. The caller holds
// g.mu.
func (g *Graph) expandPropertiesLocked(out map[string]any, m *graph.Message, propIDs []string) {
	if len(propIDs) == 0 || len(propIDs) > 1 && g.combined == CombinedExpandEmpty {
		return
	}
	var props []graph.ExtendedProperty
	for _, p := range m.SingleValueExtendedProperties {
		if slices.Contains(propIDs, p.ID) {
			props = append(props, p)
		}
	}
	if len(props) > 0 {
		out["singleValueExtendedProperties"] = props
	}
}
