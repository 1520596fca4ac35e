package match

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
}

// DefaultSettings are the settings of a new installation.
func DefaultSettings() Settings {
	return Settings{IgnoreInternal: true, SkipPrivate: true, PrivateCategory: "Private"}
}
