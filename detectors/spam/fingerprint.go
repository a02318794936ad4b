package spam

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/state"
)

// FingerprintStage is the stage of stream spam-fingerprint, keyed by
// fingerprint band bucket. It holds the recent fingerprints of each bucket
// and works out content fan-out: for a message m, the distinct
// conversations and distinct senders among its near-duplicates in the
// bucket (fingerprints at most max_distance bits from m's, m included)
// sent within ±content window of m. When one of these reaches a level of
// the behaviour rule's content_fanout for the first time, it forwards the
// levels m reached to spam-sender, keyed by m's sender.
//
// A message's fan-out is counted per bucket; its 4 buckets may sit on
// four instances and see different subsets of its near-duplicates (each
// pair of near-duplicates shares at least one). The sender stage keeps the
// highest level any bucket reported, so a message's content fan-out is the
// largest count over its buckets: a function of the set of records, like
// every other signal. Counts are of distinct conversations and senders, so
// a record delivered twice changes nothing.
type FingerprintStage struct {
	cfg     *config
	buckets *state.LRU[bucket]
	entries int
	clock   int64
	key     []byte
	rec     printRec[[]byte]
	convs   countSet
	senders countSet
	pending []detectors.Forward
}

type bucket struct {
	wm, floor int64
	prints    []printEntry // by (at, key)
}

type printEntry struct {
	at      int64
	key     uint64 // hash of the message id
	hash    uint64 // the fingerprint
	conv    uint64
	sender  uint64
	ids     string // message id and sender id, as appendBytes packs them
	emitted uint8  // levels signalled: conversation levels in bits 0-3, sender levels in bits 4-7
}

func newBucket() bucket { return bucket{wm: math.MinInt64, floor: math.MinInt64} }

// NewFingerprintStage builds the spam-fingerprint stage running rules.
func NewFingerprintStage(rules []*detectors.Rule) (detectors.Stage, error) {
	return newFingerprintStage(rules)
}

func newFingerprintStage(rules []*detectors.Rule) (*FingerprintStage, error) {
	cfg, err := parseRules(rules, false)
	if err != nil {
		return nil, err
	}
	return &FingerprintStage{cfg: cfg, buckets: state.NewLRU[bucket]()}, nil
}

// Stream implements detectors.Stage.
func (s *FingerprintStage) Stream() string { return StreamFingerprint }

// StateEntries implements detectors.StateSizer: the fingerprints held,
// over all buckets.
func (s *FingerprintStage) StateEntries() int { return s.entries }

// Reload implements detectors.Reloader. The fingerprints held stay (up to
// a smaller max_bucket_entries, the newest). When
// the levels changed, what each message had signalled is forgotten, so
// that it signals again what it reaches under the new levels (the sender
// stage keeps the highest level it heard of, so a repeat changes
// nothing).
func (s *FingerprintStage) Reload(rules []*detectors.Rule) error {
	cfg, err := parseRules(rules, false)
	if err != nil {
		return err
	}
	old := s.cfg.behaviour
	relevel := !sameLevels(old.contentConvs, cfg.behaviour.contentConvs) || !sameLevels(old.contentSenders, cfg.behaviour.contentSenders)
	s.buckets.Each(func(e *state.Entry[bucket]) {
		b := &e.Value
		if len(b.prints) > cfg.behaviour.maxPrints {
			b.floor = max(b.floor, b.prints[len(b.prints)-cfg.behaviour.maxPrints-1].at)
			s.trim(b)
		}
		if relevel {
			for i := range b.prints {
				b.prints[i].emitted = 0
			}
		}
	})
	s.cfg = cfg
	return nil
}

// sameLevels reports whether two level lists have the same thresholds.
func sameLevels(a, b []level) bool {
	return slices.EqualFunc(a, b, func(x, y level) bool { return x.at == y.at })
}

// TakeForwards implements detectors.Forwarder: the content fan-out
// signals of the last Handle.
func (s *FingerprintStage) TakeForwards(out []detectors.Forward) []detectors.Forward {
	out = append(out, s.pending...)
	s.pending = s.pending[:0]
	return out
}

// Handle implements detectors.Stage. It never returns a flag. A value it
// cannot decode, or whose fingerprint does not fall in bucket key, is an
// error wrapping ErrBadRecord.
func (s *FingerprintStage) Handle(key string, value []byte, out []detectors.Flag) ([]detectors.Flag, error) {
	s.pending = s.pending[:0]
	kind, body, err := recordKind(value)
	if err != nil {
		return out, err
	}
	if kind != recPrint {
		return out, fmt.Errorf("%w: record kind %d on stream %s", ErrBadRecord, kind, StreamFingerprint)
	}
	r := &s.rec
	if err := decodePrint(body, r); err != nil {
		return out, err
	}
	if strings.HasPrefix(key, "a:") {
		// An artefact's bucket: the fingerprint is the artefact's hash.
		if key != artefactKey(r.simhash) {
			return out, fmt.Errorf("%w: artefact %016x not in bucket %q", ErrBadRecord, r.simhash, key)
		}
	} else if b, v, ok := parseBandKey(key); !ok || band(r.simhash, b) != v {
		return out, fmt.Errorf("%w: fingerprint not in bucket %q", ErrBadRecord, key)
	}
	s.add(key, r)
	return out, nil
}

