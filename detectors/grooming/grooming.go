package grooming

import (
	"embed"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/state"
	"github.com/goshawk-safety/goshawk/detectors/text"
	"github.com/goshawk-safety/goshawk/event"
)

// Name is the detector name stored in every flag it raises.
const Name = "grooming"

//go:embed rules.yaml
var builtinFS embed.FS

// Options bound the detector's per-conversation state.
type Options struct {
	// IdleExpiry is how long, in event time, a conversation's state is
	// kept after its last change (a stage signal, a stated age, a
	// context, a flag). A message after that starts the conversation
	// afresh.
	IdleExpiry time.Duration
	// MaxConversations caps the conversations whose state one detector
	// instance (one pipeline worker) keeps; past it, the conversation
	// changed least recently goes.
	MaxConversations int
}

// DefaultOptions keeps a conversation for 30 days after its last change,
// and at most 1,000,000 conversations per instance.
func DefaultOptions() Options {
	return Options{IdleExpiry: 30 * 24 * time.Hour, MaxConversations: 1_000_000}
}

func (o Options) validate() error {
	var errs []error
	if o.IdleExpiry <= 0 {
		errs = append(errs, fmt.Errorf("grooming: IdleExpiry %s must be positive", o.IdleExpiry))
	}
	if o.MaxConversations <= 0 {
		errs = append(errs, fmt.Errorf("grooming: MaxConversations %d must be positive", o.MaxConversations))
	}
	return errors.Join(errs...)
}

// Factory returns the registry entry of the grooming detector with the
// default options.
func Factory() detectors.Factory { return NewFactory(DefaultOptions()) }

// NewFactory returns the registry entry of the grooming detector with the
// given options. The factory's instances share the compiled form of their
// rules (it is immutable).
func NewFactory(opts Options) detectors.Factory {
	c := &compiler{}
	return detectors.Factory{
		Name:        Name,
		Description: "grooming: the stages of a grooming conversation (friendship, information, supervision, gifts, isolation, secrecy, another platform, photos, sexual content, meeting) scored per conversation with the participants' ages (rules.yaml)",
		RuleFields:  slices.Clone(ruleFields),
		Rules:       builtinFS,
		New: func(rules []*detectors.Rule) (detectors.Detector, error) {
			return newDetector(rules, opts, c)
		},
	}
}

// idleLateness is added to IdleExpiry before an idle conversation's memory
// is reclaimed on another conversation's message: conversations that one
// instance sees may run somewhat behind each other in event time.
const idleLateness = 24 * time.Hour

// idleEvictionsPerMessage bounds the idle conversations one message
// reclaims, so that a message with a far-future sent_at cannot wipe the
// state at once.
const idleEvictionsPerMessage = 4

// Detector is the grooming detector. Like every detector it is used by one
// goroutine at a time.
type Detector struct {
	detectors.Watermark // the event time idle conversations are reclaimed by
	opts                Options
	rs                  *ruleset
	c                   *compiler
	convs               *state.LRU[conv]
	key                 []byte
	changed             []string // keys of conversations marked dirty (see TakeChanged)
	dropped             []string // keys of persisted conversations that were dropped
	enc                 []byte
	sc                  scratch
}

var (
	_ detectors.Durable    = (*Detector)(nil)
	_ detectors.Reloader   = (*Detector)(nil)
	_ detectors.StateSizer = (*Detector)(nil)
)

// New returns a detector with the default options running rules: the
// grooming rules of a RuleSet whose mode is live or shadow.
func New(rules []*detectors.Rule) (*Detector, error) {
	return newDetector(rules, DefaultOptions(), nil)
}

func newDetector(rules []*detectors.Rule, opts Options, c *compiler) (*Detector, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	d := &Detector{opts: opts, c: c, convs: state.NewLRU[conv]()}
	if err := d.Reload(rules); err != nil {
		return nil, err
	}
	return d, nil
}

// Reload implements detectors.Reloader: it switches to rules, or returns
// an error and keeps the old ones. Every conversation's state is kept: it
// refers to stages and contexts, which rules do not change, and to fired
// rules by id.
func (d *Detector) Reload(rules []*detectors.Rule) error {
	rs, err := d.c.Compile(rules, compile)
	if err != nil {
		return err
	}
	d.rs = rs
	return nil
}

