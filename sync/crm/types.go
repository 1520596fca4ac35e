package crm

import "time"

// Wire types of the ClientSuccess v1 API, only the fields Mail Sync uses.

// InteractionTypeEmail is the interactionTypeId of an Email interaction.
const InteractionTypeEmail = 4

// Contact is a ClientSuccess contact; it belongs to one client.
type Contact struct {
	ID        int64  `json:"id"`
	ClientID  int64  `json:"clientId"`
	Email     string `json:"email"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
}

// Client is a ClientSuccess client (a customer account).
type Client struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Interaction is an entry on a client's timeline.
type Interaction struct {
	ID                int64     `json:"id,omitempty"`
	ClientID          int64     `json:"clientId,omitempty"`
	InteractionTypeID int       `json:"interactionTypeId"`
	Subject           string    `json:"subject"`
	InteractionDate   time.Time `json:"interactionDate"`
	Note              string    `json:"note"`
	ContactIDs        []int64   `json:"contactIds,omitempty"`
}

// AuthResponse is the answer of POST /auth.
type AuthResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}
