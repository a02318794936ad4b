package keyword

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/detectors"
)

// ruleFields are the keyword detector's own rule fields, beyond the common
// ones (Factory.RuleFields). ruleDoc decodes exactly these.
var ruleFields = []string{"score", "phrases", "unless_after", "kind", "min_severity", "messages", "window", "allowed_lateness", "max_entries"}

// ruleDoc holds a rule's keyword-specific fields as YAML nodes, so that each
// is decoded on its own and an error names its field. A field that is
// absent has Kind 0.
type ruleDoc struct {
	Kind            yaml.Node `yaml:"kind"`
	Score           yaml.Node `yaml:"score"`
	Phrases         yaml.Node `yaml:"phrases"`
	UnlessAfter     yaml.Node `yaml:"unless_after"`
	MinSeverity     yaml.Node `yaml:"min_severity"`
	Messages        yaml.Node `yaml:"messages"`
	Window          yaml.Node `yaml:"window"`
	AllowedLateness yaml.Node `yaml:"allowed_lateness"`
	MaxEntries      yaml.Node `yaml:"max_entries"`
}

// The kinds of keyword rule.
const (
	kindPhrases    = "phrases"    // the default: a lexicon rule
	kindEscalation = "escalation" // counts the matches of phrase rules
)

// Limits on rules, so that a bad edit cannot make matching slow or the
// escalation state unbounded.
const (
	maxPhraseWords = 12
	maxUnlessWords = 4
	maxWindow      = 7 * 24 * time.Hour
	maxMessages    = 100
	maxStateCap    = 10_000_000
)

// phraseRule is a compiled lexicon rule: a finding of Category and Severity
// is raised on a message containing one of its phrases as a whole-word
// sequence.
type phraseRule struct {
	ID       string
	Category detectors.Category
	Severity detectors.Severity
	Score    float64
	Shadow   bool
}

// escalation configures a stateful rule: a finding is raised when one
// sender's messages in one conversation have matched phrase rules of
// Category with at least MinSeverity in Messages messages within Window of
// event time.
type escalation struct {
	ID          string
	Category    detectors.Category
	Severity    detectors.Severity
	Score       float64
	MinSeverity detectors.Severity
	Messages    int
	Window      time.Duration
	// AllowedLateness is how far event time may run ahead in other
	// conversations (partitions consumed out of step) before a pair's
	// state counts as idle: entries idle for longer than Window plus
	// AllowedLateness are dropped. Within that skew, results do not depend
	// on how conversations interleave.
	AllowedLateness time.Duration
	// MaxEntries caps the (conversation, sender) pairs whose recent
	// matches are remembered; the least recently used is dropped first.
	MaxEntries int
	// Shadow escalations count the matches of live and shadow rules; live
	// ones count live rules only, so that a rule under evaluation never
	// raises a live flag.
	Shadow bool
}

// ruleset is the compiled form of the detector's rules. It is immutable
// once built.
type ruleset struct {
	rules       []phraseRule
	escalations []escalation
	index       map[string][]phrase // first word → phrases starting with it, longest first
	unless      [][][]string        // per rule, the word sequences of unless_after
}

// phrase is one indexed phrase: the rule it belongs to and its words.
type phrase struct {
	rule  int
	words []string
}