// Name implements detectors.Detector.
func (d *Detector) Name() string { return Name }

// ShareText makes the detector normalise message text with the engine's
// shared normaliser (detectors.TextSharer), so each message is normalised
// once for all detectors.
func (d *Detector) ShareText(z *text.Shared) { d.sc.z = z }

// StateEntries implements detectors.StateSizer: the conversations whose
// state is kept.
func (d *Detector) StateEntries() int { return d.convs.Len() }

// hashID is FNV-1a 64 of a message id, without allocating.
func hashID(id string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return h
}

// Inspect implements detectors.Detector.
func (d *Detector) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	t := m.SentAt.UnixNano()
	d.evictIdle(d.Horizon(t))
	rs, sc := d.rs, &d.sc
	sc.analyse(rs, m.Text)

	e := d.convs.Get(m.ConversationID)
	if e != nil && t-e.Value.last > int64(d.opts.IdleExpiry) {
		d.remove(e)
		e = nil
	}
	var idHash uint64
	if e != nil {
		if idHash = hashID(m.MessageID); e.Value.seen(idHash) {
			return out // delivered again: its flags were raised the first time
		}
	}
	var disc disclosure
	hasDisc := false
	if sc.ageHint || sc.digit {
		reply := e != nil && e.Value.askOpen(t, m.Sender.ID)
		disc, hasDisc = sc.ages.find(m.Text, reply, m.SentAt.Year())
		if hasDisc && (text.InQuotes(m.Text, disc.start, disc.end) || !disclosureMatters(m.Sender.Age, disc.age) ||
			disc.bare && !reply && e != nil && e.Value.statedByOther(m.Sender.ID, disc.age)) {
			hasDisc = false
		}
	}
	// An age the sender states of the one person they write to ("ur 13
	// not 5"), when nothing is known of it.
	var you disclosure
	hasYou := false
	if sc.digit && len(m.Recipients) == 1 && m.Recipients[0].ID != m.Sender.ID && m.Recipients[0].Age == nil {
		if you, hasYou = sc.ages.findYou(m.Text); hasYou && text.InQuotes(m.Text, you.start, you.end) {
			hasYou = false
		}
	}
	asks := sc.asksAge || hasDisc && disc.asks
	if e == nil && !sc.stageHit() && !sc.contextHit() && !hasDisc && !asks && !hasYou {
		return out // the common case: nothing to remember
	}
	created := e == nil
	if created {
		e = d.create(m.ConversationID, t)
		idHash = hashID(m.MessageID)
	}
	u := update{t: t, idHash: idHash}
	if hasYou {
		if k := e.Value.personFor(m.Recipients[0].ID); k >= 0 && e.Value.people[k].age == 0 {
			e.Value.people[k].age = uint8(you.age)
			u.changed = true
		}
	}
	d.record(&e.Value, m, &u, disc, hasDisc, asks)
	out = d.report(&e.Value, m, &u, out)
	switch {
	case u.changed:
		e.Value.last = max(e.Value.last, t)
		d.convs.Touch(d.keyOf(m.ConversationID), t, d.opts.MaxConversations+1, nil)
		d.markDirty(e)
	case created:
		d.convs.Remove(e) // nothing to remember after all (the sender's id is too long)
	}
	return out
}

// update is what one message changed in its conversation's state.
type update struct {
	t             int64
	idHash        uint64
	who           int              // the sender's person index; -1 when not a person of the state
	changed       bool             // the state changed
	newCtx        [nContexts]int32 // per context: 1 + the phrase rule that newly saw it
	best          [nStages]int32   // per stage: 1 + the hit that stands for it
	newStages     uint16           // stages this message signalled (any rule)
	newLiveStages uint16           // stages this message signalled by a live rule
	views         [2]ageView       // the sender's age view, live and with shadow rules, once computed
	viewed        [2]bool
}

