package grooming

import (
	"strings"
	"unicode/utf8"
)

// Bounds of one conversation's state.
const (
	maxPeople   = 8   // participants tracked; later ones are not
	maxSignals  = 16  // stage signals kept, the oldest goes first
	maxPerPair  = 2   // per stage and sender: the first and the latest
	maxFired    = 16  // rules that fired (tier and minor rules)
	maxPersonID = 128 // bytes (event.MaxIDBytes); a longer id is not tracked
	maxIDText   = 40  // bytes of a message id kept for the evidence
	maxExcerpt  = 60  // bytes of a signal's excerpt
	excerptPad  = 12  // bytes of context kept on each side of a match
)

// person is a participant the conversation's state knows something about:
// a stage signal they sent, an age they stated, or their life.
type person struct {
	off  uint16 // id in conv.arena
	n    uint8  // id length
	age  uint8  // stated age; 0 when none
	cues uint8  // contexts of their life (cueBit)
}

// signal is one piece of evidence of a stage: who sent it, when, which
// message, and a short excerpt of what they wrote.
type signal struct {
	at     int64  // sent_at, Unix ns
	idHash uint64 // of the message id, to ignore a message seen already
	off    uint16 // message id text (idLen bytes) then excerpt (exLen bytes) in conv.arena
	idLen  uint8
	exLen  uint8
	stage  stage
	who    uint8 // index into conv.people
	q      uint8 // strength, the rule's score quantised to 1..255
	flags  uint8 // sigShadow, sigOverrides
}

// sigShadow marks a signal that only shadow rules raised: it counts for
// shadow rules only.
const sigShadow uint8 = 1

// sigOverrides are the bits of signal.flags that name the contexts the
// signal's rules contradict (phraseRule.overrides): overrideBit(ctxFamily)
// and overrideBit(ctxGuardians).
const sigOverrides uint8 = 1<<1 | 1<<2

// overrideBit is the signal flag of a conversational context c.
func overrideBit(c context) uint8 { return 1 << (1 + c) }

// cueBit is the bit of context c in conv.ctx and person.cues: the low four
// bits say a live rule saw it, the high four bits that only shadow rules
// did.
func cueBit(c context, shadow bool) uint8 {
	if shadow {
		return 1 << (c + 4)
	}
	return 1 << c
}

// hasCue reports whether bits hold context c for a view that counts live
// rules only (shadow false) or live and shadow rules (shadow true).
func hasCue(bits uint8, c context, shadow bool) bool {
	if bits&cueBit(c, false) != 0 {
		return true
	}
	return shadow && bits&cueBit(c, true) != 0
}

// Bookkeeping flags of a conversation (not part of its encoding).
const (
	fDirty     uint8 = 1 << iota // changed since the last TakeChanged
	fQueued                      // its key is in Detector.changed
	fPersisted                   // a state of it was handed out or restored
	fKept                        // scratch mark while compacting Detector.changed
)

// conv is the state of one conversation. Everything that decides a later
// flag is here and in its encoding (codec.go); flags is bookkeeping.
type conv struct {
	last    int64 // latest event time of a change, Unix ns; idle expiry counts from it
	askAt   int64 // when the open age question was asked
	arena   []byte
	signals []signal
	fired   []uint32 // hashes of the ids of the rules that fired
	people  [maxPeople]person
	nPeople uint8
	askBy   uint8 // 1 + index of who asked an age question; 0 when none is open
	ctx     uint8 // conversational contexts seen (cueBit)
	flags   uint8
}

func (c *conv) personID(i int) string {
	p := &c.people[i]
	return string(c.arena[p.off : int(p.off)+int(p.n)])
}

func (c *conv) sameID(i int, id string) bool {
	p := &c.people[i]
	return int(p.n) == len(id) && string(c.arena[p.off:int(p.off)+int(p.n)]) == id
}

// find returns the index of the person with id, or -1.
func (c *conv) find(id string) int {
	for i := range int(c.nPeople) {
		if c.sameID(i, id) {
			return i
		}
	}
	return -1
}

// statedByOther reports whether someone other than id stated age.
func (c *conv) statedByOther(id string, age int) bool {
	for i := range int(c.nPeople) {
		if int(c.people[i].age) == age && !c.sameID(i, id) {
			return true
		}
	}
	return false
}

// personFor returns the index of the person with id, adding them when
// there is room; -1 when there is none or the id is too long.
func (c *conv) personFor(id string) int {
	if i := c.find(id); i >= 0 {
		return i
	}
	if int(c.nPeople) >= maxPeople || len(id) > maxPersonID {
		return -1
	}
	i := int(c.nPeople)
	c.people[i] = person{off: c.store(id), n: uint8(len(id))}
	c.nPeople++
	return i
}

// store appends s to the arena and returns its offset, compacting the
// arena first when most of it is garbage.
func (c *conv) store(s string) uint16 {
	if len(c.arena)+len(s) > 2*c.liveBytes()+256 {
		c.compact()
	}
	off := len(c.arena)
	c.arena = append(c.arena, s...)
	return uint16(off)
}

func (c *conv) liveBytes() int {
	n := 0
	for i := range int(c.nPeople) {
		n += int(c.people[i].n)
	}
	for i := range c.signals {
		n += int(c.signals[i].idLen) + int(c.signals[i].exLen)
	}
	return n
}

