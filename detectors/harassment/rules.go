package harassment

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
)

// ruleFields are the detector's own rule fields (Factory.RuleFields);
// ruleDoc decodes exactly these.
var ruleFields = []string{
	"kind", "score", "terms", "frames", "target", "untargeted", "banter", "cue_window", "requires",
	"unless", "unless_before", "unless_after", "low_before", "low_after",
	"min_severity", "messages", "window", "stop_requests", "stop_messages", "stop_window", "unanswered",
	"allowed_lateness", "max_entries",
}

// ruleDoc holds a rule's own fields as YAML nodes, so that each is decoded
// on its own and an error names its field. An absent field has Kind 0.
type ruleDoc struct {
	Kind            yaml.Node `yaml:"kind"`
	Score           yaml.Node `yaml:"score"`
	Terms           yaml.Node `yaml:"terms"`
	Frames          yaml.Node `yaml:"frames"`
	Unless          yaml.Node `yaml:"unless"`
	Target          yaml.Node `yaml:"target"`
	Untargeted      yaml.Node `yaml:"untargeted"`
	Banter          yaml.Node `yaml:"banter"`
	CueWindow       yaml.Node `yaml:"cue_window"`
	Requires        yaml.Node `yaml:"requires"`
	UnlessBefore    yaml.Node `yaml:"unless_before"`
	UnlessAfter     yaml.Node `yaml:"unless_after"`
	LowBefore       yaml.Node `yaml:"low_before"`
	LowAfter        yaml.Node `yaml:"low_after"`
	MinSeverity     yaml.Node `yaml:"min_severity"`
	Messages        yaml.Node `yaml:"messages"`
	Window          yaml.Node `yaml:"window"`
	StopRequests    yaml.Node `yaml:"stop_requests"`
	StopMessages    yaml.Node `yaml:"stop_messages"`
	StopWindow      yaml.Node `yaml:"stop_window"`
	Unanswered      yaml.Node `yaml:"unanswered"`
	AllowedLateness yaml.Node `yaml:"allowed_lateness"`
	MaxEntries      yaml.Node `yaml:"max_entries"`
}

// The kinds of rule.
const (
	kindTerms      = "terms"      // the default: terms found in one message
	kindEscalation = "escalation" // the conversation-level rule
)

// Targets of a terms rule.
const (
	targetNone           = "none"          // the term alone is enough
	targetSecondPerson   = "second_person" // the term must be aimed at the recipient
	defaultCueWindow     = 3
	maxCueWindow         = 8
	reportedWindow       = 12 // words that low_before reaches back, within the sentence
	maxTermWords         = 12
	maxCueWords          = 8
	maxWindow            = 7 * 24 * time.Hour
	maxMessages          = 100
	maxStateCap          = 10_000_000
	maxFillersInTarget   = 5 // fillers between the second-person word and the term
	maxModifiersInTarget = 4 // describing words right before the term
	escalationStopLimit  = 64
)

// Contact details a terms rule may require (requires:).
const (
	needPhone uint8 = 1 << iota
	needAddress
	needEmail
)

var requireNames = map[string]uint8{"phone": needPhone, "address": needAddress, "email": needEmail}

// termRule is a compiled terms rule.
type termRule struct {
	ID         string
	Category   detectors.Category
	Severity   detectors.Severity
	Score      float64
	Shadow     bool
	Target     bool               // second_person
	Untargeted detectors.Severity // severity of a match not aimed at the reader; "" drops it
	Banter     detectors.Severity // severity when the message laughs or jokes; "" keeps it
	Window     int                // cue_window
	Requires   uint8              // any of these contact details must be in the message
}

// escalation is a compiled conversation-level rule: it counts, per
// (conversation, sender), the messages that qualify, and fires from the
// Messages-th qualifying message within Window. A message qualifies when
// it matched a terms rule of Category at MinSeverity or above, or when it
// was sent in a two-person conversation after the other person asked the
// sender to stop (within StopWindow), or when it is at least the
// Unanswered-th message in a row, within Window, that the other person has
// not answered.
type escalation struct {
	ID              string
	Category        detectors.Category
	Severity        detectors.Severity
	Score           float64
	Shadow          bool
	MinSeverity     detectors.Severity // "" when matches do not count
	Messages        int
	Window          time.Duration
	Stop            bool // has stop_requests or stop_messages
	StopWindow      time.Duration
	Unanswered      int // 0 when off
	AllowedLateness time.Duration
	MaxEntries      int
}