// record applies message m to the conversation's state c: the sender's
// stated age, contexts, the age question, and one stage signal per stage.
func (d *Detector) record(c *conv, m *event.Message, u *update, disc disclosure, hasDisc, asks bool) {
	rs, sc := d.rs, &d.sc
	// The sender becomes a person of the state only when something about
	// them is recorded, so that a restored state has the same people.
	u.who = c.find(m.Sender.ID)
	if u.who < 0 && (hasDisc || asks || sc.stageHit() || sc.lifeHit(rs)) {
		if u.who = c.personFor(m.Sender.ID); u.who >= 0 {
			u.changed = true
		}
	}
	who := u.who
	if who >= 0 && hasDisc && c.people[who].age != uint8(disc.age) {
		c.people[who].age = uint8(disc.age)
		u.changed = true
	}
	for _, h := range sc.hits {
		r := &rs.phrases[h.rule]
		if !r.context {
			continue
		}
		bits := &c.ctx
		if !r.ctx.conversational() {
			if who < 0 {
				continue
			}
			bits = &c.people[who].cues
		}
		if hasCue(*bits, r.ctx, r.shadow) {
			continue
		}
		if !r.shadow {
			*bits &^= cueBit(r.ctx, true)
		}
		*bits |= cueBit(r.ctx, r.shadow)
		u.changed = true
		if u.newCtx[r.ctx] == 0 {
			u.newCtx[r.ctx] = h.rule + 1
		}
	}
	switch {
	case asks && who >= 0:
		c.askAt, c.askBy = u.t, uint8(who+1)
		u.changed = true
	case c.askBy > 0 && !c.sameID(int(c.askBy-1), m.Sender.ID):
		// Someone else spoke: the question had its answer (or none).
		c.askAt, c.askBy = 0, 0
		u.changed = true
	}
	// One signal per stage: the strongest hit, a live one before a shadow
	// one; it counts for live rules when any live rule saw the stage.
	var live [nStages]bool
	var overrides [nStages]uint8 // of all the stage's live hits, not only the best
	for i, h := range sc.hits {
		r := &rs.phrases[h.rule]
		if r.context {
			continue
		}
		live[r.stage] = live[r.stage] || !r.shadow
		if !r.shadow {
			overrides[r.stage] |= r.overrides
		}
		if b := u.best[r.stage]; b == 0 || betterHit(r, &rs.phrases[sc.hits[b-1].rule]) {
			u.best[r.stage] = int32(i + 1)
		}
	}
	if who < 0 {
		return
	}
	for st, b := range u.best {
		if b == 0 {
			continue
		}
		h := &sc.hits[b-1]
		sg := signal{at: u.t, idHash: u.idHash, stage: stage(st), who: uint8(who), q: rs.phrases[h.rule].q}
		if !live[st] {
			sg.flags = sigShadow
		}
		sg.flags |= overrides[st]
		if c.addSignal(sg, m.MessageID, excerptOf(m.Text, h.ostart, h.oend)) {
			u.changed = true
			u.newStages |= 1 << st
			if live[st] {
				u.newLiveStages |= 1 << st
			}
		}
	}
}

// ageView returns the sender's age view (live rules only, or with shadow
// rules), computing it once per message.
func (u *update) ageView(c *conv, m *event.Message, shadow bool) *ageView {
	k := 0
	if shadow {
		k = 1
	}
	if !u.viewed[k] {
		u.views[k], u.viewed[k] = c.ageView(m, u.who, shadow), true
	}
	return &u.views[k]
}

