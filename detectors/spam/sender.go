package spam

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/state"
)

// SenderStage is the stage of stream spam-sender, keyed by sender. It
// receives the features of each of a sender's messages (from the detector)
// and the content fan-out levels they reached (from the fingerprint stage),
// keeps the sender's recent messages, and scores each message: the weights
// of every rule that holds for it, added up (SpamAssassin style). A tier
// rule flags the message once its score reaches the tier's min_score.
//
// Every signal of a message m is a count over the set of records in a
// window around m's sent_at (distinct conversations, messages, characters)
// or a fact of m's own records; each can only rise as records arrive, and
// every weight is positive, so a score only rises. The stage re-scores
// each retained message that a new record can change. A flag is raised
// the first time a message's score reaches a tier, so the set of flagged
// (message, tier) is the set whose final score reaches the tier, however
// the records interleave and whatever is delivered twice. docs/spam.md
// gives the argument and its bounds.
type SenderStage struct {
	cfg      *config
	senders  *state.LRU[senderState]
	entries  int   // messages held, over all senders
	clock    int64 // event time: follows sent_at, by at most maxClockStep per record
	key      []byte
	rec      messageRec[[]byte]
	crec     contentRec[[]byte]
	intern   []string // content rule ids, by bit
	bits     map[string]uint8
	byBit    [maxContentBits]*contentRule
	sets     [4]countSet // conversations, cold ones, cold ones with a link, cold ones with scam wording
	contribs []contrib
	// trace, when set (rule examples), sees each scoring.
	trace func(msgID string, c []contrib)
}

// maxClockStep bounds how far one record moves a stage's event time, so
// that a far-future sent_at cannot make every key look idle.
const maxClockStep = int64(time.Minute)

type senderState struct {
	wm    int64 // latest sent_at of the sender's records
	floor int64 // every message after floor is kept; records at or before it are dropped
	msgs  []msgEntry
}

func newSenderState() senderState {
	return senderState{wm: math.MinInt64, floor: math.MinInt64}
}

// msgEntry is one message of a sender, as the stage remembers it.
type msgEntry struct {
	at    int64  // sent_at, Unix ns
	key   uint64 // hash of the message id
	conv  uint64 // hash of the conversation id
	ids   string // message id, conversation id and recipient ids, each as appendBytes packs it
	hits  uint64 // content rules hit, by SenderStage bit
	age   int32  // account age in seconds when sent (saturated), -1 unknown
	runes uint32
	flags uint16 // record flags, and hasFeatures
	links uint8
	// Counts over the sender's messages with features within a window
	// around this one (itself included).
	nBurst    uint16 // messages within ±burst window
	nConv     uint16 // distinct conversations within ±window
	nCold     uint16 // distinct conversations written to cold within ±window
	nColdLink uint16 // ... with a link
	nColdWord uint16 // ... with scam wording (a content rule, not the Bayes model)
	chars     uint32 // characters of the messages within ±burst window
	cConv     uint16 // content fan-out levels reached (thresholds)
	cSenders  uint16
	emitted   uint8 // tiers flagged, by tier index
}

// hasFeatures: the message's features arrived (an entry may exist with
// only a content fan-out signal so far).
const hasFeatures uint16 = 1 << 15

// NewSenderStage builds the spam-sender stage running rules.
func NewSenderStage(rules []*detectors.Rule) (detectors.Stage, error) { return newSenderStage(rules) }

func newSenderStage(rules []*detectors.Rule) (*SenderStage, error) {
	cfg, err := parseRules(rules, false)
	if err != nil {
		return nil, err
	}
	s := &SenderStage{senders: state.NewLRU[senderState](), bits: map[string]uint8{}}
	s.setConfig(cfg)
	return s, nil
}

func (s *SenderStage) setConfig(cfg *config) {
	s.cfg = cfg
	for b, id := range s.intern {
		s.byBit[b] = cfg.contentByID[id]
	}
}

// Stream implements detectors.Stage.
func (s *SenderStage) Stream() string { return StreamSender }

// StateEntries implements detectors.StateSizer: the messages held.
func (s *SenderStage) StateEntries() int { return s.entries }

