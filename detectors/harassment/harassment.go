package harassment

import (
	"embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
	"github.com/goshawk-safety/goshawk/event"
)

// Name is the detector name stored in every flag it raises.
const Name = "harassment"

//go:embed rules.yaml
var builtinFS embed.FS

// Factory returns the registry entry of the harassment detector.
//
// The factory's instances share the compiled form of their rules (the
// matcher is immutable and safe for concurrent use): the pipeline builds
// one instance per worker, and detectors.CheckExamples one per rule
// example, all with the same rules.
func Factory() detectors.Factory {
	c := &compiler{}
	return detectors.Factory{
		Name:        Name,
		Description: "harassment: targeted insults, threats, self-harm encouragement, hate, sexual harassment, doxxing, and escalation and unwanted contact per conversation (rules.yaml)",
		RuleFields:  slices.Clone(ruleFields),
		Rules:       builtinFS,
		New: func(rules []*detectors.Rule) (detectors.Detector, error) {
			d, err := newDetector(rules, c)
			if err != nil {
				return nil, err
			}
			return d, nil
		},
	}
}

// compiler shares one compiled rule set among a factory's instances.
type compiler = detectors.CompileCache[*ruleset]

// Detector is the harassment detector. Like every detector it is used by
// one goroutine at a time.
type Detector struct {
	detectors.Watermark // the event time idle escalation entries are reclaimed by
	rs                  *ruleset
	esc                 []*escalationState // one per escalation rule, in rs.escalations order
	sc                  scratch
	c                   *compiler
}

var _ detectors.Reloader = (*Detector)(nil)

// New returns a detector running rules: the harassment rules of a RuleSet
// whose mode is live or shadow (RuleSet.For). Every error names the file,
// line and field.
func New(rules []*detectors.Rule) (*Detector, error) {
	return newDetector(rules, nil)
}

func newDetector(rules []*detectors.Rule, c *compiler) (*Detector, error) {
	d := &Detector{c: c}
	if err := d.Reload(rules); err != nil {
		return nil, err
	}
	return d, nil
}

// Reload implements detectors.Reloader: it switches the detector to rules,
// or returns an error and keeps the old ones. The state of every escalation
// rule whose id is still there is kept, under its new configuration; the
// state of a rule that is gone is dropped, and a new rule starts empty.
func (d *Detector) Reload(rules []*detectors.Rule) error {
	rs, err := d.c.Compile(rules, compile)
	if err != nil {
		return err
	}
	esc := make([]*escalationState, len(rs.escalations))
	for i, cfg := range rs.escalations {
		j := slices.IndexFunc(d.esc, func(s *escalationState) bool { return s.cfg.ID == cfg.ID })
		if j < 0 {
			esc[i] = newEscalationState(cfg)
			continue
		}
		esc[i] = d.esc[j]
		esc[i].reconfigure(cfg)
	}
	d.rs, d.esc = rs, esc
	return nil
}

// StateEntries implements detectors.StateSizer: how many (conversation,
// person) pairs the escalation rules remember, over all of them.
func (d *Detector) StateEntries() int {
	n := 0
	for _, s := range d.esc {
		n += s.len()
	}
	return n
}

// Name implements detectors.Detector.
func (d *Detector) Name() string { return Name }

// ShareText makes the detector normalise message text with the engine's
// shared normaliser (detectors.TextSharer), so each message is normalised
// once for all detectors.
func (d *Detector) ShareText(z *text.Shared) { d.sc.z = z }

// Inspect implements detectors.Detector.
func (d *Detector) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	sc := &d.sc
	sc.analyse(d.rs, m.Text)
	first := len(out)
	out = sc.termFindings(d.rs, out)
	for i, s := range d.esc {
		out = sc.escalate(d.rs, i, s, m, d.Horizon(m.SentAt.UnixNano()), out, first)
	}
	return out
}

// Per-word flags.
const (
	wTermStart   uint8 = 1 << iota // a term of a second-person rule starts here
	wSecondStart                   // a second-person phrase starts here
	wCovered                       // inside a filler or a term of a second-person rule
)