// report appends the findings of the message: a context seen for the first
// time, each stage rule that gave a new signal, minor rules and tiers.
func (d *Detector) report(c *conv, m *event.Message, u *update, out []detectors.Finding) []detectors.Finding {
	rs, sc := d.rs, &d.sc
	find := func(rule int32) *hit {
		for i := range sc.hits {
			if sc.hits[i].rule == rule {
				return &sc.hits[i]
			}
		}
		return nil
	}
	// A context, the first time it is seen in a conversation with stage
	// signals.
	if len(c.signals) > 0 {
		for _, ri := range u.newCtx {
			if ri == 0 {
				continue
			}
			r, h := &rs.phrases[ri-1], find(ri-1)
			out = append(out, detectors.Finding{Rule: r.id, Category: r.category, Severity: r.severity, Score: r.score, Start: h.ostart, End: h.oend})
		}
	}
	if u.who < 0 {
		return out
	}
	if u.newStages == 0 {
		// No new signal, but what is known of the ages may have changed
		// since this sender's last one (the other said "13", or they
		// admitted their age): their risk is read again, and a tier it now
		// crosses is raised on their own message.
		if !c.hasSignals(u.who) {
			return out
		}
		for _, shadow := range [2]bool{false, true} {
			if shadow && !rs.hasShadow {
				continue
			}
			out = d.tiers(c, u, u.who, shadow, u.ageView(c, m, shadow), 0, 0, out)
		}
		return out
	}
	// Each stage rule that gave a new signal, as context for analysts
	// (low in the built-in rules), when the pair could be an adult and a
	// minor.
	for _, h := range sc.hits {
		r := &rs.phrases[h.rule]
		if r.context || u.newStages&(1<<r.stage) == 0 || u.ageView(c, m, r.shadow).factor < plausibleFactor {
			continue
		}
		out = append(out, detectors.Finding{Rule: r.id, Category: r.category, Severity: r.severity, Score: r.score, Start: h.ostart, End: h.oend})
	}
	// A stage signal aimed at a known minor.
	for i := range rs.minors {
		mr := &rs.minors[i]
		stages := u.newLiveStages
		if mr.shadow {
			stages = u.newStages
		}
		if stages&mr.stages == 0 || c.hasFired(mr.hash) {
			continue
		}
		v := u.ageView(c, m, mr.shadow)
		if !v.targetMinor || v.similarMinor {
			continue
		}
		c.fire(mr.hash)
		u.changed = true
		h := &sc.hits[u.best[lowestStage(stages&mr.stages)]-1]
		out = append(out, detectors.Finding{
			Rule: mr.id, Category: mr.category, Severity: mr.severity, Score: mr.score, Start: h.ostart, End: h.oend,
			Evidence: c.evidence(rs, u.who, u.t, mr.shadow, v, -1, string(mr.severity), u.idHash),
		})
	}
	// The conversation's risk from this sender's signals, against the
	// tiers of each mode, highest first.
	for _, shadow := range [2]bool{false, true} {
		stages := u.newLiveStages
		if shadow {
			stages = u.newStages
		}
		if stages == 0 || shadow && !rs.hasShadow {
			continue
		}
		h := &sc.hits[u.best[lowestStage(stages)]-1]
		out = d.tiers(c, u, u.who, shadow, u.ageView(c, m, shadow), h.ostart, h.oend, out)
	}
	return out
}

// tiers checks the risk of person who against the tiers of one mode,
// highest first, and reports the highest newly crossed, over [start, end)
// of the message.
func (d *Detector) tiers(c *conv, u *update, who int, shadow bool, v *ageView, start, end int, out []detectors.Finding) []detectors.Finding {
	rs := d.rs
	reported, risk := false, -1.0
	for i := range rs.tiers {
		tr := &rs.tiers[i]
		if tr.shadow != shadow || c.hasFired(tr.hash) {
			continue
		}
		if risk < 0 {
			risk = c.risk(rs, who, u.t, shadow, v)
		}
		if risk < tr.threshold {
			continue
		}
		c.fire(tr.hash)
		u.changed = true
		if reported {
			continue // a lower tier crossed at the same time: the higher one speaks for it
		}
		reported = true
		out = append(out, detectors.Finding{
			Rule: tr.id, Category: tr.category, Severity: tr.severity, Score: risk, Start: start, End: end,
			Evidence: c.evidence(rs, who, u.t, shadow, v, risk, string(tr.severity), u.idHash),
		})
	}
	return out
}

// plausibleFactor: a stage rule's own finding is reported only when the
// age factor of the pair is at least this, so that adults flirting with
// each other and teenagers of an age do not fill the store with low flags.
const plausibleFactor = 0.45

// betterHit reports whether rule a's hit should stand for its stage rather
// than rule b's: live before shadow, then the higher score.
func betterHit(a, b *phraseRule) bool {
	if a.shadow != b.shadow {
		return !a.shadow
	}
	return a.q > b.q
}

func lowestStage(bits uint16) stage {
	for s := range nStages {
		if bits&(1<<s) != 0 {
			return s
		}
	}
	return 0
}

// disclosureMatters reports whether an age a sender states is worth
// remembering: when they have no declared age, or when it contradicts the
// declared one about being a minor (a child who signed up as an adult).
func disclosureMatters(declared *int, age int) bool {
	if declared == nil {
		return true
	}
	return (*declared < 18) != (age < 18)
}