// Senders is how many senders the stage holds.
func (s *SenderStage) Senders() int { return s.senders.Len() }

// Reload implements detectors.Reloader: new weights, tiers and windows;
// the messages held stay. Tiers keep what they flagged, by rule id; when a
// window changed, every held message is counted again.
func (s *SenderStage) Reload(rules []*detectors.Rule) error {
	cfg, err := parseRules(rules, false)
	if err != nil {
		return err
	}
	old := s.cfg
	remap := make([]int, len(old.tiers))
	for i, t := range old.tiers {
		remap[i] = slices.IndexFunc(cfg.tiers, func(n *tierRule) bool { return n.rule.ID == t.rule.ID })
	}
	recount := old.behaviour.window != cfg.behaviour.window || old.behaviour.burstWindow != cfg.behaviour.burstWindow
	s.setConfig(cfg)
	s.senders.Each(func(se *state.Entry[senderState]) {
		st := &se.Value
		for i := range st.msgs {
			e := &st.msgs[i]
			var em uint8
			for o, n := range remap {
				if n >= 0 && e.emitted&(1<<o) != 0 {
					em |= 1 << n
				}
			}
			e.emitted = em
		}
		if len(st.msgs) > cfg.behaviour.maxMessages {
			st.floor = max(st.floor, st.msgs[len(st.msgs)-cfg.behaviour.maxMessages-1].at)
			s.trim(st)
		}
		if recount {
			s.recount(st)
		}
	})
	for s.senders.Len() > 0 && (s.senders.Len() > cfg.behaviour.maxSenders || s.entries > cfg.behaviour.maxEntries) {
		s.removeSender(s.senders.Oldest())
	}
	return nil
}

// Handle implements detectors.Stage. A value it cannot decode, or whose
// sender is not key, is an error wrapping ErrBadRecord.
func (s *SenderStage) Handle(key string, value []byte, out []detectors.Flag) ([]detectors.Flag, error) {
	kind, body, err := recordKind(value)
	if err != nil {
		return out, err
	}
	switch kind {
	case recMessage:
		if err := decodeMessage(body, &s.rec); err != nil {
			return out, err
		}
		if string(s.rec.senderID) != key {
			return out, fmt.Errorf("%w: sender of a message record is not the key", ErrBadRecord)
		}
		return s.message(key, &s.rec, out), nil
	case recContent:
		if err := decodeContent(body, &s.crec); err != nil {
			return out, err
		}
		if string(s.crec.senderID) != key {
			return out, fmt.Errorf("%w: sender of a content record is not the key", ErrBadRecord)
		}
		return s.content(key, &s.crec, out), nil
	}
	return out, fmt.Errorf("%w: record kind %d on stream %s", ErrBadRecord, kind, StreamSender)
}

// hashID is the 64-bit hash the stages know ids by.
func hashID[S bytestring](id S) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return mix(h)
}

// advance moves the stage's event time and drops senders idle for longer
// than anything they hold could matter.
func (s *SenderStage) advance(t int64) {
	switch {
	case s.clock == 0:
		s.clock = t
	case t > s.clock:
		s.clock += min(t-s.clock, maxClockStep)
	}
	b := s.cfg.behaviour
	idle := b.senderHorizon() + int64(b.lateness)
	for range idleEvictionsPerMessage {
		o := s.senders.Oldest()
		if o == nil || s.clock-o.Last <= idle {
			return
		}
		s.removeSender(o)
	}
}

func (s *SenderStage) removeSender(e *state.Entry[senderState]) {
	s.entries -= len(e.Value.msgs)
	s.senders.Remove(e)
}

// sender returns the state of sender after moving its window to t. To
// keep within max_senders and max_entries it first drops the least
// recently used senders (but not this one).
func (s *SenderStage) sender(sender string, t int64) *senderState {
	s.key = append(s.key[:0], sender...)
	b := s.cfg.behaviour
	known := s.senders.Get(sender) != nil
	for s.senders.Len() > 0 && (s.entries >= b.maxEntries || !known && s.senders.Len() >= b.maxSenders) {
		o := s.senders.Oldest()
		if o.Key == sender {
			break
		}
		s.removeSender(o)
	}
	st := &s.senders.Touch(s.key, t, math.MaxInt, newSenderState).Value
	st.wm = max(st.wm, t)
	if f := st.wm - s.cfg.behaviour.senderHorizon(); f > st.floor {
		st.floor = f
	}
	s.trim(st)
	return st
}

