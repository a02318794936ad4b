package grooming

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// ageClass is what is known of a person's age.
type ageClass uint8

const (
	clsUnknown   ageClass = iota
	clsAdult              // declared or stated 18 or over
	clsProbAdult          // no age known, but they talk about an adult's life
	clsProbMinor          // no age known, but they talk about a child's life
	clsMinor              // declared or stated under 18
)

// Where an age comes from.
const (
	srcNone uint8 = iota
	srcDeclared
	srcStated
)

// maxRecipientsRead bounds the recipients whose ages are read per message.
const maxRecipientsRead = 256

// ageView is the age picture of a message's sender against the other
// participants, and the factor it puts on the sender's risk.
type ageView struct {
	factor       float64
	sender       ageClass
	senderAge    int
	senderSrc    uint8
	target       ageClass // the youngest other participant, as known
	targetAge    int
	targetSrc    uint8
	targetID     string
	targetMinor  bool // some other participant is a known minor
	similarMinor bool // the sender is a minor (or probably one) of about the target's age
}

// suspectClass classes a person as a possible sender of grooming signals:
// a declared adult is an adult whatever they claim (an adult who claims to
// be 15 is still an adult), and so is someone declared a minor who states
// an adult's age (the last age they state counts).
func suspectClass(declared *int, p *person, shadow bool) (ageClass, int, uint8) {
	switch {
	case declared != nil && *declared >= 18:
		return clsAdult, *declared, srcDeclared
	case declared != nil:
		if p != nil && p.age >= 18 {
			// An adult who signed up young and admits their age: the
			// admission is what they are.
			return clsAdult, int(p.age), srcStated
		}
		if p != nil && p.age > 0 && int(p.age) < *declared {
			return clsMinor, int(p.age), srcStated
		}
		return clsMinor, *declared, srcDeclared
	case p != nil && p.age > 0 && p.age < 18:
		return clsMinor, int(p.age), srcStated
	case p != nil && p.age > 0:
		return clsAdult, int(p.age), srcStated
	}
	return lifeClass(p, shadow), 0, srcNone
}

// targetClass classes a person as a possible target: a stated age under
// 18 makes them a minor even when they declared an adult's age (children
// sign up as adults).
func targetClass(declared *int, p *person, shadow bool) (ageClass, int, uint8) {
	switch {
	case declared != nil && *declared < 18:
		return clsMinor, *declared, srcDeclared
	case p != nil && p.age > 0 && p.age < 18:
		return clsMinor, int(p.age), srcStated
	case declared != nil:
		return clsAdult, *declared, srcDeclared
	case p != nil && p.age > 0:
		return clsAdult, int(p.age), srcStated
	}
	return lifeClass(p, shadow), 0, srcNone
}

// lifeClass reads a person's age from what they said about their life.
func lifeClass(p *person, shadow bool) ageClass {
	if p == nil {
		return clsUnknown
	}
	adult, child := hasCue(p.cues, ctxAdultLife, shadow), hasCue(p.cues, ctxChildLife, shadow)
	switch {
	case adult && !child:
		return clsProbAdult
	case child && !adult:
		return clsProbMinor
	}
	return clsUnknown
}

// ageView computes the age picture of message m from person who (its
// sender) against the recipients.
func (c *conv) ageView(m *event.Message, who int, shadow bool) ageView {
	var v ageView
	v.sender, v.senderAge, v.senderSrc = suspectClass(m.Sender.Age, &c.people[who], shadow)
	minAge := math.MaxInt
	hasProbMinor, allAdult, others := false, true, 0
	rank := func(cls ageClass) int { // youngest first, for the evidence's target
		switch cls {
		case clsMinor:
			return 0
		case clsProbMinor:
			return 1
		case clsUnknown:
			return 2
		case clsProbAdult:
			return 3
		}
		return 4
	}
	best := 5
	for i := range m.Recipients {
		if i == maxRecipientsRead {
			break
		}
		r := &m.Recipients[i]
		if r.ID == m.Sender.ID {
			continue
		}
		others++
		var p *person
		if k := c.find(r.ID); k >= 0 {
			p = &c.people[k]
		}
		cls, age, src := targetClass(r.Age, p, shadow)
		switch cls {
		case clsMinor:
			v.targetMinor = true
			minAge = min(minAge, age)
			allAdult = false
		case clsProbMinor:
			hasProbMinor = true
			allAdult = false
		case clsUnknown:
			allAdult = false
		}
		if k := rank(cls); k < best || k == best && cls == clsMinor && age < v.targetAge {
			best = k
			v.target, v.targetAge, v.targetSrc, v.targetID = cls, age, src, r.ID
		}
	}
	switch {
	case v.targetMinor:
		switch v.sender {
		case clsAdult:
			switch gap := v.senderAge - minAge; {
			case gap <= 3:
				v.factor = 0.6 // an 18-year-old and a 16-year-old
			case gap >= 10:
				v.factor = 1.8
			default:
				v.factor = 1.6
			}
		case clsProbAdult:
			v.factor = 1.4
		case clsUnknown:
			v.factor = 1.1
		case clsProbMinor:
			v.factor = 0.6
			v.similarMinor = true
		case clsMinor:
			switch gap := v.senderAge - minAge; {
			case gap >= 5:
				v.factor = 1.0
			case gap >= 3:
				v.factor = 0.5
				v.similarMinor = gap < 4
			default:
				v.factor = 0.3
				v.similarMinor = true
			}
		}
	case hasProbMinor:
		switch v.sender {
		case clsAdult:
			v.factor = 1.3
		case clsProbAdult:
			v.factor = 1.1
		case clsUnknown:
			v.factor = 0.9
		default:
			v.factor = 0.4
		}
	case others > 0 && allAdult:
		switch v.sender {
		case clsUnknown:
			v.factor = 0.4
		default:
			v.factor = 0.3
		}
	default:
		switch v.sender {
		case clsMinor, clsProbMinor:
			v.factor = 0.3
		default:
			v.factor = 0.6
		}
	}
	return v
}

