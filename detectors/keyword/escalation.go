package keyword

import (
	"time"

	"github.com/goshawk-safety/goshawk/detectors/state"
)

// idleEvictionsPerMessage bounds how many idle entries one message may
// evict. Eviction keeps pace with insertion (one per message at most), and a
// message with a far-future sent_at cannot wipe the whole state at once.
const idleEvictionsPerMessage = 4

// escalationState remembers, per (conversation, sender), the event times of
// that sender's most recent qualifying messages. It is a size-capped LRU:
// the least recently touched entry is dropped when the cap is reached, and
// entries idle (by event time) for longer than the window plus the allowed
// lateness are dropped as messages arrive.
//
// Results are the same however conversations interleave (stream or replay,
// one worker or many) as long as the cap is not reached and event time in
// the conversations one instance sees stays within the allowed lateness of
// each other. State is in memory: a restart starts every count afresh, but
// a rules reload keeps it (see reconfigure).
type escalationState struct {
	cfg     escalation
	entries *state.LRU[escEntry]
	key     []byte // scratch for look-ups without allocating
	// newEntry makes an empty entry for the current configuration; a
	// method value made once, so that look-ups do not allocate.
	newEntry func() escEntry
}

func (s *escalationState) makeEntry() escEntry {
	return escEntry{times: make([]int64, s.cfg.Messages)}
}

type escEntry struct {
	times   []int64 // ring of the last cfg.Messages event times, Unix ns
	n, next int     // valid times; ring position of the next write
}

func newEscalationState(cfg escalation) *escalationState {
	s := &escalationState{cfg: cfg, entries: state.NewLRU[escEntry]()}
	s.newEntry = s.makeEntry
	return s
}

// reconfigure applies a new configuration of the same rule (after a rules
// reload) and keeps what it remembers: when Messages changes, each entry
// keeps its most recent times that fit; when MaxEntries shrinks, the least
// recently used entries go. The new Window and AllowedLateness apply from
// the next message on.
func (s *escalationState) reconfigure(cfg escalation) {
	if cfg.Messages != s.cfg.Messages {
		s.entries.Each(func(e *state.Entry[escEntry]) { e.Value.resize(cfg.Messages) })
	}
	s.entries.Shrink(cfg.MaxEntries)
	s.cfg = cfg
}

// resize moves the entry's most recently recorded times, as many as fit,
// into a ring of size.
func (e *escEntry) resize(size int) {
	times := make([]int64, size)
	keep, old := min(e.n, size), len(e.times)
	for i := range keep { // i-th most recent, written i+1 places before next
		times[keep-1-i] = e.times[((e.next-1-i)%old+old)%old]
	}
	e.times, e.n, e.next = times, keep, keep%size
}

// len returns the number of remembered (conversation, sender) pairs.
func (s *escalationState) len() int { return s.entries.Len() }

// record notes a qualifying message at t and returns how many of the
// remembered messages, this one included, lie within the window of t.
func (s *escalationState) record(conversation, sender string, t time.Time) int {
	s.key = append(append(append(s.key[:0], conversation...), 0), sender...)
	now := t.UnixNano()
	e := &s.entries.Touch(s.key, now, s.cfg.MaxEntries, s.newEntry).Value
	e.times[e.next] = now
	e.next = (e.next + 1) % len(e.times)
	e.n = min(e.n+1, len(e.times))
	window := int64(s.cfg.Window)
	count := 0
	for _, x := range e.times[:e.n] {
		if d := now - x; d <= window && d >= -window {
			count++
		}
	}
	return count
}

// evictIdle drops up to idleEvictionsPerMessage of the least recently
// touched entries whose latest message is more than the window plus the
// allowed lateness before t (Unix ns: the message's time, or the
// detector's watermark when earlier; see detectors.Watermarked). The
// lateness allowance keeps an entry whose own conversation is merely
// consumed behind the others.
func (s *escalationState) evictIdle(t int64) {
	s.entries.EvictIdle(t, int64(s.cfg.Window+s.cfg.AllowedLateness), idleEvictionsPerMessage)
}