// wordInfo is what the grammar knows about one word of the normal form.
// The int32 fields are word indexes, -1 for none.
type wordInfo struct {
	second int32 // a second-person or family phrase ending here starts at this word
	ur     int32 // "ur" ends here
	voc    int32 // a vocative ("shut up", "bye") ending here starts at this word
	filler int32 // a filler ending here starts at this word
	likeTo int32 // "like you" starting here ends at this word
	termTo int32 // a term of a second-person rule starting here ends at this word
	gap    uint8 // gap after this word (gapSoft, gapComma, gapHard)
	flags  uint8
	ostart int32 // the word's bytes in the original text
	oend   int32
}

// cue is an occurrence of a rule's cue phrase (unless_*, low_*, stop_*).
type cue struct {
	kind   uint8
	rule   int32
	fw, lw int32 // first and last word
}

// candidate is the best match so far of a terms rule in the message.
type candidate struct {
	ok         bool
	severity   detectors.Severity
	score      float64
	start, end int // original bytes
}

// scratch is the per-message analysis, kept between messages so that
// Inspect does not allocate in the common case.
type scratch struct {
	z        *text.Shared // the engine's, shared by its detectors (see ShareText)
	n        text.Normalized
	src      string
	matches  []text.Match // the matcher's, then the frames' (ID rs.patterns+frame)
	fmatch   []text.FrameMatch
	frames   text.FrameScratch
	mw       [][2]int32 // first and last word of each match
	words    []span
	info     []wordInfo
	cues     []cue // in order of their last word
	best     []candidate
	found    []int32 // terms rule of each finding appended by termFindings
	harms    []int   // lexicon patterns matched at medium or above, before banter
	laugh    int8    // -1 unknown, 0 no, 1 yes
	joke     bool    // a joking phrase was matched
	contacts int16   // -1 unknown, else the bit set of contacts()
}

// analyse normalises and matches the text and reads its grammar.
func (sc *scratch) analyse(rs *ruleset, s string) {
	sc.src = s
	if sc.z == nil {
		sc.z = new(text.Shared)
	}
	sc.n = sc.z.Normalize(s)
	sc.matches = sc.z.Match(rs.matcher, sc.n, sc.matches[:0])
	sc.fmatch = sc.z.MatchFrames(rs.frames, sc.n, &sc.frames, sc.fmatch[:0])
	for _, f := range sc.fmatch {
		sc.matches = append(sc.matches, text.Match{ID: rs.patterns + f.ID, Start: f.Start, End: f.End, OrigStart: f.OrigStart, OrigEnd: f.OrigEnd})
	}
	sc.laugh, sc.joke, sc.contacts = -1, false, -1
	sc.cues = sc.cues[:0]
	sc.words = sc.words[:0]
	if !sc.relevant(rs) {
		// Only the grammar's own words ("you", "a", "so"): nothing to
		// grade, no stop request. Most messages end here.
		sc.matches = sc.matches[:0]
		sc.info, sc.mw = sc.info[:0], sc.mw[:0]
		return
	}
	sc.words = segment(sc.n.Text, sc.words)
	nw := len(sc.words)
	if cap(sc.info) < nw {
		sc.info = make([]wordInfo, nw, nw+nw/2)
	}
	sc.info = sc.info[:nw]
	for k, w := range sc.words {
		os, oe := sc.n.Original(int(w.start), int(w.end))
		sc.info[k] = wordInfo{second: -1, ur: -1, voc: -1, filler: -1, likeTo: -1, termTo: -1, ostart: int32(os), oend: int32(oe)}
	}
	for k := 0; k+1 < nw; k++ {
		g := sc.n.Text[sc.words[k].end:sc.words[k+1].start]
		sc.info[k].gap = uint8(gapKind(g, s[sc.info[k].oend:max(sc.info[k].oend, sc.info[k+1].ostart)]))
	}
	if cap(sc.mw) < len(sc.matches) {
		sc.mw = make([][2]int32, len(sc.matches), len(sc.matches)+8)
	}
	sc.mw = sc.mw[:len(sc.matches)]
	for j, m := range sc.matches {
		fw, lw := sc.wordAt(m.Start), sc.wordAt(m.End-1)
		sc.mw[j] = [2]int32{fw, lw}
		if fw < 0 {
			continue
		}
		for _, r := range rs.rolesOf(m.ID) {
			in := &sc.info[lw]
			switch r.kind {
			case roleSecond, roleFamily:
				in.second = minWord(in.second, fw)
				sc.info[fw].flags |= wSecondStart
			case roleWeakSecond:
				if sc.n.Text[m.Start:m.End] == "ur" {
					in.ur = minWord(in.ur, fw)
				} else {
					in.voc = minWord(in.voc, fw)
				}
			case roleFiller:
				in.filler = minWord(in.filler, fw)
				sc.cover(fw, lw)
			case roleLikeYou:
				sc.info[fw].likeTo = max(sc.info[fw].likeTo, lw)
			case roleJoke:
				sc.joke = true
			case roleFrame:
				// A frame names its own target ("{i} ~2 {modal} ~3
				// {harm} ~1 {you}"): graded as a term without the
				// second-person reading.
			case roleTerm:
				if rs.terms[r.rule].Target {
					in.filler = minWord(in.filler, fw)
					sc.info[fw].flags |= wTermStart
					sc.info[fw].termTo = max(sc.info[fw].termTo, lw)
					sc.cover(fw, lw)
				}
			default:
				sc.cues = append(sc.cues, cue{kind: r.kind, rule: r.rule, fw: fw, lw: lw})
			}
		}
	}
}