func (s *FingerprintStage) advance(t int64) {
	switch {
	case s.clock == 0:
		s.clock = t
	case t > s.clock:
		s.clock += min(t-s.clock, maxClockStep)
	}
	beh := s.cfg.behaviour
	idle := beh.printHorizon() + int64(beh.lateness)
	for range idleEvictionsPerMessage {
		o := s.buckets.Oldest()
		if o == nil || s.clock-o.Last <= idle {
			return
		}
		s.entries -= len(o.Value.prints)
		s.buckets.Remove(o)
	}
}

func (s *FingerprintStage) trim(b *bucket) {
	n := 0
	for n < len(b.prints) && b.prints[n].at <= b.floor {
		n++
	}
	if n > 0 {
		b.prints = slices.Delete(b.prints, 0, n)
		s.entries -= n
	}
}

func (s *FingerprintStage) add(key string, r *printRec[[]byte]) {
	beh := s.cfg.behaviour
	if beh.contentWindow <= 0 {
		return // content fan-out is off
	}
	t := r.sentAt
	s.advance(t)
	s.key = append(s.key[:0], key...)
	for s.entries >= beh.maxPrintsTotal && s.buckets.Len() > 0 && s.buckets.Oldest().Key != key {
		o := s.buckets.Oldest()
		s.entries -= len(o.Value.prints)
		s.buckets.Remove(o)
	}
	b := &s.buckets.Touch(s.key, t, math.MaxInt, newBucket).Value
	b.wm = max(b.wm, t)
	if f := b.wm - beh.printHorizon(); f > b.floor {
		b.floor = f
	}
	s.trim(b)
	if t <= b.floor {
		return
	}
	k := hashID(r.msgID)
	i, found := slices.BinarySearchFunc(b.prints, t, func(e printEntry, at int64) int {
		switch {
		case e.at < at:
			return -1
		case e.at > at:
			return 1
		case e.key < k:
			return -1
		case e.key > k:
			return 1
		}
		return 0
	})
	if found {
		return // delivered twice
	}
	ids := appendBytes(make([]byte, 0, len(r.msgID)+len(r.senderID)+2*maxIDPrefix), r.msgID)
	ids = appendBytes(ids, r.senderID)
	b.prints = slices.Insert(b.prints, i, printEntry{
		at: t, key: k, hash: r.simhash, conv: hashID(r.convID), sender: hashID(r.senderID), ids: string(ids),
	})
	s.entries++
	if len(b.prints) > beh.maxPrints {
		b.floor = max(b.floor, b.prints[0].at)
		before := len(b.prints)
		s.trim(b)
		if i -= before - len(b.prints); i < 0 {
			return
		}
	}
	// The new fingerprint changes the counts of its near-duplicates in the
	// window, and only theirs.
	w := int64(beh.contentWindow)
	x := b.prints[i]
	for j := range b.prints {
		e := &b.prints[j]
		if abs(e.at-x.at) <= w && distance(e.hash, x.hash) <= beh.maxDistance {
			s.evaluate(b, j)
		}
	}
}

// evaluate counts the near-duplicates of entry j and signals the levels it
// reaches for the first time.
func (s *FingerprintStage) evaluate(b *bucket, j int) {
	beh := s.cfg.behaviour
	e := &b.prints[j]
	full := uint8(1<<len(beh.contentConvs)-1) | uint8(1<<len(beh.contentSenders)-1)<<maxLevels
	if e.emitted&full == full {
		return
	}
	w := int64(beh.contentWindow)
	s.convs.reset(len(b.prints))
	s.senders.reset(len(b.prints))
	// Entries sent after e.at+w cannot count: stop there. Those before
	// e.at-w are skipped.
	for k := range b.prints {
		f := &b.prints[k]
		if f.at > e.at+w {
			break
		}
		if f.at < e.at-w || distance(f.hash, e.hash) > beh.maxDistance {
			continue
		}
		s.convs.add(f.conv)
		s.senders.add(f.sender)
	}
	nc, ns := int(s.convs.count()), int(s.senders.count())
	var emit uint8
	var lc, ls uint32
	for l, lv := range beh.contentConvs {
		if nc >= lv.at {
			emit |= 1 << l
			lc = uint32(lv.at)
		}
	}
	for l, lv := range beh.contentSenders {
		if ns >= lv.at {
			emit |= 1 << (maxLevels + l)
			ls = uint32(lv.at)
		}
	}
	if emit&^e.emitted == 0 {
		return
	}
	e.emitted |= emit
	msg, rest := nextID(e.ids)
	sender, _ := nextID(rest)
	v := appendContent(make([]byte, 0, 24+len(e.ids)), &contentRec[string]{msgID: msg, senderID: sender, sentAt: e.at, convs: lc, senders: ls})
	s.pending = append(s.pending, detectors.Forward{Stream: StreamSender, Key: sender, Value: v})
}
