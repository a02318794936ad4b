package spam

import (
	"embed"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/state"
	"github.com/goshawk-safety/goshawk/detectors/text"
	"github.com/goshawk-safety/goshawk/event"
)

// Name is the detector's name, stored in every flag it raises.
const Name = "spam"

// The streams of the spam stages: the internal topics the pipeline routes
// their records through.
const (
	StreamFingerprint = "spam-fingerprint" // keyed by fingerprint band bucket, "b<band>:<4 hex digits>"
	StreamSender      = "spam-sender"      // keyed by sender id
)

//go:embed rules.yaml
var ruleFiles embed.FS

// Factory returns the spam detector's factory, with its two stages.
func Factory() detectors.Factory {
	// The instances of one factory (one per worker, and one per rule
	// example checked) share the compiled rules, which are read-only.
	cache := &detectors.CompileCache[*config]{}
	return detectors.Factory{
		Name:        Name,
		Description: "spam and scams: content fan-out, sender behaviour, links and scam wording, scored together",
		RuleFields:  RuleFields(),
		Rules:       ruleFiles,
		New: func(rules []*detectors.Rule) (detectors.Detector, error) {
			return newCached(rules, cache)
		},
		Stages: []detectors.StageFactory{
			{Stream: StreamFingerprint, New: NewFingerprintStage},
			{Stream: StreamSender, New: NewSenderStage},
		},
	}
}

// NewStages builds both stages for rules, by stream: what Route and an
// in-process replay need.
func NewStages(rules []*detectors.Rule) (map[string]detectors.Stage, error) {
	out := map[string]detectors.Stage{}
	for _, sf := range Factory().Stages {
		s, err := sf.New(rules)
		if err != nil {
			return nil, err
		}
		out[sf.Stream] = s
	}
	return out, nil
}

// maxParticipants is how many senders of a conversation the detector
// remembers (the earliest ones): enough to tell a stranger's first message
// in a one-to-one conversation or a small group.
const maxParticipants = 8

// idleEvictionsPerMessage bounds the idle conversations one message may
// evict, so that one far-future sent_at cannot wipe the state at once.
const idleEvictionsPerMessage = 4

// Detector is the spam detector of the per-conversation engine. It raises
// no finding: for each message it works out what the text and the
// conversation show (scam wording, links, whether the sender writes first
// to someone who has not written, the account's age, a fingerprint) and
// forwards them to its stages, which score the sender's behaviour across
// conversations and flag (see SenderStage).
//
// Its state is per conversation: the earliest senders, each with the time
// and id of their first message there. It is durable (detectors.Durable):
// what it answers for a message is a function of the earliest messages of
// the conversation only, so re-processing after a restore gives the same
// answer.
type Detector struct {
	detectors.Watermark // the event time idle conversations are reclaimed by
	cfg                 *config
	z                   *text.Shared    // the message text; the engine's, shared by its detectors (see ShareText)
	zl                  text.Normalizer // link host labels
	fp                  fingerprinter
	matches             []text.Match
	fmatch              []text.FrameMatch
	fscratch            text.FrameScratch
	arts                []uint64 // artefact hashes of the last message (artefacts.go)
	bscratch            bayesScratch
	seen                []uint8 // per content rule: 1 a phrase matched, 2 a `with` phrase matched
	convs               *state.LRU[convState]
	dirty               map[string]struct{}
	key                 []byte
	pending             []detectors.Forward
	feat                features
	rec                 messageRec[string]
}

// features are what Inspect worked out about the last message.
type features struct {
	hits       []*contentRule
	bayes      float64 // the Bayes rule's probability; -1 when none
	links      linkScan
	first      bool
	cold       bool
	accountAge int64 // seconds; -1 when unknown
	runes      int
	simhash    uint64
	words      int
	printed    bool
	forwarded  bool
}

// New builds a spam detector running rules.
func New(rules []*detectors.Rule) (detectors.Detector, error) { return newCached(rules, nil) }

func newCached(rules []*detectors.Rule, cache *detectors.CompileCache[*config]) (detectors.Detector, error) {
	cfg, err := cache.Compile(rules, compileMatcher)
	if err != nil {
		return nil, err
	}
	return &Detector{cfg: cfg, convs: state.NewLRU[convState](), dirty: map[string]struct{}{}, seen: make([]uint8, len(cfg.content))}, nil
}

func compileMatcher(rules []*detectors.Rule) (*config, error) { return parseRules(rules, true) }

// Name implements detectors.Detector.
func (d *Detector) Name() string { return Name }

// ShareText makes the detector normalise message text with the engine's
// shared normaliser (detectors.TextSharer), so each message is normalised
// once for all detectors.
func (d *Detector) ShareText(z *text.Shared) { d.z = z }

