package crm

import (
	"encoding/json"
	"time"
)

// Types of the ClientSuccess API, only the fields Mail Sync uses. Answers
// are read by the tolerant readers in read.go, not by these types' JSON
// tags, because the service answers the same thing in several shapes.

// InteractionTypeEmail is the interactionTypeId of an Email interaction.
const InteractionTypeEmail = 4

// Contact is a ClientSuccess contact; it belongs to one client.
type Contact struct {
	ID        int64
	ClientID  int64
	Email     string
	FirstName string
	LastName  string
	// Modified is when the contact last changed, when the answer says
	// (the v2 search does); zero otherwise.
	Modified time.Time
}

// ContactPage is one page of the v2 contact search.
type ContactPage struct {
	Contacts []Contact
	// Last is true on the last page: there is nothing more to ask for.
	Last bool
	// Skipped says, for each contact of the page that could not be used
	// (no client, no id), why, in words without its values.
	Skipped []string
}

// InteractionPage is one page of the v2 note search.
type InteractionPage struct {
	Interactions []Interaction
	// Page is the page number the answer says it is, -1 when it says
	// none: a page other than the one asked for means the page parameter
	// was ignored.
	Page int
	// Last is true on the last page: there is nothing more to ask for.
	Last bool
}

// Client is a ClientSuccess client (a customer account).
type Client struct {
	ID   int64
	Name string
}

// Interaction is an entry on a client's timeline.
type Interaction struct {
	ID                int64
	ClientID          int64
	InteractionTypeID int
	Subject           string
	// InteractionDate is the day of the interaction: CreateInteraction
	// sends the calendar date of this time in its own location
	// (YYYY-MM-DD), so the caller puts it in the person's time zone. Reads
	// leave it zero: ClientSuccess does not return it.
	InteractionDate time.Time
	// Created is createdDateTime on reads; zero when absent.
	Created    time.Time
	Note       string
	ContactIDs []int64
}

// MarshalJSON writes the body of POST /clients/{id}/interactions.
func (in Interaction) MarshalJSON() ([]byte, error) {
	type wire struct {
		InteractionTypeID int     `json:"interactionTypeId"`
		Subject           string  `json:"subject"`
		InteractionDate   string  `json:"interactionDate"`
		Note              string  `json:"note"`
		ContactIDs        []int64 `json:"contactIds,omitempty"`
	}
	return json.Marshal(wire{in.InteractionTypeID, in.Subject, in.InteractionDate.Format(time.DateOnly), in.Note, in.ContactIDs})
}

// AuthResponse is the answer of POST /auth.
type AuthResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}