// risk is the conversation's risk from the signals of person who at time
// t, in [0, 1): for each stage, its strongest signal (the rule's score,
// halved every halfLife since it was sent); their weighted sum, times the
// breadth (one stage alone counts half), the order (a typical progression
// counts more), the speed, the age factor and the conversational contexts;
// R mapped to 1 - exp(-R/riskScale). docs/grooming.md has the details.
func (c *conv) risk(rs *ruleset, who int, t int64, shadow bool, v *ageView) float64 {
	var strength [nStages]float64
	var first [nStages]int64
	var overridden uint8 // contexts the sender's own signals contradict
	for i := range first {
		first[i] = math.MaxInt64
	}
	for i := range c.signals {
		s := &c.signals[i]
		if int(s.who) != who || !shadow && s.flags&sigShadow != 0 {
			continue
		}
		overridden |= s.flags & sigOverrides
		age := max(0, t-s.at)
		x := float64(s.q) / 255 * math.Exp2(-float64(age)/float64(halfLife))
		strength[s.stage] = max(strength[s.stage], x)
		first[s.stage] = min(first[s.stage], s.at)
	}
	var present [nStages]stage
	n, sum := 0, 0.0
	for st := range nStages {
		if strength[st] > minStrength {
			sum += stageInfo[st].weight * strength[st]
			present[n] = st
			n++
		}
	}
	if n == 0 {
		return 0
	}
	// By first appearance (then phase): insertion sort of at most 10.
	for i := 1; i < n; i++ {
		for j := i; j > 0 && earlier(present[j], present[j-1], &first); j-- {
			present[j], present[j-1] = present[j-1], present[j]
		}
	}
	// Two distinct stages are a trajectory already: with a large age gap
	// they reach medium (isolation and a move off the platform from a
	// 35-year-old to a 13-year-old score about 0.52).
	breadth := 1.0
	switch n {
	case 1:
		breadth = 0.5
	case 2:
		breadth = 0.9
	}
	ordered := 1.0
	if n > 1 {
		inOrder := 0
		for i := 0; i+1 < n; i++ {
			if stageInfo[present[i]].phase <= stageInfo[present[i+1]].phase {
				inOrder++
			}
		}
		ordered = float64(inOrder) / float64(n-1)
	}
	speed := 1.0
	if n >= 3 {
		switch span := first[present[n-1]] - first[present[0]]; {
		case span <= int64(fastSpan):
			speed = 1.15
		case span <= int64(slowSpan):
			speed = 1.05
		}
	}
	damp := 1.0
	factors := &rs.factor
	if shadow {
		factors = &rs.factorAll
	}
	for _, ctx := range []context{ctxFamily, ctxGuardians} {
		if hasCue(c.ctx, ctx, shadow) && overridden&overrideBit(ctx) == 0 {
			damp *= factors[ctx]
		}
	}
	if n > 3 && damp == 1 && (v.factor >= 1 && v.sender != clsUnknown || v.target == clsUnknown && v.sender != clsMinor && v.sender != clsProbMinor) {
		// Four or five distinct stages that no family or guardian
		// context explains are a trajectory, whether the ages make the
		// pair a concern (an adult, or a minor five years older, and a
		// child) or nothing is known of the recipient's age: each stage
		// beyond three adds 15%.
		breadth = 1 + 0.15*float64(min(n, 5)-3)
	}
	r := sum * breadth * (0.8 + 0.4*ordered) * speed * v.factor * damp
	return 1 - math.Exp(-r/riskScale)
}

func earlier(a, b stage, first *[nStages]int64) bool {
	if first[a] != first[b] {
		return first[a] < first[b]
	}
	return stageInfo[a].phase < stageInfo[b].phase
}