// relevant reports whether a match is a term or a rule's cue.
func (sc *scratch) relevant(rs *ruleset) bool {
	for _, m := range sc.matches {
		for _, r := range rs.rolesOf(m.ID) {
			if r.rule >= 0 {
				return true
			}
		}
	}
	return false
}

func (sc *scratch) cover(fw, lw int32) {
	for k := fw; k <= lw; k++ {
		sc.info[k].flags |= wCovered
	}
}

func minWord(a, b int32) int32 {
	if a < 0 || b < a {
		return b
	}
	return a
}

// wordAt returns the word that contains byte i of the normal form (the last
// word starting at or before i), or -1.
func (sc *scratch) wordAt(i int) int32 {
	k := sort.Search(len(sc.words), func(k int) bool { return int(sc.words[k].start) > i }) - 1
	return int32(k)
}

// word returns the normal form of word k.
func (sc *scratch) word(k int32) string {
	w := sc.words[k]
	return sc.n.Text[w.start:w.end]
}

// laughing reports whether the message laughs or jokes: a laughing word
// (lol, haha, lmao…), a joking phrase (jk, just kidding), or a laughing
// emoji or emoticon.
func (sc *scratch) laughing() bool {
	if sc.laugh < 0 {
		sc.laugh = 0
		if sc.joke || hasLaughEmoji(sc.src) {
			sc.laugh = 1
		} else {
			for k := range sc.words {
				if isLaughWord(sc.word(int32(k))) {
					sc.laugh = 1
					break
				}
			}
		}
	}
	return sc.laugh == 1
}

// contactSet returns the contact details in the original text.
func (sc *scratch) contactSet() uint8 {
	if sc.contacts < 0 {
		sc.contacts = int16(contacts(sc.src))
	}
	return uint8(sc.contacts)
}

// maxGap returns the firmest gap between word a and word b (a < b).
func (sc *scratch) maxGap(a, b int32) uint8 {
	g := uint8(gapSoft)
	for k := a; k < b; k++ {
		g = max(g, sc.info[k].gap)
	}
	return g
}

// tailWords may follow a term that ends a clause ("bye loser lol", "ur
// dumb af").
var tailWords = map[string]bool{
	"and": true, "now": true, "already": true, "tho": true, "though": true, "smh": true, "bro": true, "bruh": true,
	"mate": true, "dude": true, "man": true, "fr": true, "frfr": true, "ngl": true, "tbh": true, "omg": true,
	"again": true, "too": true, "af": true, "honestly": true, "seriously": true, "forever": true, "lmfao": true,
	"today": true, "innit": true, "huh": true, "ok": true, "okay": true, "or": true, "who": true,
}