// trim drops the messages at or before the floor.
func (s *SenderStage) trim(st *senderState) {
	n := 0
	for n < len(st.msgs) && st.msgs[n].at <= st.floor {
		n++
	}
	if n > 0 {
		st.msgs = slices.Delete(st.msgs, 0, n)
		s.entries -= n
	}
}

// find returns where message (at, key) is or would be.
func (st *senderState) find(at int64, key uint64) (int, bool) {
	return slices.BinarySearchFunc(st.msgs, at, func(e msgEntry, at int64) int {
		switch {
		case e.at < at:
			return -1
		case e.at > at:
			return 1
		case e.key < key:
			return -1
		case e.key > key:
			return 1
		}
		return 0
	})
}

// insert adds an empty entry for (at, key) at i and applies the cap on
// messages per sender; it returns the entry's index, or -1 when the cap
// dropped it at once (it was the oldest).
func (s *SenderStage) insert(st *senderState, i int, at int64, key uint64) int {
	st.msgs = slices.Insert(st.msgs, i, msgEntry{at: at, key: key})
	s.entries++
	if len(st.msgs) > s.cfg.behaviour.maxMessages {
		st.floor = max(st.floor, st.msgs[0].at)
		before := len(st.msgs)
		s.trim(st)
		i -= before - len(st.msgs)
	}
	return i
}

func (s *SenderStage) message(sender string, r *messageRec[[]byte], out []detectors.Flag) []detectors.Flag {
	t := r.sentAt
	s.advance(t)
	st := s.sender(sender, t)
	if t <= st.floor {
		return out // later than the allowed lateness: see docs/spam.md
	}
	k := hashID(r.msgID)
	i, found := st.find(t, k)
	if found && st.msgs[i].flags&hasFeatures != 0 {
		return out // delivered twice
	}
	if !found {
		if i = s.insert(st, i, t, k); i < 0 {
			return out
		}
	}
	e := &st.msgs[i]
	e.conv = hashID(r.convID)
	n := len(r.msgID) + len(r.convID) + 2*maxIDPrefix
	for _, p := range r.recipients {
		n += len(p) + maxIDPrefix
	}
	ids := appendBytes(make([]byte, 0, n), r.msgID)
	ids = appendBytes(ids, r.convID)
	for _, p := range r.recipients {
		ids = appendBytes(ids, p)
	}
	e.ids = string(ids)
	e.hits = 0
	for _, h := range r.hits {
		if b, ok := s.bit(h.id); ok {
			e.hits |= 1 << b
		}
	}
	e.age = int32(min(r.accountAge, math.MaxInt32))
	e.runes = r.runes
	e.flags = r.flags | hasFeatures
	e.links = uint8(min(r.links, math.MaxUint8))
	return s.count(st, sender, i, out)
}

// bit returns the bit of a content rule id, interning it if the rules know
// it.
func (s *SenderStage) bit(id []byte) (uint8, bool) {
	if b, ok := s.bits[string(id)]; ok {
		return b, true
	}
	cr := s.cfg.contentByID[string(id)]
	if cr == nil || len(s.intern) == maxContentBits {
		return 0, false
	}
	b := uint8(len(s.intern))
	s.intern = append(s.intern, cr.key)
	s.bits[cr.key] = b
	s.byBit[b] = cr
	return b, true
}

func (s *SenderStage) content(sender string, r *contentRec[[]byte], out []detectors.Flag) []detectors.Flag {
	t := r.sentAt
	s.advance(t)
	st := s.sender(sender, t)
	if t <= st.floor {
		return out
	}
	k := hashID(r.msgID)
	i, found := st.find(t, k)
	if !found {
		if i = s.insert(st, i, t, k); i < 0 {
			return out
		}
	}
	e := &st.msgs[i]
	c, n := sat16(r.convs), sat16(r.senders)
	if c <= e.cConv && n <= e.cSenders {
		return out
	}
	e.cConv, e.cSenders = max(e.cConv, c), max(e.cSenders, n)
	return s.evaluate(e, sender, out)
}