// Reload implements detectors.Reloader: new rules, the same conversation
// state.
func (d *Detector) Reload(rules []*detectors.Rule) error {
	cfg, err := parseRules(rules, true)
	if err != nil {
		return err
	}
	d.cfg, d.seen = cfg, make([]uint8, len(cfg.content))
	for d.convs.Len() > cfg.behaviour.maxConvs {
		d.drop(d.convs.Oldest())
	}
	return nil
}

// StateEntries implements detectors.StateSizer: the conversations the
// detector remembers.
func (d *Detector) StateEntries() int { return d.convs.Len() }

// Inspect implements detectors.Detector. It never returns a finding; the
// forwards it leaves are collected by TakeForwards right after it.
func (d *Detector) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	d.pending = d.pending[:0] // forwards not collected after the previous message are not wanted
	d.analyse(m)
	d.forward(m)
	return out
}

// TakeForwards implements detectors.Forwarder: the records of the last
// message, one for spam-sender and, when the text has a fingerprint, one
// per band for spam-fingerprint. The values are not reused.
func (d *Detector) TakeForwards(out []detectors.Forward) []detectors.Forward {
	out = append(out, d.pending...)
	d.pending = d.pending[:0]
	return out
}

func (d *Detector) analyse(m *event.Message) {
	f := &d.feat
	cfg := d.cfg
	if d.z == nil {
		d.z = new(text.Shared)
	}
	n := d.z.Normalize(m.Text)
	f.hits = f.hits[:0]
	if cfg.matcher != nil || cfg.frames != nil {
		d.matches = d.matches[:0]
		if cfg.matcher != nil {
			d.matches = d.z.Match(cfg.matcher, n, d.matches)
		}
		clear(d.seen)
		for _, mt := range d.matches {
			if text.InQuotes(m.Text, mt.OrigStart, mt.OrigEnd) {
				continue // reported speech: "they said 'you won a prize'"
			}
			bit := uint8(1)
			if cfg.phraseWith[mt.ID] {
				bit = 2
			}
			d.seen[cfg.phraseRule[mt.ID]] |= bit
		}
		if cfg.frames != nil {
			d.fmatch = d.z.MatchFrames(cfg.frames, n, &d.fscratch, d.fmatch[:0])
			for _, fm := range d.fmatch {
				if !text.InQuotes(m.Text, fm.OrigStart, fm.OrigEnd) {
					d.seen[cfg.frameRule[fm.ID]] |= 1
				}
			}
		}
		for i, cr := range cfg.content {
			want := uint8(1)
			if cr.hasWith {
				want = 3
			}
			if d.seen[i]&want == want {
				f.hits = append(f.hits, cr)
			}
		}
	}
	f.bayes = -1
	if b := cfg.bayes; b != nil && b.scorer != nil {
		if f.bayes = b.scorer.score(n.Text, &d.bscratch); f.bayes >= 0 {
			if band := b.band(f.bayes); band != nil {
				f.hits = append(f.hits, band)
			}
		}
	}
	f.simhash, f.words, f.printed = 0, 0, false
	// A text of fewer words than min_words cannot have that many distinct
	// canonical words: most chat stops here.
	if cfg.behaviour.contentWindow > 0 && strings.Count(n.Text, " ")+1 >= cfg.behaviour.minWords {
		f.simhash, f.words = d.fp.simhash(n)
		f.printed = f.words >= cfg.behaviour.minWords
		if !f.printed {
			f.simhash = 0
		}
	}
	cfg.links.scan(m.Text, &d.zl, &f.links)
	f.runes = utf8.RuneCountInString(m.Text)
	f.accountAge = -1
	if c := m.Sender.AccountCreatedAt; c != nil {
		f.accountAge = max(0, int64(m.SentAt.Sub(*c).Seconds()))
	}
	f.first, f.cold = d.observe(m)
}

// forwardable: the stages key and decode by these; an event that passed
// event.Decode always has them.
func forwardable(m *event.Message) bool {
	ok := func(id string) bool { return id != "" && len(id) <= event.MaxIDBytes && utf8.ValidString(id) }
	return ok(m.MessageID) && ok(m.ConversationID) && ok(m.Sender.ID) &&
		!m.SentAt.Before(event.MinSentAt) && m.SentAt.Before(event.MaxSentAt)
}