// clauseEnds reports whether the term ending at word lw ends its clause,
// so that "ur" and vocatives before it address the reader ("ur dumb",
// "bye loser") rather than modify a noun ("ur dumb idea", "ok stupid
// question").
func (sc *scratch) clauseEnds(lw int32) bool {
	next := lw + 1
	if int(next) >= len(sc.words) || sc.info[lw].gap != gapSoft {
		return true
	}
	if sc.info[next].flags&(wTermStart|wSecondStart) != 0 {
		return true
	}
	w := sc.word(next)
	return tailWords[w] || isLaughWord(w)
}

// target reports whether the term in words fw..lw is aimed at the reader,
// and returns the words of the frame that aims it: a second-person or
// family phrase before it, with only fillers in between ("you are such a
// …", "your mom is a …"); "ur" or a vocative before it when the term ends
// the clause ("ur …", "shut up …"); or "like you" right after it. None of
// these reach across a full stop, ! ? ; or a line break.
func (sc *scratch) target(fw, lw int32) (bool, int32, int32) {
	k, fillers, modifiers := fw-1, 0, 0
	for k >= 0 {
		in := &sc.info[k]
		if in.gap == gapHard {
			break
		}
		if in.second >= 0 {
			return true, in.second, lw
		}
		if in.ur >= 0 && (fillers > 0 || modifiers > 0 || sc.clauseEnds(lw)) {
			return true, in.ur, lw
		}
		if in.voc >= 0 && sc.clauseEnds(lw) {
			return true, in.voc, lw
		}
		if fond[sc.word(k)] {
			return false, fw, lw // "you beautiful idiot": teasing
		}
		if in.filler >= 0 && fillers < maxFillersInTarget {
			k = in.filler - 1
			fillers++
			continue
		}
		if fillers == 0 && modifiers < maxModifiersInTarget && in.gap == gapSoft && sc.modifier(k) {
			// Describing words right before the insult, nearer to it
			// than any filler: "you mouth-breathing knuckle-dragging
			// halfwit", "ur lying cheating …" (not "you missed the
			// idiot": a filler stands between).
			k--
			modifiers++
			continue
		}
		break
	}
	if next := lw + 1; int(next) < len(sc.words) && sc.info[lw].gap != gapHard {
		if to := sc.info[next].likeTo; to >= 0 {
			return true, fw, to
		}
	}
	if e, ok := sc.youAre(lw); ok {
		return true, fw, e
	}
	if s, e, ok := sc.bare(fw, lw); ok {
		return true, s, e
	}
	return false, fw, lw
}

// modifier reports whether word k reads as a describing word: a
// participle or adjective by its ending ("lying", "whiny", "spineless",
// "pathetic-looking"), or part of a hyphenated compound ("mouth-breathing",
// "knuckle-dragging"). Pronouns and the grammar's own words are not.
func (sc *scratch) modifier(k int32) bool {
	if sc.info[k].flags&wSecondStart != 0 || sc.info[k].ur >= 0 || sc.info[k].voc >= 0 {
		return false
	}
	w := sc.word(k)
	if len(w) < 4 {
		return false
	}
	if hyphenated(sc.src, sc.info, k) {
		return true
	}
	for _, suffix := range modifierSuffixes {
		if strings.HasSuffix(w, suffix) && len(w) > len(suffix)+2 {
			return true
		}
	}
	return false
}

// modifierSuffixes end English describing words.
var modifierSuffixes = []string{"ing", "ed", "less", "ful", "ish", "ous", "ic", "y", "ive", "able", "ible"}

// hyphenated reports whether word k is joined to the next or the previous
// word by a hyphen in the original text.
func hyphenated(src string, info []wordInfo, k int32) bool {
	joined := func(a, b int32) bool {
		g := src[info[a].oend:max(info[a].oend, info[b].ostart)]
		return g == "-" || g == "‐" || g == "–"
	}
	return int(k)+1 < len(info) && joined(k, k+1) || k > 0 && joined(k-1, k)
}

// maxPostWords bounds the words between an insult and the "you are" after
// it ("what a spineless, whiny little weasel you are").
const maxPostWords = 4

