package grooming

import (
	"github.com/goshawk-safety/goshawk/detectors/text"
)

// hit is a stage or context rule that matched the message: its first
// match that counts, in original bytes.
type hit struct {
	rule         int32
	ostart, oend int
}

// scratch is the per-message analysis, kept between messages so that
// Inspect does not allocate in the common case.
type scratch struct {
	z       *text.Shared // the engine's, shared by its detectors (see ShareText)
	n       text.Normalized
	src     string
	matches []text.Match
	fmatch  []text.FrameMatch
	frames  text.FrameScratch
	hits    []hit
	cancel  []bool  // per phrase rule: an unless cue matched
	touched []int32 // the entries of cancel set for this message
	ageHint bool    // a number word or a school name: run the age parser
	digit   bool    // the text has a digit
	asksAge bool    // a live stage rule with asks_age matched
	stages  int     // stage rule hits
	ages    ageParser
}

func (sc *scratch) stageHit() bool { return sc.stages > 0 }

// contextHit reports whether a context rule hit.
func (sc *scratch) contextHit() bool { return len(sc.hits) > sc.stages }

// lifeHit reports whether a context rule about the speaker's life hit.
func (sc *scratch) lifeHit(rs *ruleset) bool {
	for _, h := range sc.hits {
		if r := &rs.phrases[h.rule]; r.context && !r.ctx.conversational() {
			return true
		}
	}
	return false
}

// analyse normalises and matches the text (phrases and frames) and decides
// which rules hit: a rule's phrase or frame counts unless it is inside quotation marks (reported
// speech), one of the rule's unless phrases or unless_frames is anywhere in the message, or
// one of its unless_before phrases ends at most cueWindow words before it
// in the same sentence. A stage rule with contacts also hits on a phone
// number or an email address.
func (sc *scratch) analyse(rs *ruleset, s string) {
	sc.src = s
	sc.hits = sc.hits[:0]
	sc.ageHint, sc.asksAge, sc.stages = false, false, 0
	sc.digit = hasDigit(s)
	if sc.z == nil {
		sc.z = new(text.Shared)
	}
	sc.n = sc.z.Normalize(s)
	sc.matches = sc.z.Match(rs.matcher, sc.n, sc.matches[:0])
	sc.fmatch = sc.z.MatchFrames(rs.frames, sc.n, &sc.frames, sc.fmatch[:0])
	if len(sc.matches) == 0 && len(sc.fmatch) == 0 && !rs.contacts {
		return
	}
	if len(sc.cancel) < len(rs.phrases) {
		sc.cancel = make([]bool, len(rs.phrases))
	}
	sc.touched = sc.touched[:0]
	for _, m := range sc.matches {
		for _, r := range rs.rolesOf(m.ID) {
			switch r.kind {
			case roleAgeHint:
				sc.ageHint = true
			case roleUnless:
				if !sc.cancel[r.rule] {
					sc.cancel[r.rule] = true
					sc.touched = append(sc.touched, r.rule)
				}
			}
		}
	}
	for i := range sc.fmatch {
		if rule := rs.frameRule[sc.fmatch[i].ID]; rs.frameUnless[sc.fmatch[i].ID] && !sc.cancel[rule] {
			sc.cancel[rule] = true
			sc.touched = append(sc.touched, rule)
		}
	}
	for i := range sc.matches {
		m := &sc.matches[i]
		for _, r := range rs.rolesOf(m.ID) {
			if r.kind != roleTerm || sc.cancel[r.rule] || sc.hasHit(r.rule) {
				continue
			}
			if text.InQuotes(s, m.OrigStart, m.OrigEnd) || sc.negated(rs, r.rule, m) {
				continue
			}
			sc.add(rs, r.rule, m.OrigStart, m.OrigEnd)
		}
	}
	// Frames count like phrases: unless, quotes and unless_before apply.
	for i := range sc.fmatch {
		m := &sc.fmatch[i]
		rule := rs.frameRule[m.ID]
		if rs.frameUnless[m.ID] || sc.cancel[rule] || sc.hasHit(rule) || text.InQuotes(s, m.OrigStart, m.OrigEnd) {
			continue
		}
		if sc.negated(rs, rule, &text.Match{Start: m.Start, End: m.End, OrigStart: m.OrigStart, OrigEnd: m.OrigEnd}) {
			continue
		}
		sc.add(rs, rule, m.OrigStart, m.OrigEnd)
	}
	if rs.contacts {
		sc.contacts(rs, s)
	}
	for _, i := range sc.touched {
		sc.cancel[i] = false
	}
}

func (sc *scratch) hasHit(rule int32) bool {
	for i := range sc.hits {
		if sc.hits[i].rule == rule {
			return true
		}
	}
	return false
}

func (sc *scratch) add(rs *ruleset, rule int32, start, end int) {
	sc.hits = append(sc.hits, hit{rule: rule, ostart: start, oend: end})
	if r := &rs.phrases[rule]; !r.context {
		sc.stages++
		sc.asksAge = sc.asksAge || r.asksAge && !r.shadow
	}
}

// negated reports whether an unless_before phrase of rule ends at most
// cueWindow words before match m, in the same sentence.
func (sc *scratch) negated(rs *ruleset, rule int32, m *text.Match) bool {
	for i := range sc.matches {
		c := &sc.matches[i]
		if c.End > m.Start || c.OrigEnd > m.OrigStart {
			continue
		}
		for _, r := range rs.rolesOf(c.ID) {
			if r.kind == roleUnlessBefore && r.rule == rule &&
				wordsIn(sc.n.Text[c.End:m.Start]) <= cueWindow && !sentenceBreak(sc.src[c.OrigEnd:m.OrigStart]) {
				return true
			}
		}
	}
	return false
}

// wordsIn counts the words of a stretch of the normal form.
func wordsIn(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		w := isAlnum(s[i]) || s[i] >= 0x80 || s[i] == '\''
		if w && !in {
			n++
		}
		in = w
	}
	return n
}

func sentenceBreak(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', '!', '?', ';', '\n':
			return true
		}
	}
	return false
}

// contacts adds the stage rules with contacts that a phone number or an
// email address in s hits.
func (sc *scratch) contacts(rs *ruleset, s string) {
	phoneStart, phoneEnd, emailStart, emailEnd := -2, -2, -2, -2
	for i := range rs.phrases {
		r := &rs.phrases[i]
		if !(r.phone || r.email) || sc.cancel[i] || sc.hasHit(int32(i)) {
			continue
		}
		start, end := -1, -1
		if r.phone {
			if phoneStart == -2 {
				phoneStart, phoneEnd = -1, -1
				if sc.digit {
					phoneStart, phoneEnd = text.FindPhone(s)
				}
			}
			start, end = phoneStart, phoneEnd
		}
		if start < 0 && r.email {
			if emailStart == -2 {
				emailStart, emailEnd = text.FindEmail(s)
			}
			start, end = emailStart, emailEnd
		}
		if start >= 0 && !text.InQuotes(s, start, end) {
			sc.add(rs, int32(i), start, end)
		}
	}
}
