// Package engine runs the sync: one pass lists the mailbox window, matches
// each message against the rules, uploads what involves ClientSuccess
// contacts exactly once, and records it; the scheduler runs a pass every hour;
// the Board publishes Status to the tray and the window without ever
// blocking a pass.
package engine
