package graph

import (
	"strconv"
	"strings"
	"time"
)

// Wire types of Microsoft Graph v1.0, only the fields Mail Sync reads.

// EmailAddress is Graph's emailAddress resource.
type EmailAddress struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
}

// Recipient is Graph's recipient resource.
type Recipient struct {
	EmailAddress EmailAddress `json:"emailAddress"`
}

// ExtendedProperty is a singleValueLegacyExtendedProperty.
type ExtendedProperty struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// Message is the narrow projection of a Graph message that one pass lists.
type Message struct {
	ID                            string             `json:"id"`
	InternetMessageID             string             `json:"internetMessageId,omitempty"`
	Subject                       string             `json:"subject,omitempty"`
	From                          *Recipient         `json:"from,omitempty"`
	Sender                        *Recipient         `json:"sender,omitempty"`
	ToRecipients                  []Recipient        `json:"toRecipients,omitempty"`
	CcRecipients                  []Recipient        `json:"ccRecipients,omitempty"`
	BccRecipients                 []Recipient        `json:"bccRecipients,omitempty"`
	ReceivedDateTime              time.Time          `json:"receivedDateTime"`
	SentDateTime                  time.Time          `json:"sentDateTime,omitempty"`
	ParentFolderID                string             `json:"parentFolderId,omitempty"`
	IsDraft                       bool               `json:"isDraft,omitempty"`
	Categories                    []string           `json:"categories,omitempty"`
	ConversationID                string             `json:"conversationId,omitempty"`
	SingleValueExtendedProperties []ExtendedProperty `json:"singleValueExtendedProperties,omitempty"`
}

// MessageClassTag is PR_MESSAGE_CLASS, the MAPI property that tells mail
// (IPM.Note*) from meeting requests, tasks and the like.
const MessageClassTag = 0x001A

// MessageClassPropertyID is how the property is asked for in $expand.
const MessageClassPropertyID = "String 0x001A"

// MessageClass returns the message's PR_MESSAGE_CLASS, or "" when Graph did
// not return it. Graph normalises the id it answers with ("String 0x1a"), so
// the tag is compared as a number.
func (m *Message) MessageClass() string {
	v, _ := m.extendedProperty("String", MessageClassTag)
	return v
}

// SensitivityTag is PR_SENSITIVITY, Outlook's Sensitivity of a message: 0
// normal, 1 personal, 2 private, 3 confidential ([MS-OXCMSG] 2.2.1.13).
const SensitivityTag = 0x0036

// SensitivityPropertyID is how PR_SENSITIVITY is asked for in $expand.
const SensitivityPropertyID = "Integer 0x0036"

// Sensitivity returns Outlook's sensitivity of the message: "normal",
// "personal", "private" or "confidential"; "" when Graph did not return it
// or gave a value outside the four.
func (m *Message) Sensitivity() string {
	v, ok := m.extendedProperty("Integer", SensitivityTag)
	if !ok {
		return ""
	}
	switch strings.TrimSpace(v) {
	case "0":
		return "normal"
	case "1":
		return "personal"
	case "2":
		return "private"
	case "3":
		return "confidential"
	}
	return ""
}

// extendedProperty returns the value of the single-value extended property
// of type typ and tag, comparing the tag as a number.
func (m *Message) extendedProperty(typ string, tag uint64) (string, bool) {
	for _, p := range m.SingleValueExtendedProperties {
		pt, ptag, ok := strings.Cut(strings.TrimSpace(p.ID), " ")
		if !ok || !strings.EqualFold(pt, typ) {
			continue
		}
		ptag = strings.TrimSpace(ptag)
		if len(ptag) > 2 && (ptag[:2] == "0x" || ptag[:2] == "0X") {
			ptag = ptag[2:]
		}
		n, err := strconv.ParseUint(ptag, 16, 32)
		if err == nil && n == tag {
			return p.Value, true
		}
	}
	return "", false
}

// Me is the mailbox owner: who "the user" is for rule 2.
type Me struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName,omitempty"`
	Mail              string   `json:"mail,omitempty"`
	UserPrincipalName string   `json:"userPrincipalName,omitempty"`
	ProxyAddresses    []string `json:"proxyAddresses,omitempty"` // "SMTP:primary@x", "smtp:alias@x"
}

// Addresses returns every address that is the user: primary mail, user
// principal name and the SMTP proxy addresses, lower-cased, without duplicates.
func (m *Me) Addresses() []string {
	seen := map[string]bool{}
	var out []string
	add := func(a string) {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" || seen[a] {
			return
		}
		seen[a] = true
		out = append(out, a)
	}
	add(m.Mail)
	add(m.UserPrincipalName)
	for _, p := range m.ProxyAddresses {
		if proto, addr, ok := strings.Cut(p, ":"); ok {
			if strings.EqualFold(proto, "smtp") {
				add(addr)
			}
			continue
		}
		add(p)
	}
	return out
}

// Body is a message body as Graph returns it, possibly cut: Omitted is how
// many characters of Content were left out while it was read.
type Body struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
	Omitted     int    `json:"-"`
}

// ErrorBody is Graph's error envelope: {"error":{"code","message"}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}