// Roles of a lexicon pattern. One normalised phrase may have several.
const (
	roleTerm uint8 = iota
	roleUnlessBefore
	roleUnlessAfter
	roleLowBefore
	roleLowAfter
	roleStop      // stop_requests of an escalation rule
	roleStopWhole // stop_messages of an escalation rule
	roleSecond    // grammar: the reader
	roleWeakSecond
	roleFamily
	roleFiller
	roleLikeYou
	roleJoke
	roleFrame  // a frame of a terms rule (not a matcher pattern: see ruleset.frames)
	roleUnless // unless: cancels the rule anywhere in the message
)

type role struct {
	kind uint8
	rule int32 // index into ruleset.terms or ruleset.escalations; -1 for grammar
}

// ruleset is the compiled, immutable form of the detector's rules: the rules
// and one text.Matcher over every term, every cue and the grammar's words.
type ruleset struct {
	terms       []termRule
	escalations []escalation
	matcher     *text.Matcher
	roles       detectors.LexiconRoles[role] // of each pattern of the matcher
	// frames are the frames of every terms rule (text.FrameSet); a frame
	// match is a match of ID patterns+i, whose role is frameRoles[i].
	frames        *text.FrameSet
	frameSpecs    []string
	frameRoles    []role
	frameNegation []bool // the frame names a negation itself ("why ~1 dont ~1 {you} …")
	patterns      int    // patterns of the matcher
}

// lexicon collects the patterns of a ruleset: every term, every cue and
// the grammar's words.
type lexicon = detectors.Lexicon[role]

// grammarLexicon adds the grammar's word lists.
func grammar(l *lexicon) {
	for _, list := range []struct {
		words []string
		kind  uint8
	}{
		{secondPerson, roleSecond}, {weakSecondPerson, roleWeakSecond}, {family, roleFamily},
		{fillers, roleFiller}, {likeYou, roleLikeYou}, {joking, roleJoke},
	} {
		for _, w := range list.words {
			l.AddWord(w, role{kind: list.kind, rule: -1})
		}
	}
}

// compile decodes, validates and indexes rules (the detector's rules that
// run). All problems are reported at once, each naming the file, line and
// field.
func compile(rules []*detectors.Rule) (*ruleset, error) {
	rs := &ruleset{}
	lex := &lexicon{}
	grammar(lex)
	var errs []error
	ids := make(map[string]detectors.Source, len(rules))
	for _, r := range rules {
		if r.Detector != Name {
			errs = append(errs, fmt.Errorf("%s: rule %s is for detector %s, not %s", r.Source, r.ID, r.Detector, Name))
			continue
		}
		if prev, dup := ids[r.ID]; dup {
			errs = append(errs, r.Errorf("id", "duplicate id (also at %s)", prev))
			continue
		}
		ids[r.ID] = r.Source
		var doc ruleDoc
		if err := r.Decode(&doc); err != nil {
			errs = append(errs, err)
			continue
		}
		fr := r.Fields()
		if !slices.ContainsFunc(r.Examples, func(ex detectors.Example) bool { return !ex.Match }) {
			fr.Errorf("examples", "at least one example with expect: no_match is required (a false positive the rule must not raise)")
		}
		kind, _ := detectors.DecodeField[string](fr, "kind", &doc.Kind, "a rule kind", "!!str")
		switch kind {
		case "", kindTerms:
			rs.addTermRule(fr, &doc, lex)
		case kindEscalation:
			rs.addEscalation(fr, &doc, lex)
		default:
			fr.Errorf("kind", "%q: want %s (the default) or %s", kind, kindTerms, kindEscalation)
		}
		errs = append(errs, fr.Errs()...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m, roles, err := lex.Compile(Name)
	if err != nil {
		return nil, err
	}
	rs.matcher, rs.roles, rs.patterns = m, roles, m.Len()
	if rs.frames, err = text.CompileFrames(rs.frameSpecs); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err) // each frame was compiled on its own before
	}
	return rs, nil
}

// rolesOf returns the roles of pattern id: a matcher pattern's, or a
// frame's (id ≥ rs.patterns).
func (rs *ruleset) rolesOf(id int) []role {
	if id >= rs.patterns {
		i := id - rs.patterns
		return rs.frameRoles[i : i+1]
	}
	return rs.roles.Of(id)
}