// youAre reports whether the insult ending at word lw is said of the
// reader by a "you are" after it that ends the clause: "what a spineless,
// whiny little weasel you are", "idiot, that's what you are". It returns
// the last word of that.
func (sc *scratch) youAre(lw int32) (int32, bool) {
	for k := lw + 1; int(k)+1 < len(sc.words) && k <= lw+1+maxPostWords; k++ {
		if sc.info[k-1].gap == gapHard {
			return 0, false
		}
		switch sc.word(k) {
		case "you", "u", "ya":
		default:
			continue
		}
		switch sc.word(k + 1) {
		case "are", "r", "were", "is":
		default:
			return 0, false
		}
		if sc.info[k].gap != gapSoft || !sc.clauseEnds(k+1) {
			return 0, false
		}
		return k + 1, true
	}
	return 0, false
}

// maxBareWords bounds a bare insult sentence.
const maxBareWords = 8

// bare reports whether the sentence around fw..lw, or failing that its
// clause (between commas), is nothing but insults and fillers, with at
// least two insults ("ugly bitch", "stupid fat loser!", "useless idiot,
// nobody wants you", "fat, lazy and dumb"), and returns its first and last
// word: in a private message such a sentence is said to the reader. One
// insult alone ("pathetic", "so stupid") is as often a reaction to
// something else, and is not enough, unless an intensifier makes the
// sentence an exclamation ("Absolute moron.").
func (sc *scratch) bare(fw, lw int32) (int32, int32, bool) {
	if s, e, ok := sc.bareWithin(fw, lw, gapHard); ok {
		return s, e, true
	}
	return sc.bareWithin(fw, lw, gapComma)
}

// bareWithin is bare for the stretch around fw..lw bounded by gaps of at
// least the given kind.
func (sc *scratch) bareWithin(fw, lw int32, bound uint8) (int32, int32, bool) {
	s, e := fw, lw
	for s > 0 && sc.info[s-1].gap < bound && lw-s < maxBareWords {
		s--
	}
	for int(e)+1 < len(sc.words) && sc.info[e].gap < bound && e-fw < maxBareWords {
		e++
	}
	if s > 0 && sc.info[s-1].gap < bound || int(e)+1 < len(sc.words) && sc.info[e].gap < bound {
		return 0, 0, false // a longer sentence
	}
	terms, intense := 0, false
	for k := s; k <= e; k++ {
		in := &sc.info[k]
		switch {
		case in.flags&wTermStart != 0:
			terms++
		case in.flags&wCovered != 0:
			intense = intense || intensifiers[sc.word(k)]
		case isLaughWord(sc.word(k)):
		case k > s && k < e && conjunctions[sc.word(k)]:
			// "fat, lazy and dumb": a list of insults
		default:
			return 0, 0, false
		}
	}
	for e > lw && sc.info[e].flags&wCovered == 0 {
		e-- // leave trailing laughter out of the frame
	}
	// One insult is enough in a sentence of its own that an intensifier
	// makes an exclamation: "Absolute moron." "Total clown!"
	return s, e, terms >= 2 || terms == 1 && intense && bound == gapHard
}

// cueNear reports whether a cue of the given kind of terms rule ti lies
// near the frame fs..fe: unless_before ends at most window words before it
// in the same clause (no comma between), low_before ends at most
// reportedWindow words before it in the same sentence, and unless_after and
// low_after start at most window words after it in the same sentence.
func (sc *scratch) cueNear(kind uint8, ti int32, fs, fe int32, window int) bool {
	before := kind == roleUnlessBefore || kind == roleLowBefore
	var lo, hi int32 // range of the cue's last word
	if before {
		reach := int32(window)
		if kind == roleLowBefore {
			reach = reportedWindow
		}
		lo, hi = fs-reach, fs-1
	} else {
		lo, hi = fe+1, fe+int32(window)+maxCueWords
	}
	i := sort.Search(len(sc.cues), func(i int) bool { return sc.cues[i].lw >= lo })
	for ; i < len(sc.cues) && sc.cues[i].lw <= hi; i++ {
		c := &sc.cues[i]
		if c.kind != kind || c.rule != ti {
			continue
		}
		switch kind {
		case roleUnlessBefore:
			if sc.maxGap(c.lw, fs) < gapComma && !sc.notNegating(c, fs) {
				return true
			}
		case roleLowBefore:
			if sc.maxGap(c.lw, fs) < gapHard && !sc.toldToStop(c) {
				return true
			}
		default:
			if c.fw > fe && c.fw-fe <= int32(window) && sc.maxGap(fe, c.fw) < gapHard {
				return true
			}
		}
	}
	return false
}