func (d *Detector) forward(m *event.Message) {
	f := &d.feat
	f.forwarded = forwardable(m)
	if !f.forwarded {
		return
	}
	r := &d.rec
	*r = messageRec[string]{
		msgID: m.MessageID, convID: m.ConversationID, senderID: m.Sender.ID,
		sentAt: m.SentAt.UnixNano(), accountAge: f.accountAge, runes: uint32(f.runes),
		links: uint16(min(f.links.count, math.MaxUint16)), simhash: f.simhash,
		recipients: r.recipients[:0], hits: r.hits[:0],
	}
	r.flags = flagIf(f.first, flagFirst) | flagIf(f.cold, flagCold) | flagIf(f.links.count > 0, flagLink) |
		flagIf(f.links.shortener, flagShortener) | flagIf(f.links.punycode, flagPunycode) |
		flagIf(f.links.lookalike, flagLookalike) | flagIf(f.printed, flagPrinted)
	size := 64 + len(m.MessageID) + len(m.ConversationID) + len(m.Sender.ID)
	for _, p := range m.Recipients {
		if len(r.recipients) == maxRecipients {
			break
		}
		if p.ID == "" || len(p.ID) > event.MaxIDBytes || !utf8.ValidString(p.ID) {
			continue
		}
		r.recipients = append(r.recipients, p.ID)
		size += len(p.ID) + 2
	}
	for _, cr := range f.hits {
		r.hits = append(r.hits, hitRec[string]{id: cr.key, weight: float32(cr.weight) / points})
		size += len(cr.key) + 6
	}
	d.arts = scanArtefacts(m.Text, d.arts[:0])
	if f.printed {
		size += 32 + len(m.MessageID) + len(m.ConversationID) + len(m.Sender.ID)
	}
	size += len(d.arts) * (32 + len(m.MessageID) + len(m.ConversationID) + len(m.Sender.ID))
	buf := make([]byte, 0, size)
	buf = appendMessage(buf, r)
	d.pending = append(d.pending, detectors.Forward{Stream: StreamSender, Key: m.Sender.ID, Value: buf[:len(buf):len(buf)]})
	// One fingerprint record per artefact, its hash as the fingerprint, in
	// the artefact's own bucket (artefacts.go).
	for _, h := range d.arts {
		start := len(buf)
		buf = appendPrint(buf, &printRec[string]{msgID: m.MessageID, convID: m.ConversationID, senderID: m.Sender.ID, sentAt: r.sentAt, simhash: h})
		d.pending = append(d.pending, detectors.Forward{Stream: StreamFingerprint, Key: artefactKey(h), Value: buf[start:len(buf):len(buf)]})
	}
	if !f.printed {
		return
	}
	start := len(buf)
	buf = appendPrint(buf, &printRec[string]{msgID: m.MessageID, convID: m.ConversationID, senderID: m.Sender.ID, sentAt: r.sentAt, simhash: f.simhash})
	value := buf[start:len(buf):len(buf)] // the same for every band; only the key differs
	var kb strings.Builder
	kb.Grow(7 * bands)
	for b := range bands {
		kb.WriteString(bandKey(f.simhash, b))
	}
	keys := kb.String()
	for b := range bands {
		d.pending = append(d.pending, detectors.Forward{Stream: StreamFingerprint, Key: keys[7*b : 7*b+7], Value: value})
	}
}

func flagIf(on bool, f uint16) uint16 {
	if on {
		return f
	}
	return 0
}

// convState is what the detector remembers of a conversation: its earliest
// senders (at most maxParticipants), ordered by their first message.
type convState struct {
	parts []participant
}

type participant struct {
	sender string
	at     int64 // sent_at of their first message, Unix ns
	msg    string
}

func (p *participant) before(at int64, msg string) bool {
	return p.at < at || p.at == at && p.msg < msg
}

func newConvState() convState { return convState{} }

func (c *convState) index(sender string) int {
	for i := range c.parts {
		if c.parts[i].sender == sender {
			return i
		}
	}
	return -1
}

func (c *convState) sort() {
	slices.SortFunc(c.parts, func(a, b participant) int {
		switch {
		case a.before(b.at, b.msg):
			return -1
		case b.before(a.at, a.msg):
			return 1
		}
		return 0
	})
}

// observe records a message and says whether it is its sender's first in
// the conversation, and whether it is cold: no one else had written before
// it. Both depend only on the earliest messages of the conversation, so the
// answer for a message is the same whenever it is (re-)processed.
func (c *convState) observe(sender, msg string, at int64) (first, cold, changed bool) {
	i := c.index(sender)
	switch {
	case i >= 0:
		if !c.parts[i].before(at, msg) && (c.parts[i].at != at || c.parts[i].msg != msg) {
			c.parts[i].at, c.parts[i].msg = at, strings.Clone(msg)
			changed = true
		}
	case len(c.parts) < maxParticipants:
		c.parts = append(c.parts, participant{sender: strings.Clone(sender), at: at, msg: strings.Clone(msg)})
		changed = true
	case !c.parts[len(c.parts)-1].before(at, msg):
		c.parts[len(c.parts)-1] = participant{sender: strings.Clone(sender), at: at, msg: strings.Clone(msg)}
		changed = true
	}
	if changed {
		c.sort()
	}
	i = c.index(sender)
	if i < 0 {
		return false, false, changed // a late newcomer to a full group: neither
	}
	first = c.parts[i].at == at && c.parts[i].msg == msg
	cold = true
	for j := range c.parts {
		if j != i && c.parts[j].before(at, msg) {
			cold = false
		}
	}
	return first, cold, changed
}