func (d *Detector) keyOf(id string) []byte {
	d.key = append(d.key[:0], id...)
	return d.key
}

// create adds an empty conversation, first dropping the one changed least
// recently when the store is full.
func (d *Detector) create(id string, t int64) *state.Entry[conv] {
	for d.convs.Len() >= d.opts.MaxConversations {
		d.remove(d.convs.Oldest())
	}
	return d.convs.Touch(d.keyOf(id), t, d.opts.MaxConversations+1, newConv)
}

func newConv() conv { return conv{} }

// remove drops a conversation, to be reported as a tombstone when a state
// of it was handed out before.
func (d *Detector) remove(e *state.Entry[conv]) {
	if e.Value.flags&fPersisted != 0 {
		d.dropped = append(d.dropped, e.Key)
	}
	d.convs.Remove(e)
}

// evictIdle reclaims up to idleEvictionsPerMessage conversations unchanged
// for longer than IdleExpiry plus idleLateness before t (the message's
// time, or the watermark when earlier; see detectors.Watermarked).
func (d *Detector) evictIdle(t int64) {
	idle := int64(d.opts.IdleExpiry + idleLateness)
	for range idleEvictionsPerMessage {
		o := d.convs.Oldest()
		if o == nil || t-o.Value.last <= idle {
			return
		}
		d.remove(o)
	}
}

// markDirty queues a changed conversation for TakeChanged.
func (d *Detector) markDirty(e *state.Entry[conv]) {
	c := &e.Value
	if c.flags&fDirty != 0 {
		return
	}
	c.flags |= fDirty
	if c.flags&fQueued == 0 {
		c.flags |= fQueued
		d.changed = append(d.changed, e.Key)
		if len(d.changed) > 2*d.convs.Len()+1024 {
			d.compactChanged()
		}
	}
}

// compactChanged drops from d.changed the keys of conversations that are
// gone and the repeats, so that it stays bounded when TakeChanged is
// never called (replay, tests).
func (d *Detector) compactChanged() {
	kept := d.changed[:0]
	for _, k := range d.changed {
		e := d.convs.Get(k)
		if e == nil || e.Value.flags&fDirty == 0 || e.Value.flags&fKept != 0 {
			continue
		}
		e.Value.flags |= fKept
		kept = append(kept, k)
	}
	for _, k := range kept {
		d.convs.Get(k).Value.flags &^= fKept
	}
	clear(d.changed[len(kept):])
	d.changed = kept
}

// TakeChanged implements detectors.Durable: every conversation whose state
// changed since the previous call, with its encoding (codec.go), and every
// conversation dropped since (expired, evicted) whose state was handed out
// before, with nil. Each state slice is fn's to keep.
func (d *Detector) TakeChanged(fn func(key string, state []byte)) {
	for _, k := range d.dropped {
		if d.convs.Get(k) == nil {
			fn(k, nil)
		}
	}
	clear(d.dropped)
	d.dropped = d.dropped[:0]
	for _, k := range d.changed {
		e := d.convs.Get(k)
		if e == nil || e.Value.flags&fDirty == 0 {
			continue
		}
		d.enc = e.Value.encode(d.enc[:0])
		e.Value.flags = e.Value.flags&^(fDirty|fQueued) | fPersisted
		fn(k, slices.Clone(d.enc))
	}
	for _, k := range d.changed {
		if e := d.convs.Get(k); e != nil {
			e.Value.flags &^= fQueued
		}
	}
	clear(d.changed)
	d.changed = d.changed[:0]
}

// Restore implements detectors.Durable: it replaces the state of a
// conversation with a decoded encoding, or removes it for nil. Bytes that
// do not decode are an error, and the state is left as it was.
func (d *Detector) Restore(key string, data []byte) error {
	if data == nil {
		if e := d.convs.Get(key); e != nil {
			d.convs.Remove(e)
		}
		return nil
	}
	c, err := decodeConv(data)
	if err != nil {
		return err
	}
	e := d.convs.Get(key)
	if e == nil {
		e = d.create(key, c.last)
	} else {
		d.convs.Touch(d.keyOf(key), c.last, d.opts.MaxConversations+1, nil)
	}
	c.flags = e.Value.flags&fQueued | fPersisted
	e.Value = c
	return nil
}
