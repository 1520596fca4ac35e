// Package engine runs the sync: one pass lists the mailbox window, matches
// each message against the rules, uploads what involves ClientSuccess
// contacts exactly once, and records it; the scheduler says when a pass is
// due (every hour, one catch-up after a sleep) and asks for it; the Board
// publishes Status to the tray and the window without ever blocking its
// writer.
//
// The engine only does work. Pass returns a Summary and an error and
// reports its progress through a callback; it neither publishes a Status
// nor writes the facts a person sees (Meta's LastError, NeedsReconnect,
// Paused). What an error means for them is OutcomeOf's to say and the
// agent's loop's to record. The pass's own bookkeeping stays here, written
// with the work it describes: the connect time on the first pass, and the
// window's start, the end time and the pruning in one transaction after
// every upload and decision is recorded (rule 1: the window moves only
// after the work is recorded). Passes must not overlap; the agent's loop
// runs one at a time.
package engine
