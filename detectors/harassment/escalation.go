package harassment

import (
	"time"

	"github.com/goshawk-safety/goshawk/detectors/state"
)

// idleEvictionsPerMessage bounds how many idle entries one message may
// evict, so that a message with a far-future sent_at cannot wipe the state
// at once.
const idleEvictionsPerMessage = 4

// escalationState is the memory of one escalation rule, per (conversation,
// person): the event times of the person's recent qualifying messages, when
// the other person last asked them to stop, and the times of their current
// run of unanswered messages. It is a size-capped LRU (MaxEntries); entries
// idle, by event time, for longer than the longest window plus the allowed
// lateness are dropped as messages arrive, and by then nothing in them
// counts any more.
//
// Everything it remembers can only add to a count: a restart that loses the
// state can miss a flag, never raise one that a replay would not. Results
// are the same however conversations interleave (stream or replay, one
// worker or many) as long as the cap is not reached and event time in the
// conversations one instance sees stays within the allowed lateness of each
// other.
type escalationState struct {
	cfg     escalation
	entries *state.LRU[escEntry]
	key     []byte // scratch for look-ups without allocating
	// newEntry makes an empty entry for the current configuration; a
	// method value made once, so that look-ups do not allocate.
	newEntry func() escEntry
}

func (s *escalationState) makeEntry() escEntry {
	e := escEntry{counted: make([]int64, s.cfg.Messages)}
	if s.cfg.Unanswered > 0 {
		e.unanswered = make([]int64, s.cfg.Unanswered)
	}
	return e
}

type escEntry struct {
	// counted: ring of the last cfg.Messages qualifying message times,
	// Unix ns.
	counted    []int64
	cn, cnext  int
	stopAt     int64 // when the other person last asked them to stop; 0 if never
	unanswered []int64
	un, unext  int
}

func newEscalationState(cfg escalation) *escalationState {
	s := &escalationState{cfg: cfg, entries: state.NewLRU[escEntry]()}
	s.newEntry = s.makeEntry
	return s
}

// reconfigure applies a new configuration of the same rule (after a rules
// reload) and keeps what it remembers: each ring keeps its most recent times
// that fit; when MaxEntries shrinks, the least recently used entries go.
func (s *escalationState) reconfigure(cfg escalation) {
	s.entries.Each(func(se *state.Entry[escEntry]) {
		e := &se.Value
		if cfg.Messages != s.cfg.Messages {
			e.counted, e.cn, e.cnext = resize(e.counted, e.cn, e.cnext, cfg.Messages)
		}
		if cfg.Unanswered != s.cfg.Unanswered {
			e.unanswered, e.un, e.unext = resize(e.unanswered, e.un, e.unext, cfg.Unanswered)
		}
	})
	s.entries.Shrink(cfg.MaxEntries)
	s.cfg = cfg
}

// resize moves a ring's most recent times, as many as fit, into a ring of
// size (nil for size 0).
func resize(ring []int64, n, next, size int) ([]int64, int, int) {
	if size == 0 {
		return nil, 0, 0
	}
	out := make([]int64, size)
	keep, old := min(n, size), len(ring)
	for i := range keep { // i-th most recent, written i+1 places before next
		out[keep-1-i] = ring[((next-1-i)%old+old)%old]
	}
	return out, keep, keep % size
}

// len returns the number of remembered (conversation, person) pairs.
func (s *escalationState) len() int { return s.entries.Len() }

// lookup returns the entry of (conversation, person), creating it when
// create is set (nil otherwise when there is none). It marks the entry as
// recently used.
func (s *escalationState) lookup(conversation, person string, t int64, create bool) *escEntry {
	s.key = append(append(append(s.key[:0], conversation...), 0), person...)
	var newEntry func() escEntry
	if create {
		newEntry = s.newEntry
	}
	se := s.entries.Touch(s.key, t, s.cfg.MaxEntries, newEntry)
	if se == nil {
		return nil
	}
	return &se.Value
}

// within counts the times of a ring that lie within window of now.
func within(ring []int64, n int, now int64, window time.Duration) int {
	w := int64(window)
	count := 0
	for _, x := range ring[:n] {
		if d := now - x; d <= w && d >= -w {
			count++
		}
	}
	return count
}

func push(ring []int64, n, next int, t int64) (int, int) {
	ring[next] = t
	return min(n+1, len(ring)), (next + 1) % len(ring)
}

// afterStop reports whether the other person asked e's person to stop within
// the stop window before t.
func (s *escalationState) afterStop(e *escEntry, t int64) bool {
	return s.cfg.Stop && e.stopAt != 0 && t >= e.stopAt && t-e.stopAt <= int64(s.cfg.StopWindow)
}

// attempt is the granularity of unanswered contact: messages sent in the
// same minute of event time are one attempt, so that a story told in ten
// quick fragments is not ten unanswered messages.
const attempt = int64(time.Minute)

// unansweredRun records t as an unanswered message of e's person and
// reports whether they have now made at least cfg.Unanswered attempts
// (distinct minutes) within the window without an answer. Minutes are
// whole minutes of event time, not minutes since some earlier message, so
// that an instance that starts in the middle of a run counts a subset of
// the attempts a replay counts.
func (s *escalationState) unansweredRun(e *escEntry, t int64) bool {
	if s.cfg.Unanswered == 0 {
		return false
	}
	minute := t - ((t%attempt)+attempt)%attempt
	if e.un == 0 || e.unanswered[(e.unext-1+len(e.unanswered))%len(e.unanswered)] != minute {
		e.un, e.unext = push(e.unanswered, e.un, e.unext, minute)
	}
	return within(e.unanswered, e.un, t, s.cfg.Window) >= s.cfg.Unanswered
}

// count records a qualifying message at t and returns how many of the
// remembered ones, this one included, lie within the window of t (at most
// cfg.Messages).
//
// A message counted already (a re-delivery after a rebalance or a failed
// commit: its time is in the ring and no later than the newest one) is not
// counted again; it gets the count it had, from the messages up to it. Two
// distinct messages of one sender with the same sent_at, to the
// millisecond, therefore count once.
func (s *escalationState) count(e *escEntry, t int64) int {
	if e.cn > 0 && t <= e.counted[(e.cnext-1+len(e.counted))%len(e.counted)] {
		seen, before := false, 0
		for _, x := range e.counted[:e.cn] {
			if x == t {
				seen = true
			}
			if d := t - x; d >= 0 && d <= int64(s.cfg.Window) {
				before++
			}
		}
		if seen {
			return before
		}
	}
	e.cn, e.cnext = push(e.counted, e.cn, e.cnext, t)
	return within(e.counted, e.cn, t, s.cfg.Window)
}

// idle is how long an entry may go untouched, by event time, before nothing
// in it can count any more (plus the allowed lateness).
func (s *escalationState) idle() int64 {
	return int64(max(s.cfg.Window, s.cfg.StopWindow) + s.cfg.AllowedLateness)
}

// evictIdle drops up to idleEvictionsPerMessage of the least recently
// touched entries whose latest message is more than idle() before t. t may
// come from another conversation; the lateness allowance keeps an entry
// whose own conversation is merely consumed behind the others.
func (s *escalationState) evictIdle(t int64) {
	s.entries.EvictIdle(t, s.idle(), idleEvictionsPerMessage)
}