// notNegating reports whether a negation cue c before the match at word fs
// does not negate it: a question that pushes ("why won't you send …", "why
// don't you just …", "can you not be so …") or a negated verb that is not
// the match's ("don't forget to …", "never hesitate to …").
func (sc *scratch) notNegating(c *cue, fs int32) bool {
	if c.fw > 0 && sc.info[c.fw-1].gap == gapSoft && sc.word(c.fw-1) == "why" {
		return true
	}
	if c.fw > 1 && sc.info[c.fw-2].gap == gapSoft && sc.info[c.fw-1].gap == gapSoft && sc.word(c.fw) == "not" {
		// "can you not be so stupid": a request, not a negation
		switch sc.word(c.fw - 2) {
		case "can", "could", "would", "will":
			switch sc.word(c.fw - 1) {
			case "you", "u", "ya":
				return true
			}
		}
	}
	if next := c.lw + 1; next < fs && sc.info[c.lw].gap == gapSoft {
		switch sc.word(next) {
		case "forget", "forgetting", "hesitate", "fail":
			return true
		}
	}
	return false
}

// toldToStop reports whether a reported-speech cue c ("texting me",
// "messaging me") is the writer telling the reader to stop: "stop texting
// me you creep" is said to the reader, not reported.
func (sc *scratch) toldToStop(c *cue) bool {
	if c.fw == 0 || sc.info[c.fw-1].gap != gapSoft {
		return false
	}
	switch sc.word(c.fw - 1) {
	case "stop", "quit":
		return true
	}
	return false
}

// termFindings appends a finding for each terms rule with a match that
// survives its cues, graded: the highest grade over the rule's matches,
// the first one on a tie.
//
// Banter is decided conservatively, from the message alone: a rule's
// banter grade applies only when the message laughs or jokes and has one
// harassing match (medium or above before banter) in all. "you idiot lol"
// is banter; "lol you stupid fat pig, nobody likes you" is not.
func (sc *scratch) termFindings(rs *ruleset, out []detectors.Finding) []detectors.Finding {
	if cap(sc.best) < len(rs.terms) {
		sc.best = make([]candidate, len(rs.terms))
	}
	sc.best = sc.best[:len(rs.terms)]
	sc.found = sc.found[:0]
	harms, banter := sc.gradeAll(rs, false)
	if harms == 0 && !slices.ContainsFunc(sc.best, func(c candidate) bool { return c.ok }) {
		return out
	}
	if harms == 1 && banter && sc.laughing() {
		sc.gradeAll(rs, true)
	}
	for i, c := range sc.best {
		if !c.ok {
			continue
		}
		r := &rs.terms[i]
		out = append(out, detectors.Finding{Rule: r.ID, Category: r.Category, Severity: c.severity, Score: c.score, Start: c.start, End: c.end})
		sc.found = append(sc.found, int32(i))
	}
	return out
}

// gradeAll grades every term match into sc.best, with or without the rules'
// banter grades. It returns how many different terms are matched at medium
// or above (without banter; the same term twice counts once, so a joke told
// twice is not piling on), and whether one of those has a banter grade.
func (sc *scratch) gradeAll(rs *ruleset, banter bool) (harms int, banterable bool) {
	clear(sc.best)
	sc.harms = sc.harms[:0]
	for j, m := range sc.matches {
		fw, lw := sc.mw[j][0], sc.mw[j][1]
		if fw < 0 {
			continue
		}
		for _, ro := range rs.rolesOf(m.ID) {
			if ro.kind != roleTerm && ro.kind != roleFrame {
				continue
			}
			r := &rs.terms[ro.rule]
			frame := ro.kind == roleFrame
			inside := frame && !rs.frameNegation[m.ID-rs.patterns]
			c, ok := sc.grade(r, ro.rule, m, fw, lw, banter, frame, inside)
			if !ok {
				continue
			}
			// A frame over a term of its own rule is that term again
			// (frames come after the matcher's patterns).
			again := ro.kind == roleFrame && sc.best[ro.rule].ok && c.start < sc.best[ro.rule].end && sc.best[ro.rule].start < c.end
			if !banter && !again && c.severity.Rank() >= detectors.Medium.Rank() {
				if !slices.Contains(sc.harms, m.ID) {
					sc.harms = append(sc.harms, m.ID)
				}
				banterable = banterable || r.Banter != ""
			}
			if best := &sc.best[ro.rule]; !best.ok || c.severity.Rank() > best.severity.Rank() {
				*best = c
			}
		}
	}
	return len(sc.harms), banterable
}

