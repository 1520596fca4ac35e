package storage

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Keys of the settings bucket.
const (
	keyRules = "rules"
	keyApp   = "app"
	keySetup = "setup"
)

// AppSettings are the person's choices about the app itself.
type AppSettings struct {
	StartAtLogin bool `json:"startAtLogin"`
}

// Rules reads the person's matching rules into v, a pointer to the rules
// type of sync/match (storage sits below the rules, so it keeps them as
// JSON). Fill v with the defaults first: a rule never saved keeps its
// default. Nothing saved leaves v as it is and is not an error.
func (s *Store) Rules(v any) error {
	return s.db.View(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketSettings, keyRules, v); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
}

// AppSettings returns the app settings; start at login is on unless the
// person turned it off.
func (s *Store) AppSettings() (AppSettings, error) {
	app := AppSettings{StartAtLogin: true}
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketSettings, keyApp, &app); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	return app, err
}

// AppSettingsChosen reports whether the app settings were ever saved: false
// on the first run of Mail Sync, before anyone chose.
func (s *Store) AppSettingsChosen() (bool, error) {
	chosen := false
	err := s.db.View(func(tx *bolt.Tx) error {
		var app AppSettings
		err := getJSON(tx, bucketSettings, keyApp, &app)
		switch {
		case err == nil:
			chosen = true
		case !errors.Is(err, ErrNotFound):
			return err
		}
		return nil
	})
	return chosen, err
}

// SaveSettings stores the rules (see Rules) and the app settings together.
func (s *Store) SaveSettings(rules any, app AppSettings) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putJSON(tx, bucketSettings, keyRules, rules); err != nil {
			return err
		}
		return putJSON(tx, bucketSettings, keyApp, app)
	})
	if err != nil {
		return fmt.Errorf("storage: save settings: %w", err)
	}
	return nil
}

// Setup reads what the person set up (the Microsoft app, the directory,
// the ClientSuccess address) into v, a pointer to setup.Values of
// sync/setup, kept as JSON like the rules. Nothing saved leaves v as it is.
func (s *Store) Setup(v any) error {
	return s.db.View(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketSettings, keySetup, v); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
}

// SaveSetup stores what the person set up (see Setup).
func (s *Store) SaveSetup(v any) error {
	if err := s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bucketSettings, keySetup, v) }); err != nil {
		return fmt.Errorf("storage: save setup: %w", err)
	}
	return nil
}
