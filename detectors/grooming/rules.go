package grooming

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
)

// ruleFields are the detector's own rule fields (Factory.RuleFields).
var ruleFields = []string{
	"kind", "stage", "context", "score", "phrases", "frames", "contacts", "asks_age", "unless", "unless_frames", "unless_before",
	"factor", "threshold", "stages", "overrides",
}

// ruleDoc holds a rule's own fields as YAML nodes, so that each is decoded
// on its own and an error names its field. An absent field has Kind 0.
type ruleDoc struct {
	Kind         yaml.Node `yaml:"kind"`
	Stage        yaml.Node `yaml:"stage"`
	Context      yaml.Node `yaml:"context"`
	Score        yaml.Node `yaml:"score"`
	Phrases      yaml.Node `yaml:"phrases"`
	Frames       yaml.Node `yaml:"frames"`
	Contacts     yaml.Node `yaml:"contacts"`
	AsksAge      yaml.Node `yaml:"asks_age"`
	Unless       yaml.Node `yaml:"unless"`
	UnlessFrames yaml.Node `yaml:"unless_frames"`
	UnlessBefore yaml.Node `yaml:"unless_before"`
	Factor       yaml.Node `yaml:"factor"`
	Threshold    yaml.Node `yaml:"threshold"`
	Stages       yaml.Node `yaml:"stages"`
	Overrides    yaml.Node `yaml:"overrides"`
}

// The kinds of rule.
const (
	kindStage   = "stage"   // the default: words that are evidence of a stage
	kindContext = "context" // words that change how a conversation reads
	kindTier    = "tier"    // the conversation's risk crossed a threshold
	kindMinor   = "minor"   // a stage signal aimed at a known minor, on its own
)

const (
	maxPhraseWords = 12
	// cueWindow is how many words before a match an unless_before cue
	// may end, in the same sentence.
	cueWindow = 3
)

// phraseRule is a compiled stage or context rule.
type phraseRule struct {
	id       string
	category detectors.Category
	severity detectors.Severity
	score    float64
	q        uint8 // score quantised to 1..255, as stored in the state
	shadow   bool
	context  bool // a context rule; else a stage rule
	stage    stage
	ctx      context
	factor   float64 // context rules of the conversation kinds: the damping
	phone    bool    // contacts: a phone number is a signal
	email    bool    // contacts: an email address is a signal
	asksAge  bool    // a match opens the window in which a bare number answers
	// overrides: stage rules: the conversational contexts a signal of the
	// rule contradicts (sigOverrides), so that they no longer damp the
	// sender's risk: hiding the chat itself from parents is not a surprise
	// party, and parents in the loop are not asked to be kept out.
	overrides uint8
}

// tierRule fires once per conversation when the risk first reaches
// threshold.
type tierRule struct {
	id        string
	hash      uint32
	category  detectors.Category
	severity  detectors.Severity
	threshold float64
	shadow    bool
}

// minorRule fires once per conversation on a signal of one of its stages
// sent to a known minor by someone who is not a minor of about their age.
type minorRule struct {
	id       string
	hash     uint32
	category detectors.Category
	severity detectors.Severity
	score    float64
	stages   uint16 // bit per stage
	shadow   bool
}

// Roles of a lexicon pattern.
const (
	roleTerm uint8 = iota
	roleUnless
	roleUnlessBefore
	roleAgeHint // a number word or a school name: run the age parser
)

type role struct {
	kind uint8
	rule int32 // index into ruleset.phrases; -1 for roleAgeHint
}

// ruleset is the compiled, immutable form of the detector's rules, shared
// by every instance that runs them.
type ruleset struct {
	phrases []phraseRule
	tiers   []tierRule // by threshold, highest first
	minors  []minorRule
	matcher *text.Matcher
	roles   detectors.LexiconRoles[role] // of each pattern of the matcher
	// frames are the frames of all stage and context rules (text.FrameSet),
	// frameRule the phrase rule of each, frameUnless whether it is one of
	// the rule's unless_frames (a match cancels the rule in the message).
	frames      *text.FrameSet
	frameRule   []int32
	frameUnless []bool
	// factor is the damping of each conversational context, live rules
	// only (factorAll: live and shadow); 1 when no rule has it.
	factor, factorAll [nContexts]float64
	hasShadow         bool // some rule runs in shadow mode
	contacts          bool // some stage rule looks for contact details
}

func (rs *ruleset) rolesOf(id int) []role { return rs.roles.Of(id) }

// compiler shares one compiled rule set among a factory's instances.
type compiler = detectors.CompileCache[*ruleset]

// lexicon collects the patterns of a ruleset: every phrase and the age
// hint words.
type lexicon = detectors.Lexicon[role]