func (rs *ruleset) addTermRule(fr *detectors.RuleFields, doc *ruleDoc, lex *lexicon) {
	r := fr.Rule()
	fr.Absent([]string{"min_severity", "messages", "window", "stop_requests", "stop_messages", "stop_window", "unanswered", "allowed_lateness", "max_entries"},
		[]*yaml.Node{&doc.MinSeverity, &doc.Messages, &doc.Window, &doc.StopRequests, &doc.StopMessages, &doc.StopWindow, &doc.Unanswered, &doc.AllowedLateness, &doc.MaxEntries},
		"only for kind: "+kindEscalation)
	tr := termRule{ID: r.ID, Category: r.Category, Severity: r.Severity, Score: fr.Score(&doc.Score), Shadow: r.Mode == detectors.Shadow, Window: defaultCueWindow}
	idx := int32(len(rs.terms))

	target, _ := detectors.DecodeField[string](fr, "target", &doc.Target, "none or second_person", "!!str")
	switch target {
	case "", targetNone:
	case targetSecondPerson:
		tr.Target = true
	default:
		fr.Errorf("target", "%q: want %s or %s", target, targetNone, targetSecondPerson)
	}
	if s, ok := fr.Severity("untargeted", &doc.Untargeted); ok {
		switch {
		case !tr.Target:
			fr.Errorf("untargeted", "only with target: %s", targetSecondPerson)
		case s.Rank() > tr.Severity.Rank():
			fr.Errorf("untargeted", "%s is above the rule's severity %s", s, tr.Severity)
		}
		tr.Untargeted = s
	}
	if s, ok := fr.Severity("banter", &doc.Banter); ok {
		if s.Rank() > tr.Severity.Rank() {
			fr.Errorf("banter", "%s is above the rule's severity %s", s, tr.Severity)
		}
		tr.Banter = s
	}
	if n, ok := detectors.DecodeField[int](fr, "cue_window", &doc.CueWindow, "a whole number", "!!int"); ok {
		if n < 1 || n > maxCueWindow {
			fr.Errorf("cue_window", "%d is not between 1 and %d", n, maxCueWindow)
		}
		tr.Window = n
	}
	if names, ok := detectors.DecodeField[[]string](fr, "requires", &doc.Requires, "a list of phone, address, email"); ok {
		if len(names) == 0 {
			fr.Errorf("requires", "empty: name at least one of phone, address, email, or leave the field out")
		}
		for _, n := range names {
			bit, known := requireNames[n]
			if !known {
				fr.Errorf("requires", "%q is not phone, address or email", n)
			}
			tr.Requires |= bit
		}
	}
	rs.terms = append(rs.terms, tr)

	terms, ok := fr.PhraseList("terms", &doc.Terms)
	specs, _ := detectors.DecodeField[[]string](fr, "frames", &doc.Frames, "a list of frames (text.CompileFrames)")
	for _, spec := range specs {
		if _, err := text.CompileFrames([]string{spec}); err != nil {
			fr.Errorf("frames", "%v", err)
			continue
		}
		rs.frameSpecs = append(rs.frameSpecs, spec)
		rs.frameRoles = append(rs.frameRoles, role{roleFrame, idx})
		rs.frameNegation = append(rs.frameNegation, namesNegation(spec))
	}
	if (doc.Terms.Kind == 0 || ok && len(terms) == 0) && len(specs) == 0 {
		fr.Errorf("terms", "at least one term (or frame) is required")
	}
	norms := phrases(fr, "terms", terms, maxTermWords, lex, role{roleTerm, idx})
	if tr.Target {
		// The normal form joins a one-letter word to letters spelled out
		// after it: "you're a l o s e r" reads "you're aloser". Read the
		// article back out of one-word terms.
		for _, n := range norms {
			if !strings.ContainsAny(n, " '") {
				lex.Add("a"+n, "a"+n, role{roleTerm, idx}, r, "terms")
			}
		}
		// Misspelt insults read as written: "idoit", "stupd", "anoying"
		// (text.Typos), except those that are other English words
		// ("garage", "niger", "manic": typoRealWords) or other phrases.
		for _, n := range norms {
			for _, v := range text.Typos(n) {
				if !typoRealWords[v] && !lex.Has(v) {
					lex.Add(v, v, role{roleTerm, idx}, r, "terms")
				}
			}
		}
	}
	for _, c := range []struct {
		field string
		node  *yaml.Node
		kind  uint8
	}{
		{"unless", &doc.Unless, roleUnless},
		{"unless_before", &doc.UnlessBefore, roleUnlessBefore}, {"unless_after", &doc.UnlessAfter, roleUnlessAfter},
		{"low_before", &doc.LowBefore, roleLowBefore}, {"low_after", &doc.LowAfter, roleLowAfter},
	} {
		cues, _ := fr.PhraseList(c.field, c.node)
		phrases(fr, c.field, cues, maxCueWords, lex, role{c.kind, idx})
	}
}