// Evidence of a tier or minor flag: the trajectory that led to it, within
// detectors.MaxEvidenceBytes:
//
//	risk 0.67 high; u-1 (34) -> u-2 (13 stated); friendship m-2 03-02 16:01 "you're so mature for your age"; information m-4 03-02 16:05 "how old r u"; …
//
// The header gives the risk, the flag's severity, the sender and the
// youngest other participant with what is known of their ages (a number
// is declared unless marked "stated"; "adult?" and "minor?" are read from
// what they said about their lives; "age?" is unknown). Then, in order of
// time, the first signal of each of the sender's stages and the signals of
// the message that raised the flag: stage, message id, sent_at (UTC,
// month-day hour:minute) and an excerpt. When they do not fit, excerpts
// are shortened, then the oldest signals are left out (the flag's own
// never are).
const (
	evidenceIDBytes    = 24 // of a message id in the evidence
	minEvidenceExcerpt = 12 // excerpt bytes below which older entries are dropped instead
	evidenceTime       = "01-02 15:04"
)

func (c *conv) evidence(rs *ruleset, who int, t int64, shadow bool, v *ageView, risk float64, severity string, trigger uint64) string {
	if risk < 0 {
		risk = c.risk(rs, who, t, shadow, v)
	}
	var b strings.Builder
	b.WriteString("risk ")
	b.WriteString(strconv.FormatFloat(risk, 'f', 2, 64))
	b.WriteByte(' ')
	b.WriteString(severity)
	b.WriteString("; ")
	b.WriteString(cutString(c.personID(who), 16))
	b.WriteString(describeAge(v.sender, v.senderAge, v.senderSrc))
	if v.targetID != "" {
		b.WriteString(" -> ")
		b.WriteString(cutString(v.targetID, 16))
		b.WriteString(describeAge(v.target, v.targetAge, v.targetSrc))
	}
	header := b.String()

	// The first signal of each stage, and the flag's own signals.
	var firstOf [nStages]int
	for i := range firstOf {
		firstOf[i] = -1
	}
	var entries []int
	for i := range c.signals {
		s := &c.signals[i]
		if int(s.who) != who || !shadow && s.flags&sigShadow != 0 {
			continue
		}
		if s.idHash == trigger {
			entries = append(entries, i)
		} else if f := firstOf[s.stage]; f < 0 || s.at < c.signals[f].at {
			firstOf[s.stage] = i
		}
	}
	for _, i := range firstOf {
		if i >= 0 {
			entries = append(entries, i)
		}
	}
	sortEntries(c, entries)
	fixed := func(i int) int {
		s := &c.signals[i]
		return 2 + len(s.stage.String()) + 1 + min(int(s.idLen), evidenceIDBytes) + 1 + len(evidenceTime) + 3
	}
	budget := 0
	for {
		budget = detectors.MaxEvidenceBytes - len(header)
		for _, i := range entries {
			budget -= fixed(i)
		}
		if len(entries) <= 1 || budget >= len(entries)*minEvidenceExcerpt {
			break
		}
		drop := 0
		if c.signals[entries[0]].idHash == trigger {
			drop = 1
			for drop < len(entries)-1 && c.signals[entries[drop]].idHash == trigger {
				drop++
			}
		}
		entries = append(entries[:drop], entries[drop+1:]...)
	}
	// Share the budget: short excerpts leave room for longer ones.
	limit := maxExcerpt
	if len(entries) > 0 {
		limit = max(0, budget/len(entries))
		spare, long := 0, 0
		for _, i := range entries {
			if n := int(c.signals[i].exLen); n < limit {
				spare += limit - n
			} else {
				long++
			}
		}
		if long > 0 {
			limit += spare / long
		}
		limit = min(limit, maxExcerpt)
	}
	b.Reset()
	b.WriteString(header)
	for _, i := range entries {
		s := &c.signals[i]
		b.WriteString("; ")
		b.WriteString(s.stage.String())
		b.WriteByte(' ')
		b.WriteString(cutString(c.signalID(s), evidenceIDBytes))
		b.WriteByte(' ')
		b.WriteString(time.Unix(0, s.at).UTC().Format(evidenceTime))
		b.WriteString(" \"")
		ex := c.excerpt(s)
		if len(ex) > limit {
			ex = cutString(ex, max(0, limit-len("…"))) + "…"
			if limit < len("…") {
				ex = ""
			}
		}
		b.WriteString(ex)
		b.WriteByte('"')
	}
	return cutString(b.String(), detectors.MaxEvidenceBytes)
}

func sortEntries(c *conv, entries []int) {
	for i := 1; i < len(entries); i++ {
		for j := i; j > 0; j-- {
			a, b := &c.signals[entries[j]], &c.signals[entries[j-1]]
			if a.at > b.at || a.at == b.at && a.stage >= b.stage {
				break
			}
			entries[j], entries[j-1] = entries[j-1], entries[j]
		}
	}
}

func describeAge(cls ageClass, age int, src uint8) string {
	switch {
	case src == srcDeclared:
		return " (" + strconv.Itoa(age) + ")"
	case src == srcStated:
		return " (" + strconv.Itoa(age) + " stated)"
	case cls == clsProbAdult:
		return " (adult?)"
	case cls == clsProbMinor:
		return " (minor?)"
	}
	return " (age?)"
}