func (c *convState) last() int64 {
	var t int64 = math.MinInt64
	for _, p := range c.parts {
		t = max(t, p.at)
	}
	return t
}

func (d *Detector) observe(m *event.Message) (first, cold bool) {
	if m.ConversationID == "" || m.Sender.ID == "" {
		return false, false
	}
	t := m.SentAt.UnixNano()
	idle, horizon := int64(d.cfg.behaviour.convIdle), d.Horizon(t)
	for range idleEvictionsPerMessage {
		o := d.convs.Oldest()
		if o == nil || horizon-o.Last <= idle {
			break
		}
		d.drop(o)
	}
	if d.convs.Get(m.ConversationID) == nil {
		for d.convs.Len() >= d.cfg.behaviour.maxConvs {
			d.drop(d.convs.Oldest())
		}
	}
	d.key = append(d.key[:0], m.ConversationID...)
	e := d.convs.Touch(d.key, t, math.MaxInt, newConvState)
	first, cold, changed := e.Value.observe(m.Sender.ID, m.MessageID, t)
	if changed {
		d.markDirty(e.Key)
	}
	return first, cold
}

// maxDirty bounds the changes waiting for TakeChanged, for a caller that
// never takes them (a replay without a changelog): past it they are
// forgotten. A pipeline takes them after every batch, far more often.
const maxDirty = 1 << 16

func (d *Detector) markDirty(key string) {
	if len(d.dirty) >= maxDirty {
		clear(d.dirty)
	}
	d.dirty[key] = struct{}{}
}

func (d *Detector) drop(e *state.Entry[convState]) {
	d.markDirty(e.Key)
	d.convs.Remove(e)
}

// TakeChanged implements detectors.Durable, in key order.
func (d *Detector) TakeChanged(fn func(key string, state []byte)) {
	keys := make([]string, 0, len(d.dirty))
	for k := range d.dirty {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	clear(d.dirty)
	for _, k := range keys {
		if e := d.convs.Get(k); e != nil {
			fn(k, e.Value.encode())
		} else {
			fn(k, nil)
		}
	}
}

// Restore implements detectors.Durable.
func (d *Detector) Restore(key string, b []byte) error {
	if b == nil {
		if e := d.convs.Get(key); e != nil {
			d.convs.Remove(e)
		}
		delete(d.dirty, key)
		return nil
	}
	c, err := decodeConvState(b)
	if err != nil {
		return err
	}
	if d.convs.Get(key) == nil {
		for d.convs.Len() >= d.cfg.behaviour.maxConvs {
			d.drop(d.convs.Oldest())
		}
	}
	e := d.convs.Touch([]byte(key), c.last(), math.MaxInt, newConvState)
	e.Value = c
	return nil
}

const convStateVersion = 1

func (c *convState) encode() []byte {
	b := make([]byte, 0, 2+len(c.parts)*48)
	b = append(b, convStateVersion)
	b = binary.AppendUvarint(b, uint64(len(c.parts)))
	for _, p := range c.parts {
		b = appendBytes(b, p.sender)
		b = binary.AppendVarint(b, p.at)
		b = appendBytes(b, p.msg)
	}
	return b
}

func decodeConvState(b []byte) (convState, error) {
	if len(b) == 0 || b[0] != convStateVersion {
		return convState{}, fmt.Errorf("spam: conversation state: unknown format")
	}
	d := decoder{b: b[1:]}
	n := int(d.uvarint("participants", maxParticipants))
	var c convState
	for range n {
		sender := d.id("sender")
		at := d.sentAt()
		msg := d.id("message_id")
		if d.err != nil {
			break
		}
		if c.index(string(sender)) >= 0 {
			d.fail("sender %q twice", sender)
			break
		}
		c.parts = append(c.parts, participant{sender: string(sender), at: at, msg: string(msg)})
	}
	if err := d.end(); err != nil {
		return convState{}, fmt.Errorf("spam: conversation state: %w", err)
	}
	c.sort()
	return c, nil
}