// grade decides what one match of terms rule r (index ti) is worth: not a
// finding when the rule needs a target and the match has none (unless the
// rule keeps those at `untargeted`), when an unless_* cue is near, or when
// a contact detail the rule requires is missing; low when the frame is in
// quotation marks or a low_* cue is near; the rule's banter severity when
// the message laughs or jokes; else the rule's severity.
func (sc *scratch) grade(r *termRule, ti int32, m text.Match, fw, lw int32, banter, frame, inside bool) (candidate, bool) {
	fs, fe := fw, lw
	severity := r.Severity
	if sc.unless(ti) {
		return candidate{}, false
	}
	if r.Target && !frame {
		var ok bool
		if ok, fs, fe = sc.target(fw, lw); !ok {
			if r.Untargeted == "" {
				return candidate{}, false
			}
			severity = r.Untargeted
		} else {
			// Show the whole insult: "you ugly freak", not "you ugly".
			for k := fe; int(k)+1 < len(sc.words) && sc.info[k].gap == gapSoft && sc.info[k+1].flags&wCovered != 0; {
				k++
				if to := sc.info[k].termTo; to >= 0 {
					k, fe = to, to
				}
			}
		}
	}
	if severity == detectors.Low && sc.properName(fw, lw) {
		return candidate{}, false // "Dick Van Dyke"
	}
	if sc.cueNear(roleUnlessBefore, ti, fs, fe, r.Window) || sc.cueNear(roleUnlessAfter, ti, fs, fe, r.Window) {
		return candidate{}, false
	}
	if inside && sc.cueWithin(roleUnlessBefore, ti, fs, fe) {
		return candidate{}, false // "I would never hurt you": a negation inside the frame
	}
	if r.Requires != 0 && sc.contactSet()&r.Requires == 0 {
		return candidate{}, false
	}
	start := min(int(sc.info[fs].ostart), m.OrigStart)
	end := max(int(sc.info[fe].oend), m.OrigEnd)
	if severity != detectors.Low {
		switch {
		case text.InQuotes(sc.src, start, end), sc.cueNear(roleLowBefore, ti, fs, fe, r.Window), sc.cueNear(roleLowAfter, ti, fs, fe, r.Window):
			severity = detectors.Low
		case banter && r.Banter != "" && r.Banter.Rank() < severity.Rank():
			severity = r.Banter
		}
	}
	score := r.Score
	if severity != r.Severity {
		score = r.Score / 2
	}
	return candidate{ok: true, severity: severity, score: score, start: start, end: end}, true
}

// cueWithin reports whether a cue of the given kind of terms rule ti ends
// inside the words fs..fe (before the last).
func (sc *scratch) cueWithin(kind uint8, ti int32, fs, fe int32) bool {
	for i := range sc.cues {
		c := &sc.cues[i]
		if c.kind == kind && c.rule == ti && c.lw >= fs && c.lw < fe {
			return true
		}
	}
	return false
}

// unless reports whether an unless cue of terms rule ti is in the message.
func (sc *scratch) unless(ti int32) bool {
	for i := range sc.cues {
		if sc.cues[i].kind == roleUnless && sc.cues[i].rule == ti {
			return true
		}
	}
	return false
}

