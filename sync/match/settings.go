package match

import "time"

// Settings are the person's choices that shape rule 2 and the blocklist.
type Settings struct {
	// IgnoreInternal skips mail whose participants are all in the user's
	// own domains (default on).
	IgnoreInternal bool `json:"ignoreInternal"`
	// Blocklist holds addresses ("a@b.com") and domains ("@b.com"); a
	// message with any blocked participant is never taken.
	Blocklist []string `json:"blocklist,omitempty"`
	// SkipPrivate never takes messages carrying the category PrivateCategory.
	SkipPrivate bool `json:"skipPrivate"`
	// PrivateCategory is the Outlook category name that marks private mail
	// (default "Private"); compared case-insensitively.
	PrivateCategory string `json:"privateCategory,omitempty"`
	// HistoryDays: when a contact is added in ClientSuccess, the mail of
	// the last HistoryDays days that involves them is copied too. 0 (the
	// default) keeps ClientSuccess's own rule: only mail less than 24
	// hours old when the contact is added. At most MaxHistoryDays.
	HistoryDays int `json:"historyDays,omitempty"`
}

// MaxHistoryDays is the most Settings.HistoryDays may be.
const MaxHistoryDays = 90

// History is how far back the mail of a contact added in ClientSuccess is
// copied: HistoryDays days, within [0, MaxHistoryDays]; 0 means only what
// the 24-hour window holds.
func (s Settings) History() time.Duration {
	return time.Duration(min(max(s.HistoryDays, 0), MaxHistoryDays)) * 24 * time.Hour
}

// DefaultSettings are the settings of a new installation.
func DefaultSettings() Settings {
	return Settings{IgnoreInternal: true, SkipPrivate: true, PrivateCategory: "Private"}
}