// compile decodes, validates and indexes rules. All problems are reported
// at once, each naming the file, line and field.
func compile(rules []*detectors.Rule) (*ruleset, error) {
	rs := &ruleset{}
	for c := range nContexts {
		rs.factor[c], rs.factorAll[c] = 1, 1
	}
	lex := &lexicon{}
	var frames []string
	for _, w := range ageHintWords() {
		lex.AddWord(w, role{roleAgeHint, -1})
	}
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
		rs.hasShadow = rs.hasShadow || r.Mode == detectors.Shadow
		kind, _ := detectors.DecodeField[string](fr, "kind", &doc.Kind, "a rule kind", "!!str")
		switch kind {
		case "", kindStage:
			frames = rs.addPhraseRule(fr, &doc, lex, false, frames)
		case kindContext:
			frames = rs.addPhraseRule(fr, &doc, lex, true, frames)
		case kindTier:
			rs.addTier(fr, &doc)
		case kindMinor:
			rs.addMinor(fr, &doc)
		default:
			fr.Errorf("kind", "%q: want %s (the default), %s, %s or %s", kind, kindStage, kindContext, kindTier, kindMinor)
		}
		errs = append(errs, fr.Errs()...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortStableFunc(rs.tiers, func(a, b tierRule) int {
		switch {
		case a.threshold > b.threshold:
			return -1
		case a.threshold < b.threshold:
			return 1
		}
		return 0
	})
	m, roles, err := lex.Compile(Name)
	if err != nil {
		return nil, err
	}
	rs.matcher, rs.roles = m, roles
	if rs.frames, err = text.CompileFrames(frames); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err) // each frame was compiled on its own above
	}
	return rs, nil
}

// quantize stores a score in (0, 1] as 1..255.
func quantize(s float64) uint8 {
	q := math.Round(s * 255)
	return uint8(min(255, max(1, q)))
}

func ruleHash(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()
}

// addPhraseRule adds a stage or context rule; its frames are appended to
// frames (returned), one entry of rs.frameRule each.
func (rs *ruleset) addPhraseRule(fr *detectors.RuleFields, doc *ruleDoc, lex *lexicon, isContext bool, frames []string) []string {
	r := fr.Rule()
	pr := phraseRule{id: r.ID, category: r.Category, severity: r.Severity, shadow: r.Mode == detectors.Shadow, context: isContext}
	pr.score = fr.Score(&doc.Score)
	if pr.score > 0 && pr.score <= 1 {
		pr.q = quantize(pr.score)
	}
	idx := int32(len(rs.phrases))
	fr.Absent([]string{"threshold", "stages"}, []*yaml.Node{&doc.Threshold, &doc.Stages}, "not for a rule of kind stage or context")
	if isContext {
		fr.Absent([]string{"stage", "contacts", "asks_age", "overrides"}, []*yaml.Node{&doc.Stage, &doc.Contacts, &doc.AsksAge, &doc.Overrides}, "not for kind: context")
		name, ok := fr.Required("context", &doc.Context, "a context name", "!!str")
		if ok {
			c, known := parseContext(name)
			if !known {
				fr.Errorf("context", "%q: want one of %s", name, strings.Join(contextNames[:], ", "))
			}
			pr.ctx = c
			if c.conversational() {
				f, ok := detectors.DecodeField[float64](fr, "factor", &doc.Factor, "a number in (0, 1)", "!!float", "!!int")
				switch {
				case doc.Factor.Kind == 0:
					fr.Errorf("factor", "required for context %s: what the conversation's risk is multiplied by, in (0, 1)", name)
				case ok && !(f > 0 && f < 1):
					fr.Errorf("factor", "%g is not in (0, 1)", f)
				case ok:
					pr.factor = f
					rs.factorAll[c] = min(rs.factorAll[c], f)
					if !pr.shadow {
						rs.factor[c] = min(rs.factor[c], f)
					}
				}
			} else {
				fr.Absent([]string{"factor"}, []*yaml.Node{&doc.Factor}, "only for the contexts family and guardians (a person's life tells their age, it damps nothing)")
			}
		}
	} else {
		fr.Absent([]string{"context", "factor"}, []*yaml.Node{&doc.Context, &doc.Factor}, "only for kind: context")
		name, ok := fr.Required("stage", &doc.Stage, "a stage name", "!!str")
		if ok {
			s, known := parseStage(name)
			if !known {
				fr.Errorf("stage", "%q: want one of %s", name, strings.Join(stageNames(), ", "))
			}
			pr.stage = s
		}
		if kinds, ok := detectors.DecodeField[[]string](fr, "contacts", &doc.Contacts, "a list of phone, email"); ok {
			if len(kinds) == 0 {
				fr.Errorf("contacts", "empty: name phone, email or both, or leave the field out")
			}
			for _, k := range kinds {
				switch k {
				case "phone":
					pr.phone = true
				case "email":
					pr.email = true
				default:
					fr.Errorf("contacts", "%q is not phone or email", k)
				}
			}
			rs.contacts = rs.contacts || pr.phone || pr.email
		}
		if b, ok := detectors.DecodeField[bool](fr, "asks_age", &doc.AsksAge, "true or false", "!!bool"); ok {
			pr.asksAge = b
		}
		if names, ok := detectors.DecodeField[[]string](fr, "overrides", &doc.Overrides, "a list of family, guardians"); ok {
			for _, n := range names {
				c, known := parseContext(n)
				if !known || !c.conversational() {
					fr.Errorf("overrides", "%q: want family or guardians (the contexts that damp the risk)", n)
					continue
				}
				pr.overrides |= overrideBit(c)
			}
		}
	}
	rs.phrases = append(rs.phrases, pr)
	list, ok := fr.PhraseList("phrases", &doc.Phrases)
	specs, _ := detectors.DecodeField[[]string](fr, "frames", &doc.Frames, "a list of frames (text.CompileFrames)")
	cancels, _ := detectors.DecodeField[[]string](fr, "unless_frames", &doc.UnlessFrames, "a list of frames (text.CompileFrames)")
	for _, f := range [2]struct {
		field  string
		specs  []string
		unless bool
	}{{"frames", specs, false}, {"unless_frames", cancels, true}} {
		for _, spec := range f.specs {
			if _, err := text.CompileFrames([]string{spec}); err != nil {
				fr.Errorf(f.field, "%v", err)
				continue
			}
			frames = append(frames, spec)
			rs.frameRule = append(rs.frameRule, idx)
			rs.frameUnless = append(rs.frameUnless, f.unless)
		}
	}
	if (doc.Phrases.Kind == 0 || ok && len(list) == 0) && len(specs) == 0 && !pr.phone && !pr.email {
		fr.Errorf("phrases", "at least one phrase or frame is required (or, for a stage rule, contacts)")
	}
	addPhrases(fr, "phrases", list, lex, role{roleTerm, idx})
	unless, _ := fr.PhraseList("unless", &doc.Unless)
	addPhrases(fr, "unless", unless, lex, role{roleUnless, idx})
	before, _ := fr.PhraseList("unless_before", &doc.UnlessBefore)
	addPhrases(fr, "unless_before", before, lex, role{roleUnlessBefore, idx})
	return frames
}

