package engine

import (
	"context"
	"errors"
	"fmt"
	"mailsync/sync/remote"
	"strings"
	"time"
)

// The engine's words: the state as a person reads it, why a pass failed,
// why a message was not copied (beside the rules' reasons, match.Reason)
// and what Activity asks about an unsure upload.

// String returns the state in words a person understands.
func (s State) String() string {
	switch s {
	case SignedOut:
		return "Not connected"
	case Idle:
		return "Up to date"
	case Syncing:
		return "Syncing"
	case NeedsReconnect:
		return "Reconnect needed"
	case Error:
		return "Sync failed"
	case Paused:
		return "Paused"
	case CRMSignedOut:
		return "Sign in to ClientSuccess"
	}
	return "Unknown"
}

// Skip reasons the engine adds to those of sync/match.
const (
	reasonNoMessageID  = "no Message-ID"
	reasonGone         = "deleted before it could be copied"
	reasonRefused      = "ClientSuccess refused it"
	reasonContactsGone = "its contacts were removed from ClientSuccess"
	// reasonNoText starts the reason of a message whose body Microsoft 365
	// kept refusing; it is tried again on the next pass.
	reasonNoText = "Microsoft 365 would not give its text: "
)

// Why a message with an unusable Message-ID is not copied.
const (
	reasonLongMessageID = "its Message-ID is longer than 1 KB, which no mail server writes"
	reasonBadMessageID  = "its Message-ID has no @, so its copy could not be found again"
)

// Words says what is unsure, for the Activity list.
func (u UnsureUpload) Words() string {
	return "Mail Sync could not check whether “" + u.Subject + "” is already in " + u.Client +
		"’s timeline, and has not copied it again: " + u.Why + ". Copy it again, or leave it out?"
}

// Describe says in words a person understands why a pass failed: the
// message of a remote error (which never holds a URL or a token), never the
// raw Go error chain.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var long *passTooLongError
	if errors.As(err, &long) {
		return fmt.Sprintf("The sync took longer than %s and was stopped; the next sync carries on from where it was", humanDuration(long.limit))
	}
	var re *remote.Error
	if errors.As(err, &re) {
		service := "ClientSuccess"
		if re.Service == "graph" {
			service = "Microsoft 365"
		}
		msg := strings.TrimSpace(re.Message)
		switch {
		case re.Kind == remote.NeedsReconnect && re.Service == "graph":
			// The token source put the reason in words (revoked, expired,
			// consent withdrawn); the Graph call around it only knows it
			// was refused.
			if why := deepestMessage(err); why != "" {
				return upperFirst(why)
			}
			return "Microsoft 365 needs you to connect again"
		case re.Kind == remote.NeedsReconnect:
			return "ClientSuccess rejected the username or password; sign in to ClientSuccess again in Settings"
		case msg == "" && re.Kind == remote.Transient:
			return "Could not reach " + service + "; Mail Sync will try again"
		case msg == "":
			return service + " refused a request"
		case strings.Contains(msg, service):
			return upperFirst(msg)
		}
		return service + ": " + msg
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "The sync was stopped before it finished"
	}
	return "The sync failed; Mail Sync will try again"
}

// deepestMessage is the Message of the innermost *remote.Error in err's
// chain that has one.
func deepestMessage(err error) string {
	msg := ""
	for err != nil {
		var re *remote.Error
		if !errors.As(err, &re) {
			break
		}
		if m := strings.TrimSpace(re.Message); m != "" {
			msg = m
		}
		err = re.Err
	}
	return msg
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// humanDuration says a duration in whole hours or minutes.
func humanDuration(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		if d == time.Hour {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d >= time.Minute:
		if m := (d + time.Minute/2) / time.Minute; m != 1 {
			return fmt.Sprintf("%d minutes", m)
		}
		return "1 minute"
	}
	return d.Round(time.Second).String()
}

// Result words of a decision: one word for what became of a message,
// everywhere a person reads it (the Activity list, the tray, the command
// line, notifications).
const (
	ResultCopied  = "Copied"
	ResultSkipped = "Skipped"
)

// ResultWaiting is the result of a message the options, changed since the
// last sync, no longer skip: copying it needs a sync (Redecide).
const ResultWaiting = "Waiting: the next sync copies it"

// checkedNothingNew is a pass that copied nothing, after the last one
// that did (Status.PassLines); %s is when it ended.
const checkedNothingNew = "Checked %s, nothing new to copy"