func sat16(v uint32) uint16 { return uint16(min(v, math.MaxUint16)) }

func inc16(p *uint16) {
	if *p < math.MaxUint16 {
		*p++
	}
}

// count works out the counts of the new message at i, adds it to the
// counts of the messages around it, and scores every message whose counts
// changed.
//
// A message e's count of distinct conversations goes up by one for the new
// message x (conversation c) unless another message of c lies in e's
// window. The messages of c nearest to x on either side (p before, q
// after) decide it: e's window is an interval that holds x, so it holds a
// message of c other than x if and only if it holds p or q. For a message
// whose window reaches the floor, p may have been dropped, so its
// conversation counts are left as they are: they stay counts over a subset
// of the true records, never more. (Message and character counts need no
// such care: x is not a repeat of a dropped record, since nothing at or
// before the floor is accepted.)
func (s *SenderStage) count(st *senderState, sender string, i int, out []detectors.Flag) []detectors.Flag {
	b := s.cfg.behaviour
	wf, wb := int64(b.window), int64(b.burstWindow)
	w := max(wf, wb)
	x := &st.msgs[i]
	cold := x.flags&flagCold != 0
	coldLink := cold && x.flags&flagLink != 0
	coldWord := cold && s.wording(x)
	const none = math.MinInt64
	pAny, pCold, pLink, pWord := int64(none), int64(none), int64(none), int64(none)
	qAny, qCold, qLink, qWord := int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64)
	lo, hi := st.span(x.at-2*w, x.at+2*w)
	all, colds, links, words := &s.sets[0], &s.sets[1], &s.sets[2], &s.sets[3]
	all.reset(hi - lo)
	colds.reset(hi - lo)
	links.reset(hi - lo)
	words.reset(hi - lo)
	all.add(x.conv)
	if cold {
		colds.add(x.conv)
	}
	if coldLink {
		links.add(x.conv)
	}
	if coldWord {
		words.add(x.conv)
	}
	x.nBurst, x.chars = 1, x.runes
	for j := lo; j < hi; j++ {
		e := &st.msgs[j]
		if j == i || e.flags&hasFeatures == 0 {
			continue
		}
		dt := abs(e.at - x.at)
		if dt <= wb {
			inc16(&x.nBurst)
			x.chars = satAdd(x.chars, e.runes)
		}
		ec := e.flags&flagCold != 0
		el := ec && e.flags&flagLink != 0
		ew := ec && s.wording(e)
		if dt <= wf {
			all.add(e.conv)
			if ec {
				colds.add(e.conv)
			}
			if el {
				links.add(e.conv)
			}
			if ew {
				words.add(e.conv)
			}
		}
		if e.conv == x.conv {
			if j < i {
				pAny = e.at
				if ec {
					pCold = e.at
				}
				if el {
					pLink = e.at
				}
				if ew {
					pWord = e.at
				}
			} else {
				qAny = min(qAny, e.at)
				if ec {
					qCold = min(qCold, e.at)
				}
				if el {
					qLink = min(qLink, e.at)
				}
				if ew {
					qWord = min(qWord, e.at)
				}
			}
		}
	}
	x.nConv, x.nCold, x.nColdLink, x.nColdWord = all.count(), colds.count(), links.count(), words.count()
	xAt, xRunes := x.at, x.runes
	for j := lo; j < hi; j++ {
		e := &st.msgs[j]
		if j == i || e.flags&hasFeatures == 0 {
			continue
		}
		dt := abs(e.at - xAt)
		changed := false
		if dt <= wb { // x is new: no record at or before the floor is accepted
			inc16(&e.nBurst)
			e.chars = satAdd(e.chars, xRunes)
			changed = true
		}
		if dt <= wf && e.at-wf > st.floor {
			from, to := e.at-wf, e.at+wf
			if pAny < from && qAny > to {
				inc16(&e.nConv)
				changed = true
			}
			if cold && pCold < from && qCold > to {
				inc16(&e.nCold)
				changed = true
			}
			if coldLink && pLink < from && qLink > to {
				inc16(&e.nColdLink)
				changed = true
			}
			if coldWord && pWord < from && qWord > to {
				inc16(&e.nColdWord)
				changed = true
			}
		}
		if changed {
			out = s.evaluate(e, sender, out)
		}
	}
	return s.evaluate(&st.msgs[i], sender, out)
}