func (rs *ruleset) addTier(fr *detectors.RuleFields, doc *ruleDoc) {
	r := fr.Rule()
	fr.Absent([]string{"stage", "context", "score", "phrases", "frames", "contacts", "asks_age", "unless", "unless_frames", "unless_before", "factor", "overrides", "stages"},
		[]*yaml.Node{&doc.Stage, &doc.Context, &doc.Score, &doc.Phrases, &doc.Frames, &doc.Contacts, &doc.AsksAge, &doc.Unless, &doc.UnlessFrames, &doc.UnlessBefore, &doc.Factor, &doc.Overrides, &doc.Stages},
		"not for kind: tier (it reads the conversation's risk, which is also its score)")
	t := tierRule{id: r.ID, hash: ruleHash(r.ID), category: r.Category, severity: r.Severity, shadow: r.Mode == detectors.Shadow}
	if doc.Threshold.Kind == 0 {
		fr.Errorf("threshold", "required: the risk in (0, 1) from which the rule fires")
	} else if th, ok := detectors.DecodeField[float64](fr, "threshold", &doc.Threshold, "a number in (0, 1)", "!!float", "!!int"); ok {
		if !(th > 0 && th < 1) {
			fr.Errorf("threshold", "%g is not in (0, 1)", th)
		}
		t.threshold = th
	}
	rs.tiers = append(rs.tiers, t)
}

func (rs *ruleset) addMinor(fr *detectors.RuleFields, doc *ruleDoc) {
	r := fr.Rule()
	fr.Absent([]string{"stage", "context", "phrases", "frames", "contacts", "asks_age", "unless", "unless_frames", "unless_before", "factor", "overrides", "threshold"},
		[]*yaml.Node{&doc.Stage, &doc.Context, &doc.Phrases, &doc.Frames, &doc.Contacts, &doc.AsksAge, &doc.Unless, &doc.UnlessFrames, &doc.UnlessBefore, &doc.Factor, &doc.Overrides, &doc.Threshold},
		"not for kind: minor (it reads the stage signals of the stage rules)")
	mr := minorRule{id: r.ID, hash: ruleHash(r.ID), category: r.Category, severity: r.Severity, shadow: r.Mode == detectors.Shadow}
	mr.score = fr.Score(&doc.Score)
	if doc.Stages.Kind == 0 {
		fr.Errorf("stages", "required: the stages whose signals, aimed at a minor, raise the rule")
	} else if names, ok := detectors.DecodeField[[]string](fr, "stages", &doc.Stages, "a list of stage names"); ok {
		if len(names) == 0 {
			fr.Errorf("stages", "empty: name at least one of %s", strings.Join(stageNames(), ", "))
		}
		for _, n := range names {
			s, known := parseStage(n)
			if !known {
				fr.Errorf("stages", "%q: want one of %s", n, strings.Join(stageNames(), ", "))
				continue
			}
			mr.stages |= 1 << s
		}
	}
	rs.minors = append(rs.minors, mr)
}

// addPhrases checks a list of phrases and adds them (and their chat
// spellings) to the lexicon.
func addPhrases(fr *detectors.RuleFields, field string, list []string, lex *lexicon, r role) {
	lex.AddPhrases(fr, field, list, maxPhraseWords, func(norm string) int { return len(strings.Fields(norm)) }, r)
}