// compile decodes, validates and indexes rules (the keyword rules of a
// RuleSet that run). All problems are reported at once, each naming the
// file, line and field.
func compile(rules []*detectors.Rule) (*ruleset, error) {
	rs := &ruleset{index: make(map[string][]phrase)}
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
		fr := &fieldReader{rule: r}
		if !slices.ContainsFunc(r.Examples, func(ex detectors.Example) bool { return !ex.Match }) {
			fr.errorf("examples", "at least one example with expect: no_match is required (a false positive the rule must not raise)")
		}
		kind, _ := decodeField[string](fr, "kind", &doc.Kind, "a rule kind", "!!str")
		switch kind {
		case "", kindPhrases:
			rs.addPhraseRule(fr, &doc)
		case kindEscalation:
			rs.addEscalation(fr, &doc)
		default:
			fr.errorf("kind", "%q: want %s (the default) or %s", kind, kindPhrases, kindEscalation)
		}
		errs = append(errs, fr.errs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, ps := range rs.index {
		// Longest first, so that the reported span is the most specific
		// phrase starting at a word; stable, so rule order breaks ties.
		slices.SortStableFunc(ps, func(a, b phrase) int { return len(b.words) - len(a.words) })
	}
	return rs, nil
}

func (rs *ruleset) addPhraseRule(fr *fieldReader, doc *ruleDoc) {
	r := fr.rule
	fr.absent([]string{"min_severity", "messages", "window", "allowed_lateness", "max_entries"},
		[]*yaml.Node{&doc.MinSeverity, &doc.Messages, &doc.Window, &doc.AllowedLateness, &doc.MaxEntries},
		"only for kind: "+kindEscalation)
	pr := phraseRule{ID: r.ID, Category: r.Category, Severity: r.Severity, Score: fr.score(&doc.Score), Shadow: r.Mode == detectors.Shadow}
	ruleIndex := len(rs.rules)
	rs.rules = append(rs.rules, pr)

	var unless [][]string
	afters, _ := decodeField[[]string](fr, "unless_after", &doc.UnlessAfter, "a list of phrases")
	for _, u := range afters {
		w := words(u)
		if len(w) == 0 || len(w) > maxUnlessWords {
			fr.errorf("unless_after", "%q must have 1 to %d words", u, maxUnlessWords)
			continue
		}
		unless = append(unless, variants(w)...)
	}
	rs.unless = append(rs.unless, unless)

	phrases, ok := decodeField[[]string](fr, "phrases", &doc.Phrases, "a list of phrases")
	if doc.Phrases.Kind == 0 || ok && len(phrases) == 0 {
		fr.errorf("phrases", "at least one phrase is required")
	}
	seen := make(map[string]bool)
	for _, p := range phrases {
		w := words(p)
		if len(w) == 0 || len(w) > maxPhraseWords {
			fr.errorf("phrases", "%q must have 1 to %d words", p, maxPhraseWords)
			continue
		}
		for _, v := range variants(w) {
			key := strings.Join(v, " ")
			if seen[key] {
				if slices.Equal(v, w) {
					fr.errorf("phrases", "%q is listed twice", p)
				}
				continue // the apostrophe-less variant was listed explicitly
			}
			seen[key] = true
			rs.index[v[0]] = append(rs.index[v[0]], phrase{rule: ruleIndex, words: v})
		}
	}
}

func (rs *ruleset) addEscalation(fr *fieldReader, doc *ruleDoc) {
	r := fr.rule
	fr.absent([]string{"phrases", "unless_after"}, []*yaml.Node{&doc.Phrases, &doc.UnlessAfter},
		"not for kind: "+kindEscalation+" (it counts the matches of the other rules)")
	e := escalation{ID: r.ID, Category: r.Category, Severity: r.Severity, Score: fr.score(&doc.Score), Shadow: r.Mode == detectors.Shadow}
	if s, ok := fr.required("min_severity", &doc.MinSeverity, "a severity", "!!str"); ok {
		var err error
		if e.MinSeverity, err = detectors.ParseSeverity(s); err != nil {
			fr.errorf("min_severity", "%v", err)
		}
	}
	if n, ok := fr.requiredInt("messages", &doc.Messages); ok {
		if n < 2 || n > maxMessages {
			fr.errorf("messages", "%d is not between 2 and %d", n, maxMessages)
		}
		e.Messages = n
	}
	if d, ok := fr.duration("window", &doc.Window); ok {
		if d <= 0 || d > maxWindow {
			fr.errorf("window", "%s is not between 0 and %s", d, maxWindow)
		}
		e.Window = d
	}
	if d, ok := fr.duration("allowed_lateness", &doc.AllowedLateness); ok {
		if d < 0 || d > maxWindow {
			fr.errorf("allowed_lateness", "%s is not between 0 and %s", d, maxWindow)
		}
		e.AllowedLateness = d
	}
	if n, ok := fr.requiredInt("max_entries", &doc.MaxEntries); ok {
		if n < 1 || n > maxStateCap {
			fr.errorf("max_entries", "%d is not between 1 and %d", n, maxStateCap)
		}
		e.MaxEntries = n
	}
	rs.escalations = append(rs.escalations, e)
}

// variants returns the phrase and, when it has words with apostrophes, the
// same phrase written without them ("don't" → "dont"), which is how many
// people type.
func variants(w []string) [][]string {
	out := [][]string{w}
	var bare []string
	for i, x := range w {
		if strings.Contains(x, "'") {
			if bare == nil {
				bare = slices.Clone(w)
			}
			bare[i] = strings.ReplaceAll(x, "'", "")
		}
	}
	if bare != nil {
		out = append(out, bare)
	}
	return out
}

// fieldReader decodes the fields of one rule and collects the problems,
// each naming the rule's file, the field's line and the field.
type fieldReader struct {
	rule *detectors.Rule
	errs []error
}

func (fr *fieldReader) errorf(field, format string, args ...any) {
	fr.errs = append(fr.errs, fr.rule.Errorf(field, format, args...))
}

// absent reports each of fields (whose nodes are ns) that is set.
func (fr *fieldReader) absent(fields []string, ns []*yaml.Node, why string) {
	for i, n := range ns {
		if n.Kind != 0 {
			fr.errorf(fields[i], "%s", why)
		}
	}
}

// decodeField decodes n into a T. It returns false when the field is
// absent, or when it is invalid, which it reports: want describes a valid
// value, and tags, when given, are the YAML tags a scalar may have (yaml.v3
// would otherwise truncate 3.5 into an int without a word).
func decodeField[T any](fr *fieldReader, field string, n *yaml.Node, want string, tags ...string) (T, bool) {
	var v T
	if n.Kind == 0 {
		return v, false
	}
	if len(tags) > 0 && (n.Kind != yaml.ScalarNode || !slices.Contains(tags, n.ShortTag())) || n.Decode(&v) != nil {
		fr.errorf(field, "%s is not %s", describe(n), want)
		return v, false
	}
	return v, true
}

// required is decodeField for a required string field.
func (fr *fieldReader) required(field string, n *yaml.Node, want string, tags ...string) (string, bool) {
	if n.Kind == 0 {
		fr.errorf(field, "required")
		return "", false
	}
	return decodeField[string](fr, field, n, want, tags...)
}

func (fr *fieldReader) requiredInt(field string, n *yaml.Node) (int, bool) {
	if n.Kind == 0 {
		fr.errorf(field, "required")
		return 0, false
	}
	return decodeField[int](fr, field, n, "a whole number", "!!int")
}

// duration reads a required duration such as 10m or 24h.
func (fr *fieldReader) duration(field string, n *yaml.Node) (time.Duration, bool) {
	s, ok := fr.required(field, n, "a duration such as 10m or 24h", "!!str", "!!int")
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		fr.errorf(field, "%q is not a duration such as 10m or 24h", s)
		return 0, false
	}
	return d, true
}

// score reads the required score, in (0, 1].
func (fr *fieldReader) score(n *yaml.Node) float64 {
	if n.Kind == 0 {
		fr.errorf("score", "required: a number in (0, 1]")
		return 0
	}
	s, ok := decodeField[float64](fr, "score", n, "a number in (0, 1]", "!!float", "!!int")
	if ok && !(s > 0 && s <= 1) {
		fr.errorf("score", "%s is not in (0, 1]", strconv.FormatFloat(s, 'g', -1, 64))
	}
	return s
}

// describe names a YAML value in an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "this value"
}
