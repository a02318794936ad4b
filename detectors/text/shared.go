package text

import (
	"fmt"
	"slices"
	"sync"
	"unsafe"
)

// union is one automaton over the phrases of several matchers, so that
// the detectors of an engine, each with its own lexicon, read a message's
// words once between them instead of once each. Phrase id of part i is
// lo[i] + its id in parts[i]. A union matches, for each part, exactly what
// the part matches alone (see TestUnionMatchesEachPartAlone).
type union struct {
	m     *Matcher
	parts []*Matcher
	lo    []int
}

func newUnion(parts []*Matcher) (*union, error) {
	u := &union{parts: slices.Clone(parts), lo: make([]int, len(parts))}
	var phrases []string
	for i, p := range parts {
		u.lo[i] = len(phrases)
		phrases = append(phrases, p.phrases...)
	}
	m, err := NewMatcher(phrases)
	if err != nil {
		// Every part's phrases were accepted on their own, and NewMatcher
		// judges each phrase alone.
		return nil, fmt.Errorf("text: union of %d matchers: %w", len(parts), err)
	}
	u.m = m
	return u, nil
}

// part returns the index of m among the union's parts, or -1.
func (u *union) part(m *Matcher) int {
	if u == nil {
		return -1
	}
	return slices.Index(u.parts, m)
}

// unionCache is a Matcher's memory of the last union built with it first,
// so that the engines of a process (one per pipeline worker), which share
// compiled rules, share the union too.
type unionCache struct {
	mu sync.Mutex
	u  *union
}

// unionOf returns the union of parts, from parts[0]'s cache when it is the
// union of the same matchers in the same order.
func unionOf(parts []*Matcher) (*union, error) {
	c := &parts[0].unions
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.u != nil && slices.Equal(c.u.parts, parts) {
		return c.u, nil
	}
	u, err := newUnion(parts)
	if err != nil {
		return nil, err
	}
	c.u = u
	return u, nil
}

// sharedMatch is Shared's state for matching: the union of the matchers
// asked to match its texts, the union's matches of the current text, and
// the current text's words as frame sets read them.
type sharedMatch struct {
	u       *union
	asked   []*Matcher // asked to match since the union was built, not in it
	matches []Match    // the union's matches of the current text
	done    bool       // matches is for the current text
	words   frameWords // the current text's words, when split is set
	split   bool
}

// current reports whether n is the last result of Normalize.
func (s *Shared) current(n Normalized) bool {
	return s.valid && len(n.Text) == len(s.res.Text) && unsafe.StringData(n.Text) == unsafe.StringData(s.res.Text)
}

// MatchFrames appends to out what fs.Match(n, sc, out) appends, for n the
// result of the last Normalize: the text is split into words once, for
// every frame set asked (each still looks the words up in its own table).
func (s *Shared) MatchFrames(fs *FrameSet, n Normalized, sc *FrameScratch, out []FrameMatch) []FrameMatch {
	if fs == nil || len(fs.frames) == 0 {
		return out
	}
	if !s.current(n) {
		return fs.Match(n, sc, out)
	}
	sm := &s.match
	if !sm.split {
		sm.words.split(n.Text)
		sm.split = true
	}
	return fs.matchWords(n, sc, &sm.words, out)
}

// Match appends to out what m.Match(n, out) appends, for n the result of
// the last Normalize. The first message's text is matched by each matcher
// on its own; from the next, every matcher asked for the same text is part
// of one union automaton (see Matcher), run once a text, and each gets its
// own phrases' matches, in the order m.Match gives them. Call ForgetMatchers
// when the matchers change (a rule reload), so that the union drops the
// old ones. A normal form that is not the last result of Normalize is
// matched by m alone.
func (s *Shared) Match(m *Matcher, n Normalized, out []Match) []Match {
	if !s.current(n) {
		return m.Match(n, out)
	}
	sm := &s.match
	i := sm.u.part(m)
	if i < 0 {
		if !slices.Contains(sm.asked, m) {
			sm.asked = append(sm.asked, m)
		}
		return m.Match(n, out)
	}
	if !sm.done {
		sm.matches = sm.u.m.Match(n, sm.matches[:0])
		sm.done = true
	}
	lo, hi := sm.u.lo[i], sm.u.lo[i]+m.Len()
	for _, x := range sm.matches {
		if x.ID >= lo && x.ID < hi {
			x.ID -= lo
			out = append(out, x)
		}
	}
	return out
}

// ForgetMatchers drops the union: the next texts are matched by each
// matcher alone until the union of those asked is built again.
func (s *Shared) ForgetMatchers() {
	s.match.u, s.match.asked, s.match.done = nil, s.match.asked[:0], false
}

// nextText is called by Normalize for a new text: the matches held are of
// the previous one, and matchers asked outside the union join it.
func (sm *sharedMatch) nextText() {
	sm.done, sm.split = false, false
	if len(sm.asked) == 0 {
		return
	}
	if sm.u == nil && len(sm.asked) == 1 {
		sm.asked = sm.asked[:0] // one matcher alone needs no union
		return
	}
	var parts []*Matcher // only when the union changes: rare
	if sm.u != nil {
		parts = append(parts, sm.u.parts...)
	}
	parts = append(parts, sm.asked...)
	sm.asked = sm.asked[:0]
	u, err := unionOf(parts)
	if err != nil {
		return // cannot happen (see newUnion); each matcher then runs alone
	}
	sm.u = u
}