// compact rewrites the arena with only what the people and signals use.
func (c *conv) compact() {
	next := make([]byte, 0, c.liveBytes()+64)
	for i := range int(c.nPeople) {
		p := &c.people[i]
		off := len(next)
		next = append(next, c.arena[p.off:int(p.off)+int(p.n)]...)
		p.off = uint16(off)
	}
	for i := range c.signals {
		s := &c.signals[i]
		off := len(next)
		next = append(next, c.arena[s.off:int(s.off)+int(s.idLen)+int(s.exLen)]...)
		s.off = uint16(off)
	}
	c.arena = next
}

func (c *conv) signalID(s *signal) string {
	return string(c.arena[s.off : int(s.off)+int(s.idLen)])
}

func (c *conv) excerpt(s *signal) string {
	from := int(s.off) + int(s.idLen)
	return string(c.arena[from : from+int(s.exLen)])
}

// seen reports whether a stored signal came from the message whose id
// hashes to h.
func (c *conv) seen(h uint64) bool {
	for i := range c.signals {
		if c.signals[i].idHash == h {
			return true
		}
	}
	return false
}

// askOpen reports whether someone other than id asked an age question
// within askWindow before t.
func (c *conv) askOpen(t int64, id string) bool {
	return c.askBy > 0 && t >= c.askAt && t-c.askAt <= int64(askWindow) && !c.sameID(int(c.askBy-1), id)
}

// addSignal records a signal, keeping per stage and sender the earliest
// and the latest, and at most maxSignals in all (the oldest goes). It
// reports whether the state changed.
func (c *conv) addSignal(sg signal, msgID, excerpt string) bool {
	first, latest, n := -1, -1, 0
	for i := range c.signals {
		s := &c.signals[i]
		if s.stage != sg.stage || s.who != sg.who {
			continue
		}
		n++
		if first < 0 || s.at < c.signals[first].at {
			first = i
		}
		if latest < 0 || s.at >= c.signals[latest].at {
			latest = i
		}
	}
	slot := -1
	switch {
	case n >= maxPerPair && sg.at >= c.signals[latest].at:
		slot = latest
	case n >= maxPerPair && sg.at < c.signals[first].at:
		slot = first
	case n >= maxPerPair:
		return false // between the first and the latest: adds nothing
	case len(c.signals) >= maxSignals:
		oldest := 0
		for i := range c.signals {
			if c.signals[i].at < c.signals[oldest].at {
				oldest = i
			}
		}
		c.signals = append(c.signals[:oldest], c.signals[oldest+1:]...)
	}
	if len(msgID) > maxIDText {
		msgID = cutString(msgID, maxIDText)
	}
	sg.idLen, sg.exLen = uint8(len(msgID)), uint8(len(excerpt))
	// Store both strings in one piece. The slot's old strings, if any,
	// become garbage that compact reclaims.
	if slot >= 0 {
		c.signals[slot].idLen, c.signals[slot].exLen = 0, 0
	}
	if len(c.arena)+len(msgID)+len(excerpt) > 2*c.liveBytes()+256 {
		c.compact()
	}
	sg.off = uint16(len(c.arena))
	c.arena = append(c.arena, msgID...)
	c.arena = append(c.arena, excerpt...)
	if slot >= 0 {
		c.signals[slot] = sg
	} else {
		c.signals = append(c.signals, sg)
	}
	return true
}

// hasFired reports whether the rule whose id hashes to h fired.
func (c *conv) hasFired(h uint32) bool {
	for _, f := range c.fired {
		if f == h {
			return true
		}
	}
	return false
}

// fire records that the rule whose id hashes to h fired. Past maxFired
// (more tier and minor rules than a rule set has), the oldest is
// forgotten.
func (c *conv) fire(h uint32) {
	if c.hasFired(h) {
		return
	}
	if len(c.fired) >= maxFired {
		c.fired = append(c.fired[:0], c.fired[1:]...)
	}
	c.fired = append(c.fired, h)
}

// cutString cuts s to at most n bytes at a character boundary.
func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// excerptOf returns the bytes [start, end) of s with up to excerptPad
// bytes on each side, at character boundaries, at most maxExcerpt bytes
// (the match itself is cut first), as valid UTF-8.
func excerptOf(s string, start, end int) string {
	ex := rawExcerpt(s, start, end)
	if !utf8.ValidString(ex) {
		ex = cutString(strings.ToValidUTF8(ex, "\uFFFD"), maxExcerpt)
	}
	return ex
}

func rawExcerpt(s string, start, end int) string {
	if start < 0 || end > len(s) || start > end {
		return ""
	}
	if end-start >= maxExcerpt {
		return cutString(s[start:], maxExcerpt)
	}
	pad := min(excerptPad, (maxExcerpt-(end-start))/2)
	from := max(0, start-pad)
	for from > 0 && from < len(s) && !utf8.RuneStart(s[from]) {
		from++
	}
	to := min(len(s), end+pad)
	for to < len(s) && to > 0 && !utf8.RuneStart(s[to]) {
		to--
	}
	// Start and end on word boundaries where possible.
	for from < start && s[from] != ' ' && from > 0 {
		from++
	}
	for from < start && s[from] == ' ' {
		from++
	}
	for to > end && s[to-1] != ' ' && to < len(s) {
		to--
	}
	for to > end && s[to-1] == ' ' {
		to--
	}
	return cutString(s[from:to], maxExcerpt)
}

// hasSignals reports whether person p sent a stage signal.
func (c *conv) hasSignals(p int) bool {
	for i := range c.signals {
		if int(c.signals[i].who) == p {
			return true
		}
	}
	return false
}
