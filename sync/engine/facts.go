package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"mailsync/storage"
	"mailsync/sync/graph"
	"mailsync/sync/match"
)

// memory is what passes remember of single messages, by Graph id, between
// one pass and the next: which bodies Graph refused, and the class and
// sensitivity Graph gave (or did not give) when asked for each alone. It
// lives as long as the Engine (a restart forgets it, which costs at most
// one more request a message). Safe for concurrent use.
type memory struct {
	mu sync.Mutex
	// bodyFailed: the body was refused by an earlier read (its retry in
	// the same pass included).
	bodyFailed map[string]time.Time
	// asked: when the class and sensitivity were asked for alone.
	asked map[string]time.Time
	// facts: what that answered, by the same id.
	facts map[string][]graph.ExtendedProperty
}

// answer records what Graph said of message id's class and sensitivity.
func (m *memory) answer(id string, props []graph.ExtendedProperty, now time.Time) {
	m.note(&m.asked, id, now)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.facts == nil {
		m.facts = map[string][]graph.ExtendedProperty{}
	}
	for k := range m.facts {
		if _, ok := m.asked[k]; !ok {
			delete(m.facts, k)
		}
	}
	m.facts[id] = props
}

// answered returns what Graph said of message id's class and sensitivity,
// if it was asked.
func (m *memory) answered(id string, now time.Time) ([]graph.ExtendedProperty, bool) {
	if !m.has(m.asked, id, now) {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	props, ok := m.facts[id]
	return props, ok
}

// memoryKept is how long a message is remembered: past it, the message is
// out of the window anyway.
const memoryKept = WindowOverlap + SkewMargin

func (m *memory) note(set *map[string]time.Time, id string, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if *set == nil {
		*set = map[string]time.Time{}
	}
	for k, at := range *set {
		if now.Sub(at) > memoryKept || at.After(now.Add(memoryKept)) {
			delete(*set, k)
		}
	}
	(*set)[id] = now
}

func (m *memory) has(set map[string]time.Time, id string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := set[id]
	return ok && now.Sub(at) <= memoryKept && !at.After(now.Add(memoryKept))
}

func (m *memory) forget(set map[string]time.Time, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(set, id)
}

// bodyReader is the pass's Mailbox: a body Graph refuses on its own (a
// 500, 403 or other failure of its $batch step, not a deleted message) is
// read once more right after the others of its batch, in the same pass,
// with no wait, unless an earlier pass saw it refused already: then it is
// given up until the next pass. So an unreadable message costs at most two
// steps in the pass that first meets it and one in each pass after, and
// never holds the pass in backoff.
type bodyReader struct {
	Mailbox
	e *Engine
}

func (b *bodyReader) Bodies(ctx context.Context, ids []string, maxChars int, fn func(id string, body graph.Body, err error) error) error {
	mem := &b.e.memory
	now := b.e.now()
	settle := func(id string, body graph.Body, err error) error {
		switch {
		case err == nil:
			mem.forget(mem.bodyFailed, id)
		case !errors.Is(err, graph.ErrMessageGone):
			mem.note(&mem.bodyFailed, id, now)
		}
		return fn(id, body, err)
	}
	var again []string
	err := b.Mailbox.Bodies(ctx, ids, maxChars, func(id string, body graph.Body, err error) error {
		if err != nil && !errors.Is(err, graph.ErrMessageGone) && ctx.Err() == nil && !mem.has(mem.bodyFailed, id, now) {
			again = append(again, id)
			return nil
		}
		return settle(id, body, err)
	})
	if err != nil || len(again) == 0 {
		return err
	}
	return b.Mailbox.Bodies(ctx, again, maxChars, settle)
}

// unknownFacts completes the decisions of a page whose messages came back
// without their class or their sensitivity (match.ClassUnknown,
// match.SensitivityUnknown) and would otherwise be taken: those already
// uploaded to every client they want are shown as taken (they were copied
// when known); for the others each property is asked for alone
// (graph.Client.ClassAndSensitivity), once while the message is in the
// window, and the message decided again. One still unknown stays skipped
// with its reason.
func (p *pass) unknownFacts(ctx context.Context, in match.Input, items []item) error {
	var idx []int
	var targets []storage.Target
	for i := range items {
		it := &items[i]
		if len(it.d.Wanted) == 0 || it.key == "" {
			continue
		}
		idx = append(idx, i)
		for _, t := range it.d.Wanted {
			targets = append(targets, storage.Target{Key: it.key, ClientID: t.ClientID})
		}
	}
	if len(idx) == 0 {
		return nil
	}
	states, err := p.e.Store.UploadStates(p.account, targets)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	now := p.e.now()
	mem := &p.e.memory
	decide := func(it *item, props []graph.ExtendedProperty) {
		mergeProperties(it.msg, props)
		rules := MatchMessage(it.msg)
		if it.rules != nil {
			rules.Lifted = it.rules.Lifted
		}
		in.Msg = &rules
		d := match.Decide(in)
		it.verdicts = match.Explain(in)
		if d.Taken() && it.key == "" {
			d = match.Decision{Reason: reasonNoMessageID, Counterpart: d.Counterpart}
		}
		it.d = d
	}
	byID := map[string][]int{}
	var ask []string
	for _, i := range idx {
		it := &items[i]
		done := true
		for range it.d.Wanted {
			if states[0] == storage.NotUploaded {
				done = false
			}
			states = states[1:]
		}
		if done {
			it.d = match.Decision{Take: it.d.Wanted, Counterpart: it.d.Counterpart}
			continue
		}
		if props, ok := mem.answered(it.msg.ID, now); ok {
			decide(it, props)
			continue
		}
		if _, dup := byID[it.msg.ID]; !dup {
			ask = append(ask, it.msg.ID)
		}
		byID[it.msg.ID] = append(byID[it.msg.ID], i)
	}
	if len(ask) == 0 {
		return nil
	}
	err = p.mb.ClassAndSensitivity(ctx, ask, func(id string, props []graph.ExtendedProperty, err error) error {
		if err != nil {
			// Asked again by the next pass; skipped with its reason now.
			if !errors.Is(err, graph.ErrMessageGone) {
				p.log.Warn("a message's class and sensitivity could not be read", "err", err)
			}
			return nil
		}
		mem.answer(id, props, now)
		for _, i := range byID[id] {
			decide(&items[i], props)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("engine: read message class and sensitivity: %w", err)
	}
	return nil
}

// mergeProperties puts props into m's extended properties, replacing any
// of the same id.
func mergeProperties(m *graph.Message, props []graph.ExtendedProperty) {
	for _, p := range props {
		replaced := false
		for i, q := range m.SingleValueExtendedProperties {
			if strings.EqualFold(strings.TrimSpace(q.ID), strings.TrimSpace(p.ID)) {
				m.SingleValueExtendedProperties[i] = p
				replaced = true
			}
		}
		if !replaced {
			m.SingleValueExtendedProperties = append(m.SingleValueExtendedProperties, p)
		}
	}
}

// passTooLongError is a pass stopped by Engine.PassTimeout.
type passTooLongError struct {
	limit time.Duration
	err   error
}

func (e *passTooLongError) Error() string {
	return fmt.Sprintf("engine: the pass ran longer than %v: %v", e.limit, e.err)
}

func (e *passTooLongError) Unwrap() error { return e.err }
