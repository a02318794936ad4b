package keyword

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/detectors"
)

// Rule is one lexicon rule: a finding of Category and Severity is raised on a
// message containing any of Phrases as a whole-word sequence.
type Rule struct {
	ID          string
	Category    detectors.Category
	Severity    detectors.Severity
	Score       float64
	Description string
	Phrases     []string
	// UnlessAfter lists phrases that cancel a match when they come
	// immediately before it ("don't" before "kill yourself").
	UnlessAfter []string
	// Match and NoMatch are the rule's examples: texts that must and must
	// not raise this rule. They are checked when the rules are loaded.
	Match, NoMatch []string
}

// Escalation configures the stateful rule: a finding is raised when one
// sender's messages in one conversation have matched rules of Category with
// at least MinSeverity in Messages messages within Window of event time.
type Escalation struct {
	ID          string
	Category    detectors.Category
	Severity    detectors.Severity
	Score       float64
	Description string
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
}

// Ruleset is a parsed, validated and indexed rules file. It is immutable and
// may be shared by any number of detector instances.
type Ruleset struct {
	rules      []Rule
	escalation *Escalation
	index      map[string][]phrase // first word → phrases starting with it, longest first
	unless     [][][]string        // per rule, the word sequences of UnlessAfter
}

// phrase is one indexed phrase: the rule it belongs to and its words.
type phrase struct {
	rule  int
	words []string
}

// Rules returns a copy of the rules, in file order.
func (rs *Ruleset) Rules() []Rule { return slices.Clone(rs.rules) }

// Escalation returns the escalation rule, or false when the file has none.
func (rs *Ruleset) Escalation() (Escalation, bool) {
	if rs.escalation == nil {
		return Escalation{}, false
	}
	return *rs.escalation, true
}

// The YAML documents. Every field is a pointer or slice so that a missing
// field can be told from a zero one; KnownFields rejects unknown ones.
type fileDoc struct {
	Version    int            `yaml:"version"`
	Escalation *escalationDoc `yaml:"escalation"`
	Rules      []ruleDoc      `yaml:"rules"`
}

type ruleDoc struct {
	ID          string       `yaml:"id"`
	Category    string       `yaml:"category"`
	Severity    string       `yaml:"severity"`
	Score       *float64     `yaml:"score"`
	Description string       `yaml:"description"`
	Phrases     []string     `yaml:"phrases"`
	UnlessAfter []string     `yaml:"unless_after"`
	Examples    *examplesDoc `yaml:"examples"`
}

type examplesDoc struct {
	Match   []string `yaml:"match"`
	NoMatch []string `yaml:"no_match"`
}

type escalationDoc struct {
	ID          string   `yaml:"id"`
	Category    string   `yaml:"category"`
	Severity    string   `yaml:"severity"`
	Score       *float64 `yaml:"score"`
	Description string   `yaml:"description"`
	MinSeverity string   `yaml:"min_severity"`
	Messages    int      `yaml:"messages"`
	Window      string   `yaml:"window"`
	Lateness    string   `yaml:"allowed_lateness"`
	MaxEntries  int      `yaml:"max_entries"`
}

// FileVersion is the rules file format version this package reads.
const FileVersion = 1

// Limits on a rules file, so that a bad edit cannot make matching slow.
const (
	maxPhraseWords = 12
	maxUnlessWords = 4
)