// recount works out every count of a sender's messages again from the
// messages held, after a window changed. A message whose new window
// reaches the floor is counted over what is held: a subset of its records,
// as after any eviction.
func (s *SenderStage) recount(st *senderState) {
	b := s.cfg.behaviour
	wf, wb := int64(b.window), int64(b.burstWindow)
	for i := range st.msgs {
		x := &st.msgs[i]
		if x.flags&hasFeatures == 0 {
			continue
		}
		x.nBurst, x.chars = 0, 0
		lo, hi := st.span(x.at-max(wf, wb), x.at+max(wf, wb))
		all, colds, links, words := &s.sets[0], &s.sets[1], &s.sets[2], &s.sets[3]
		all.reset(hi - lo)
		colds.reset(hi - lo)
		links.reset(hi - lo)
		words.reset(hi - lo)
		for j := lo; j < hi; j++ {
			e := &st.msgs[j]
			if e.flags&hasFeatures == 0 {
				continue
			}
			dt := abs(e.at - x.at)
			if dt <= wb {
				inc16(&x.nBurst)
				x.chars = satAdd(x.chars, e.runes)
			}
			if dt <= wf {
				all.add(e.conv)
				if e.flags&flagCold != 0 {
					colds.add(e.conv)
					if e.flags&flagLink != 0 {
						links.add(e.conv)
					}
					if s.wording(e) {
						words.add(e.conv)
					}
				}
			}
		}
		// A count never goes down: what was counted before the reload
		// was true then.
		x.nConv, x.nCold, x.nColdLink, x.nColdWord = all.count(), colds.count(), links.count(), words.count()
	}
}

// wording reports whether a message carries scam wording: a content rule
// hit, not only the Bayes model's guess.
func (s *SenderStage) wording(e *msgEntry) bool {
	for h := e.hits; h != 0; h &= h - 1 {
		if cr := s.byBit[bits.TrailingZeros64(h)]; cr != nil && !cr.statistical {
			return true
		}
	}
	return false
}

// span returns the index range of the messages sent within [from, to].
func (st *senderState) span(from, to int64) (int, int) {
	lo, _ := slices.BinarySearchFunc(st.msgs, from, func(e msgEntry, t int64) int {
		if e.at < t {
			return -1
		}
		return 1
	})
	hi, _ := slices.BinarySearchFunc(st.msgs, to, func(e msgEntry, t int64) int {
		if e.at <= t {
			return -1
		}
		return 1
	})
	return lo, hi
}

func abs(d int64) int64 {
	if d < 0 {
		return -d
	}
	return d
}

func satAdd(a, b uint32) uint32 {
	if a > math.MaxUint32-b {
		return math.MaxUint32
	}
	return a + b
}

// countSet counts distinct hashes (already mixed, so their low bits are
// uniform) in an open-addressing table that is never cleared: each count
// has its own generation, and slots of older generations are free.
type countSet struct {
	keys []uint64
	gens []uint32
	gen  uint32
	n    int
}

// reset starts a count of at most size values.
func (c *countSet) reset(size int) {
	if need := max(16, 2*size); len(c.keys) < need {
		n := 16
		for n < need {
			n <<= 1
		}
		c.keys, c.gens, c.gen = make([]uint64, n), make([]uint32, n), 0
	}
	c.gen++
	if c.gen == 0 {
		clear(c.gens)
		c.gen = 1
	}
	c.n = 0
}

func (c *countSet) add(v uint64) {
	mask := uint64(len(c.keys) - 1)
	for i := v & mask; ; i = (i + 1) & mask {
		switch {
		case c.gens[i] != c.gen:
			c.gens[i], c.keys[i] = c.gen, v
			c.n++
			return
		case c.keys[i] == v:
			return
		}
	}
}

func (c *countSet) count() uint16 { return uint16(min(c.n, math.MaxUint16)) }
