package keyword

import (
	"errors"
	"fmt"
	"slices"
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
		fr := r.Fields()
		if !slices.ContainsFunc(r.Examples, func(ex detectors.Example) bool { return !ex.Match }) {
			fr.Errorf("examples", "at least one example with expect: no_match is required (a false positive the rule must not raise)")
		}
		kind, _ := detectors.DecodeField[string](fr, "kind", &doc.Kind, "a rule kind", "!!str")
		switch kind {
		case "", kindPhrases:
			rs.addPhraseRule(fr, &doc)
		case kindEscalation:
			rs.addEscalation(fr, &doc)
		default:
			fr.Errorf("kind", "%q: want %s (the default) or %s", kind, kindPhrases, kindEscalation)
		}
		errs = append(errs, fr.Errs()...)
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

func (rs *ruleset) addPhraseRule(fr *detectors.RuleFields, doc *ruleDoc) {
	r := fr.Rule()
	fr.Absent([]string{"min_severity", "messages", "window", "allowed_lateness", "max_entries"},
		[]*yaml.Node{&doc.MinSeverity, &doc.Messages, &doc.Window, &doc.AllowedLateness, &doc.MaxEntries},
		"only for kind: "+kindEscalation)
	pr := phraseRule{ID: r.ID, Category: r.Category, Severity: r.Severity, Score: fr.Score(&doc.Score), Shadow: r.Mode == detectors.Shadow}
	ruleIndex := len(rs.rules)
	rs.rules = append(rs.rules, pr)

	var unless [][]string
	afters, _ := detectors.DecodeField[[]string](fr, "unless_after", &doc.UnlessAfter, "a list of phrases")
	for _, u := range afters {
		w := words(u)
		if len(w) == 0 || len(w) > maxUnlessWords {
			fr.Errorf("unless_after", "%q must have 1 to %d words", u, maxUnlessWords)
			continue
		}
		unless = append(unless, variants(w)...)
	}
	rs.unless = append(rs.unless, unless)

	phrases, ok := detectors.DecodeField[[]string](fr, "phrases", &doc.Phrases, "a list of phrases")
	if doc.Phrases.Kind == 0 || ok && len(phrases) == 0 {
		fr.Errorf("phrases", "at least one phrase is required")
	}
	seen := make(map[string]bool)
	for _, p := range phrases {
		w := words(p)
		if len(w) == 0 || len(w) > maxPhraseWords {
			fr.Errorf("phrases", "%q must have 1 to %d words", p, maxPhraseWords)
			continue
		}
		for _, v := range variants(w) {
			key := strings.Join(v, " ")
			if seen[key] {
				if slices.Equal(v, w) {
					fr.Errorf("phrases", "%q is listed twice", p)
				}
				continue // the apostrophe-less variant was listed explicitly
			}
			seen[key] = true
			rs.index[v[0]] = append(rs.index[v[0]], phrase{rule: ruleIndex, words: v})
		}
	}
}

func (rs *ruleset) addEscalation(fr *detectors.RuleFields, doc *ruleDoc) {
	r := fr.Rule()
	fr.Absent([]string{"phrases", "unless_after"}, []*yaml.Node{&doc.Phrases, &doc.UnlessAfter},
		"not for kind: "+kindEscalation+" (it counts the matches of the other rules)")
	e := escalation{ID: r.ID, Category: r.Category, Severity: r.Severity, Score: fr.Score(&doc.Score), Shadow: r.Mode == detectors.Shadow}
	if s, ok := fr.Required("min_severity", &doc.MinSeverity, "a severity", "!!str"); ok {
		var err error
		if e.MinSeverity, err = detectors.ParseSeverity(s); err != nil {
			fr.Errorf("min_severity", "%v", err)
		}
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