var ruleID = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// Parse reads a rules file. name is used in error messages (normally the
// file name). It rejects unknown fields, rules without examples, and rules
// whose examples do not behave as stated.
func Parse(name string, data []byte) (*Ruleset, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var doc fileDoc
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty rules file", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: more than one YAML document", name)
	}
	if doc.Version != FileVersion {
		return nil, fmt.Errorf("%s: version: %d is not supported (want %d)", name, doc.Version, FileVersion)
	}
	if len(doc.Rules) == 0 {
		return nil, fmt.Errorf("%s: rules: at least one rule is required", name)
	}

	rs := &Ruleset{index: make(map[string][]phrase)}
	ids := make(map[string]bool)
	for i, rd := range doc.Rules {
		r, err := parseRule(rd)
		if err != nil {
			return nil, fmt.Errorf("%s: rules[%d] (id %q): %w", name, i, rd.ID, err)
		}
		if ids[r.ID] {
			return nil, fmt.Errorf("%s: rules[%d]: id %q is used twice", name, i, r.ID)
		}
		ids[r.ID] = true
		unless := make([][]string, 0, len(r.UnlessAfter))
		for _, u := range r.UnlessAfter {
			w := words(u)
			if len(w) == 0 || len(w) > maxUnlessWords {
				return nil, fmt.Errorf("%s: rules[%d] (id %q): unless_after: %q must have 1 to %d words", name, i, r.ID, u, maxUnlessWords)
			}
			unless = append(unless, variants(w)...)
		}
		rs.unless = append(rs.unless, unless)
		seen := make(map[string]bool)
		for _, p := range r.Phrases {
			w := words(p)
			if len(w) == 0 || len(w) > maxPhraseWords {
				return nil, fmt.Errorf("%s: rules[%d] (id %q): phrases: %q must have 1 to %d words", name, i, r.ID, p, maxPhraseWords)
			}
			for _, v := range variants(w) {
				key := strings.Join(v, " ")
				if seen[key] {
					if slices.Equal(v, w) {
						return nil, fmt.Errorf("%s: rules[%d] (id %q): phrases: %q is listed twice", name, i, r.ID, p)
					}
					continue // the apostrophe-less variant was listed explicitly
				}
				seen[key] = true
				rs.index[v[0]] = append(rs.index[v[0]], phrase{rule: len(rs.rules), words: v})
			}
		}
		rs.rules = append(rs.rules, r)
	}
	for _, ps := range rs.index {
		// Longest first, so that the reported span is the most specific
		// phrase starting at a word; stable, so file order breaks ties.
		slices.SortStableFunc(ps, func(a, b phrase) int { return len(b.words) - len(a.words) })
	}
	if doc.Escalation != nil {
		e, err := parseEscalation(*doc.Escalation)
		if err != nil {
			return nil, fmt.Errorf("%s: escalation: %w", name, err)
		}
		if ids[e.ID] {
			return nil, fmt.Errorf("%s: escalation: id %q is also a rule id", name, e.ID)
		}
		rs.escalation = &e
	}
	if err := rs.checkExamples(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rs, nil
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

func parseRule(d ruleDoc) (Rule, error) {
	r := Rule{ID: d.ID, Description: strings.TrimSpace(d.Description), Phrases: d.Phrases, UnlessAfter: d.UnlessAfter}
	if !ruleID.MatchString(d.ID) {
		return r, fmt.Errorf("id: %q must be dotted lower-case words (e.g. grooming.secrecy)", d.ID)
	}
	var err error
	if r.Category, r.Severity, r.Score, err = parseCommon(d.Category, d.Severity, d.Score); err != nil {
		return r, err
	}
	if r.Description == "" {
		return r, errors.New("description: required")
	}
	if len(d.Phrases) == 0 {
		return r, errors.New("phrases: at least one phrase is required")
	}
	if d.Examples == nil {
		return r, errors.New("examples: required (match and no_match)")
	}
	if len(d.Examples.Match) == 0 {
		return r, errors.New("examples.match: at least one example is required")
	}
	if len(d.Examples.NoMatch) == 0 {
		return r, errors.New("examples.no_match: at least one example is required")
	}
	r.Match, r.NoMatch = d.Examples.Match, d.Examples.NoMatch
	return r, nil
}

func parseCommon(category, severity string, score *float64) (detectors.Category, detectors.Severity, float64, error) {
	c, err := detectors.ParseCategory(category)
	if err != nil {
		return "", "", 0, fmt.Errorf("category: %w", err)
	}
	s, err := detectors.ParseSeverity(severity)
	if err != nil {
		return "", "", 0, fmt.Errorf("severity: %w", err)
	}
	if score == nil {
		return "", "", 0, errors.New("score: required")
	}
	if !(*score > 0 && *score <= 1) {
		return "", "", 0, fmt.Errorf("score: %g is not in (0, 1]", *score)
	}
	return c, s, *score, nil
}

func parseEscalation(d escalationDoc) (Escalation, error) {
	e := Escalation{ID: d.ID, Description: strings.TrimSpace(d.Description), Messages: d.Messages, MaxEntries: d.MaxEntries}
	if !ruleID.MatchString(d.ID) {
		return e, fmt.Errorf("id: %q must be dotted lower-case words", d.ID)
	}
	var err error
	if e.Category, e.Severity, e.Score, err = parseCommon(d.Category, d.Severity, d.Score); err != nil {
		return e, err
	}
	if e.Description == "" {
		return e, errors.New("description: required")
	}
	if e.MinSeverity, err = detectors.ParseSeverity(d.MinSeverity); err != nil {
		return e, fmt.Errorf("min_severity: %w", err)
	}
	if e.Messages < 2 || e.Messages > 100 {
		return e, fmt.Errorf("messages: %d is not between 2 and 100", e.Messages)
	}
	if e.Window, err = time.ParseDuration(d.Window); err != nil {
		return e, fmt.Errorf("window: %w", err)
	}
	if e.Window <= 0 || e.Window > 7*24*time.Hour {
		return e, fmt.Errorf("window: %s is not between 0 and 168h", e.Window)
	}
	if e.AllowedLateness, err = time.ParseDuration(d.Lateness); err != nil {
		return e, fmt.Errorf("allowed_lateness: %w", err)
	}
	if e.AllowedLateness < 0 || e.AllowedLateness > 7*24*time.Hour {
		return e, fmt.Errorf("allowed_lateness: %s is not between 0 and 168h", e.AllowedLateness)
	}
	if e.MaxEntries < 1 || e.MaxEntries > 10_000_000 {
		return e, fmt.Errorf("max_entries: %d is not between 1 and 10000000", e.MaxEntries)
	}
	return e, nil
}

// checkExamples runs every rule's examples through the matcher: each match
// example must raise the rule and no no_match example may.
func (rs *Ruleset) checkExamples() error {
	m := newMatcher(rs)
	for i, r := range rs.rules {
		for j, ex := range r.Match {
			if !slices.ContainsFunc(m.match(ex), func(h hit) bool { return h.rule == i }) {
				return fmt.Errorf("rule %q: examples.match[%d] %q does not match", r.ID, j, ex)
			}
		}
		for j, ex := range r.NoMatch {
			if slices.ContainsFunc(m.match(ex), func(h hit) bool { return h.rule == i }) {
				return fmt.Errorf("rule %q: examples.no_match[%d] %q matches", r.ID, j, ex)
			}
		}
	}
	return nil
}
