package spam

import (
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

// contrib is one rule adding to a message's score.
type contrib struct {
	src    *source
	name   string
	weight int64
}

// score lists what adds to the score of e, in a fixed order.
func (s *SenderStage) score(e *msgEntry) []contrib {
	c := s.contribs[:0]
	add := func(src *source, name string, w int64) {
		if w > 0 {
			c = append(c, contrib{src, name, w})
		}
	}
	wording := false // scam wording: a content rule, not the Bayes model's guess
	for h := e.hits; h != 0; h &= h - 1 {
		if cr := s.byBit[bits.TrailingZeros64(h)]; cr != nil {
			add(&cr.source, cr.name, cr.weight)
			wording = wording || !cr.statistical
		}
	}
	link := e.flags&flagLink != 0
	if l := s.cfg.links; l != nil {
		if e.flags&flagShortener != 0 {
			add(&l.source, "link_shortener", l.shortener)
		}
		if e.flags&flagPunycode != 0 {
			add(&l.source, "link_punycode", l.punycode)
		}
		if e.flags&flagLookalike != 0 {
			add(&l.source, "link_lookalike", l.lookalike)
		}
		if int(e.links) >= l.manyLinks {
			add(&l.source, "many_links", l.many)
		}
		if link && e.flags&(flagFirst|flagCold) == flagFirst|flagCold {
			add(&l.source, "first_contact_link", l.firstContact)
		}
	}
	b := s.cfg.behaviour
	age := int64(e.age)
	if age >= 0 && time.Duration(age)*time.Second < b.newAccountUnder {
		add(&b.source, "new_account", b.newAccount)
	}
	if link && age >= 0 && time.Duration(age)*time.Second < b.newLinkUnder {
		add(&b.source, "new_account_link", b.newAccountLink)
	}
	if e.flags&(flagFirst|flagCold) == flagFirst|flagCold && age >= 0 && time.Duration(age)*time.Second < b.newColdUnder {
		add(&b.source, "new_account_first_contact", b.newAccountCold)
	}
	others := s.otherWording(e, wording)
	for _, sig := range []struct {
		levels []level
		n      int
	}{{b.fanout, int(e.nConv)}, {b.coldFanout, int(e.nCold)}, {b.coldLinkFanout, int(e.nColdLink)}, {b.coldWordingFanout, others}} {
		if lv := reached(sig.levels, sig.n); lv != nil {
			add(&b.source, lv.name, lv.weight)
		}
	}
	if b.burstMessages > 0 && int(e.nBurst) >= b.scaled(b.burstMessages, age) {
		add(&b.source, "burst", b.burstWeight)
	}
	if b.typingMessages > 0 && int(e.nBurst) >= b.typingMessages && int64(e.chars) >= int64(b.scaled(b.typingChars, age)) {
		add(&b.source, "typing_speed", b.typingWeight)
	}
	if lv := reached(b.contentConvs, int(e.cConv)); lv != nil {
		add(&b.source, lv.name, lv.weight)
	}
	if lv := reached(b.contentSenders, int(e.cSenders)); lv != nil {
		add(&b.source, lv.name, lv.weight)
	}
	// Trust caps behaviour alone: not a message whose sender's pitch a
	// content rule read, in it or in another cold conversation of the
	// campaign (cold_wording_fanout), nor one with a suspicious link.
	campaign := reached(b.coldWordingFanout, others) != nil
	if b.trustAge > 0 && !wording && !campaign && e.flags&(flagShortener|flagPunycode|flagLookalike) == 0 && s.trusted(e, age) {
		var sum int64
		for _, x := range c {
			sum += x.weight
		}
		if sum > b.trustCap {
			c = append(c, contrib{&b.source, "trusted_sender", b.trustCap - sum})
		}
	}
	s.contribs = c
	return c
}

// otherWording counts the other cold conversations, within ± window, in
// which the sender's message carries scam wording: a campaign whose pitch
// one content rule read in one message, paraphrased in the rest ("Rates
// just dropped to 2.875%", "Homeowner alert: lower your mortgage
// payment"). The message's own conversation is not counted when the
// message has wording itself: that wording scores already.
func (s *SenderStage) otherWording(e *msgEntry, wording bool) int {
	n := int(e.nColdWord)
	if wording && e.flags&flagCold != 0 {
		n--
	}
	return n
}

// trusted reports whether a message's sender has earned trust: an account
// at least trust.account_age old, or a message to a known contact (someone
// else had written in the conversation before) from an account that is
// not new. Behaviour alone then scores at most trust.cap: a teacher's
// announcement to a class is fan-out, not spam.
func (s *SenderStage) trusted(e *msgEntry, age int64) bool {
	b := s.cfg.behaviour
	if age >= b.trustAge {
		return true
	}
	young := age >= 0 && (time.Duration(age)*time.Second < b.newLinkUnder || time.Duration(age)*time.Second < b.newAccountUnder || time.Duration(age)*time.Second < b.newColdUnder)
	return e.flags&flagCold == 0 && !young
}

// evaluate scores e and flags it for each tier it reaches for the first
// time.
func (s *SenderStage) evaluate(e *msgEntry, sender string, out []detectors.Flag) []detectors.Flag {
	tiers := s.cfg.tiers
	if e.flags&hasFeatures == 0 || (len(tiers) > 0 && e.emitted == uint8(1<<len(tiers)-1) && s.trace == nil) {
		return out
	}
	c := s.score(e)
	var live, all int64
	for _, x := range c {
		all += x.weight
		if !x.src.shadow {
			live += x.weight
		}
	}
	if s.trace != nil {
		msg, _ := nextID(e.ids)
		s.trace(msg, c)
	}
	for ti, t := range tiers {
		score := live
		if t.shadow {
			score = all
		}
		if e.emitted&(1<<ti) != 0 || score < t.minScore {
			continue
		}
		e.emitted |= 1 << ti
		out = append(out, s.flag(e, sender, t, c, score))
	}
	return out
}

func (s *SenderStage) flag(e *msgEntry, sender string, t *tierRule, c []contrib, score int64) detectors.Flag {
	msg, rest := nextID(e.ids)
	conv, rest := nextID(rest)
	var recipients []string
	for rest != "" {
		var p string
		p, rest = nextID(rest)
		recipients = append(recipients, p)
	}
	r := t.rule
	return detectors.Flag{
		FlagID:         detectors.FlagID(msg, Name, r.ID),
		MessageID:      msg,
		ConversationID: conv,
		SenderID:       sender,
		RecipientIDs:   recipients,
		Category:       r.Category,
		Detector:       Name,
		Rule:           r.ID,
		RuleVersion:    r.Version,
		Mode:           r.Mode.OrLive(),
		Severity:       r.Severity,
		Score:          t.score,
		Evidence:       evidence(c, t.shadow, score),
		SentAt:         time.Unix(0, e.at).UTC(),
	}
}

// evidence lists what added to the score, "name +weight; ... = score", in
// at most detectors.MaxEvidenceBytes.
func evidence(c []contrib, shadow bool, score int64) string {
	var b strings.Builder
	b.Grow(256)
	total := " = " + fmtPoints(score)
	for _, x := range c {
		if x.src.shadow && !shadow {
			continue
		}
		item := x.name + " +" + fmtPoints(x.weight)
		if x.weight < 0 {
			item = x.name + " -" + fmtPoints(-x.weight)
		}
		if x.src.shadow {
			item += " (shadow)"
		}
		if b.Len() > 0 {
			item = "; " + item
		}
		if b.Len()+len(item)+len(total)+len("; …") > detectors.MaxEvidenceBytes {
			b.WriteString("; …")
			break
		}
		b.WriteString(item)
	}
	b.WriteString(total)
	return b.String()
}

func fmtPoints(p int64) string {
	prec := 3
	switch {
	case p%100 == 0:
		prec = 1
	case p%10 == 0:
		prec = 2
	}
	return strconv.FormatFloat(float64(p)/points, 'f', prec, 64)
}