func (rs *ruleset) addEscalation(fr *detectors.RuleFields, doc *ruleDoc, lex *lexicon) {
	r := fr.Rule()
	fr.Absent([]string{"terms", "frames", "target", "untargeted", "banter", "cue_window", "requires", "unless", "unless_before", "unless_after", "low_before", "low_after"},
		[]*yaml.Node{&doc.Terms, &doc.Frames, &doc.Target, &doc.Untargeted, &doc.Banter, &doc.CueWindow, &doc.Requires, &doc.Unless, &doc.UnlessBefore, &doc.UnlessAfter, &doc.LowBefore, &doc.LowAfter},
		"not for kind: "+kindEscalation+" (it counts messages; see the terms rules)")
	e := escalation{ID: r.ID, Category: r.Category, Severity: r.Severity, Score: fr.Score(&doc.Score), Shadow: r.Mode == detectors.Shadow}
	idx := int32(len(rs.escalations))
	if s, ok := fr.Severity("min_severity", &doc.MinSeverity); ok {
		e.MinSeverity = s
	}
	if n, ok := fr.RequiredInt("messages", &doc.Messages); ok {
		if n < 2 || n > maxMessages {
			fr.Errorf("messages", "%d is not between 2 and %d", n, maxMessages)
		}
		e.Messages = n
	}
	if d, ok := fr.Duration("window", &doc.Window, true); ok {
		if d <= 0 || d > maxWindow {
			fr.Errorf("window", "%s is not between 0 and %s", d, maxWindow)
		}
		e.Window = d
	}
	if d, ok := fr.Duration("allowed_lateness", &doc.AllowedLateness, true); ok {
		if d < 0 || d > maxWindow {
			fr.Errorf("allowed_lateness", "%s is not between 0 and %s", d, maxWindow)
		}
		e.AllowedLateness = d
	}
	if n, ok := fr.RequiredInt("max_entries", &doc.MaxEntries); ok {
		if n < 1 || n > maxStateCap {
			fr.Errorf("max_entries", "%d is not between 1 and %d", n, maxStateCap)
		}
		e.MaxEntries = n
	}
	stops, _ := fr.PhraseList("stop_requests", &doc.StopRequests)
	whole, _ := fr.PhraseList("stop_messages", &doc.StopMessages)
	if len(stops)+len(whole) > escalationStopLimit {
		fr.Errorf("stop_requests", "%d stop phrases; at most %d", len(stops)+len(whole), escalationStopLimit)
	}
	phrases(fr, "stop_requests", stops, maxCueWords, lex, role{roleStop, idx})
	phrases(fr, "stop_messages", whole, maxCueWords, lex, role{roleStopWhole, idx})
	e.Stop = len(stops)+len(whole) > 0
	if d, ok := fr.Duration("stop_window", &doc.StopWindow, e.Stop); ok {
		if !e.Stop {
			fr.Errorf("stop_window", "only with stop_requests or stop_messages")
		}
		if d <= 0 || d > maxWindow {
			fr.Errorf("stop_window", "%s is not between 0 and %s", d, maxWindow)
		}
		e.StopWindow = d
	}
	if n, ok := detectors.DecodeField[int](fr, "unanswered", &doc.Unanswered, "a whole number", "!!int"); ok {
		if n < 2 || n > maxMessages {
			fr.Errorf("unanswered", "%d is not between 2 and %d", n, maxMessages)
		}
		e.Unanswered = n
	}
	if e.MinSeverity == "" && !e.Stop && e.Unanswered == 0 {
		fr.Errorf("min_severity", "an escalation counts something: give min_severity, stop_requests or stop_messages, or unanswered")
	}
	rs.escalations = append(rs.escalations, e)
}

// A frame whose own slots name a negation (a word of text.Classes
// "negation" or "nobody", or those classes) reads it on purpose, so an
// unless_before cue inside its match does not cancel it ("why ~1 dont ~1
// {you} …").
// namesNegation reports whether a frame has a negation among its slots'
// words.
func namesNegation(spec string) bool {
	for _, f := range strings.Fields(spec) {
		for _, alt := range strings.Split(strings.TrimSuffix(f, "?"), "|") {
			w := strings.ReplaceAll(alt, "'", "")
			if w == "{negation}" || w == "{nobody}" || slices.Contains(text.Classes["negation"], w) || slices.Contains(text.Classes["nobody"], w) {
				return true
			}
		}
	}
	return false
}

// phrases checks a list of phrases and adds them to the lexicon: each must
// have 1 to maxWords words in the normal form, no masking character, and
// appear once in its field.
func phrases(fr *detectors.RuleFields, field string, list []string, maxWords int, lex *lexicon, r role) []string {
	var words []span
	return lex.AddPhrases(fr, field, list, maxWords, func(norm string) int {
		words = segment(norm, words[:0])
		return len(words)
	}, r)
}