// properName reports whether the one-word match fw..lw is written as part
// of a name: in title case ("Dick", not "dick" or "DICK") next to another
// title-case word ("Dick Van Dyke", "Jane Dyke"). Only informational (low)
// matches are dropped for it: a name in a frame aimed at the reader is
// still an insult.
func (sc *scratch) properName(fw, lw int32) bool {
	if fw != lw || !sc.titleCase(fw) {
		return false
	}
	return fw > 0 && sc.info[fw-1].gap == gapSoft && sc.titleCase(fw-1) ||
		int(lw)+1 < len(sc.words) && sc.info[lw].gap == gapSoft && sc.titleCase(lw+1)
}

func (sc *scratch) titleCase(k int32) bool {
	w := sc.src[sc.info[k].ostart:sc.info[k].oend]
	return len(w) >= 2 && w[0] >= 'A' && w[0] <= 'Z' && w[1] >= 'a' && w[1] <= 'z'
}

// stopRequest reports whether the message asks the other person to stop,
// by escalation rule ei's phrases: a stop_requests phrase anywhere, or a
// stop_messages phrase that is the whole message; never when it laughs or
// jokes ("stop lol").
func (sc *scratch) stopRequest(ei int) bool {
	found := false
	for _, c := range sc.cues {
		if c.rule != int32(ei) {
			continue
		}
		if c.kind == roleStop || c.kind == roleStopWhole && c.fw == 0 && int(c.lw) == len(sc.words)-1 {
			found = true
			break
		}
	}
	return found && !sc.laughing()
}

// contactSpan bounds the span of an escalation on a message that has no
// harassing match of its own.
const contactSpan = 80

// escalate runs escalation rule ei on the message; out[first:] are the
// findings of the terms rules on it.
func (sc *scratch) escalate(rs *ruleset, ei int, s *escalationState, m *event.Message, horizon int64, out []detectors.Finding, first int) []detectors.Finding {
	cfg := &s.cfg
	t := m.SentAt.UnixNano()
	s.evictIdle(horizon)
	oneToOne := len(m.Recipients) == 1
	if oneToOne {
		other := m.Recipients[0].ID
		if cfg.Stop && sc.stopRequest(ei) {
			e := s.lookup(m.ConversationID, other, t, true)
			e.stopAt = max(e.stopAt, t)
		}
		if cfg.Unanswered > 0 {
			if e := s.lookup(m.ConversationID, other, t, false); e != nil {
				e.un, e.unext = 0, 0 // answered
			}
		}
	}
	qualifying := -1
	if cfg.MinSeverity != "" {
		for k, f := range out[first:] {
			r := &rs.terms[sc.found[k]]
			if f.Category == cfg.Category && f.Severity.Rank() >= cfg.MinSeverity.Rank() && (cfg.Shadow || !r.Shadow) {
				qualifying = first + k
				break
			}
		}
	}
	counts := qualifying >= 0
	var e *escEntry
	if counts || oneToOne && (cfg.Unanswered > 0 || cfg.Stop) {
		e = s.lookup(m.ConversationID, m.Sender.ID, t, counts || oneToOne && cfg.Unanswered > 0)
	}
	if e != nil && oneToOne {
		if s.afterStop(e, t) {
			counts = true
		}
		if s.unansweredRun(e, t) {
			counts = true
		}
	}
	if !counts {
		return out
	}
	if e == nil {
		e = s.lookup(m.ConversationID, m.Sender.ID, t, true)
	}
	if n := s.count(e, t); n < cfg.Messages {
		return out
	}
	// The span: what matched, or (for a message that counted as unwanted
	// contact) the start of the message.
	start, end := 0, min(len(m.Text), contactSpan)
	for end > 0 && end < len(m.Text) && !utf8.RuneStart(m.Text[end]) {
		end-- // a text of stray continuation bytes cuts to nothing
	}
	if qualifying >= 0 {
		start, end = out[qualifying].Start, out[qualifying].End
	}
	return append(out, detectors.Finding{
		Rule:     cfg.ID,
		Category: cfg.Category,
		Severity: cfg.Severity,
		Score:    cfg.Score,
		Start:    start,
		End:      end,
		Evidence: fmt.Sprintf("at least %d messages from this sender in this conversation within %s were harassment, or unwanted contact (after being asked to stop, or unanswered); this one: %s",
			cfg.Messages, cfg.Window, detectors.Excerpt(m.Text, start, end, detectors.DefaultEvidenceContext)),
	})
}
