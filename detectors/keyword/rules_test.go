package keyword

import (
	"bytes"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

// validFile is a rules file with one phrase rule that loads; escalationFile
// adds an escalation rule. Tests damage copies of them and expect errors at
// these line numbers.
const (
	validFile = `detector: keyword
rules:
  - id: harassment.degrading
    category: harassment
    severity: medium
    description: degrading
    owner: safety-harassment
    score: 0.6
    phrases: [nobody likes you]
    unless_after: [never]
    examples:
      - text: lol nobody likes you
        expect: match
      - text: nobody likes mondays
        expect: no_match
`
	escalationFile = validFile + `  - id: harassment.escalation
    kind: escalation
    category: harassment
    severity: high
    description: repeated
    owner: safety-harassment
    score: 0.9
    min_severity: medium
    messages: 3
    window: 10m
    allowed_lateness: 1h
    max_entries: 100
    examples:
      - conversation: [{from: a, text: nobody likes you}, {from: a, text: nobody likes you}, {from: a, text: nobody likes you}]
        expect: match
      - {text: nobody likes you, expect: no_match}
`
)

// loadErr loads src as the pipeline would, with its examples run, and
// returns the error: from the generic loader (common fields, unknown
// fields, examples) or from the keyword detector (its own fields).
func loadErr(src string) error {
	f := Factory()
	f.Rules = nil
	_, err := detectors.LoadCheckedRules([]detectors.Factory{f}, fstest.MapFS{"test.yaml": {Data: []byte(src)}})
	return err
}

func TestLoadValid(t *testing.T) {
	for _, src := range []string{validFile, escalationFile} {
		if err := loadErr(src); err != nil {
			t.Fatal(err)
		}
	}
	d := newDetector(t, loadRules(t, escalationFile))
	if len(d.rs.rules) != 1 || len(d.rs.escalations) != 1 || d.rs.escalations[0].AllowedLateness.Hours() != 1 {
		t.Fatalf("rules %+v, escalations %+v", d.rs.rules, d.rs.escalations)
	}
}

func TestLoadErrors(t *testing.T) {
	edit := func(src, old, new string) string {
		if !strings.Contains(src, old) {
			t.Fatalf("test bug: %q not in the valid file", old)
		}
		return strings.Replace(src, old, new, 1)
	}
	rule := func(old, new string) string { return edit(validFile, old, new) }
	esc := func(old, new string) string { return edit(escalationFile, old, new) }
	examples := "    examples:\n      - text: lol nobody likes you\n        expect: match\n      - text: nobody likes mondays\n        expect: no_match\n"
	tests := []struct {
		name, src string
		want      []string // substrings of the error
	}{
		// Reported by the generic loader.
		{"unknown field", rule("    phrases:", "    phrase: [x]\n    phrases:"), []string{"test.yaml:9:", "field phrase:", "unknown field"}},
		{"misspelt escalation field", esc("window: 10m", "windw: 10m"), []string{"test.yaml:25:", "field windw:", "unknown field"}},
		{"no examples", rule(examples, ""), []string{"test.yaml:3:", "field examples:"}},
		{"unknown category", rule("category: harassment", "category: bullying"), []string{"test.yaml:4:", "field category:", "bullying"}},
		{"duplicate id", validFile + validFile[len("detector: keyword\nrules:\n"):], []string{"test.yaml:16:", "duplicate id"}},
		{"example that does not match", rule("lol nobody likes you", "nobody likes him"), []string{"test.yaml:12:", "field examples:", "expected a match"}},
		{"no_match example that matches", rule("nobody likes mondays", "ugh NOBODY likes you"), []string{"test.yaml:14:", "expected no match"}},
		// Reported by the keyword detector.
		{"no score", rule("    score: 0.6\n", ""), []string{"test.yaml:3:", "rule harassment.degrading", "field score:", "required"}},
		{"score above one", rule("score: 0.6", "score: 1.5"), []string{"test.yaml:8:", "field score:", "1.5 is not in (0, 1]"}},
		{"zero score", rule("score: 0.6", "score: 0"), []string{"test.yaml:8:", "field score:", "0 is not in"}},
		{"NaN score", rule("score: 0.6", "score: .nan"), []string{"test.yaml:", "NaN"}}, // the loader's content hash rejects it first
		{"mistyped score", rule("score: 0.6", "score: high"), []string{"test.yaml:8:", "field score:", `"high" is not a number`}},
		{"no phrases", rule("    phrases: [nobody likes you]\n", ""), []string{"test.yaml:3:", "field phrases:", "at least one"}},
		{"empty phrases", rule("[nobody likes you]", "[]"), []string{"test.yaml:9:", "field phrases:", "at least one"}},
		{"phrases not a list", rule("[nobody likes you]", "nobody likes you"), []string{"test.yaml:9:", "field phrases:", "not a list"}},
		{"phrase without words", rule("[nobody likes you]", "[nobody likes you, '!!!']"), []string{"test.yaml:9:", `"!!!" must have 1 to 12 words`}},
		{"phrase too long", rule("[nobody likes you]", "[nobody likes you, a b c d e f g h i j k l m]"), []string{"test.yaml:9:", "1 to 12 words"}},
		{"duplicate phrase", rule("[nobody likes you]", "[nobody likes you, Nobody Likes You]"), []string{"test.yaml:9:", "listed twice"}},
		{"unless_after too long", rule("[never]", "[never ever ever ever ever]"), []string{"test.yaml:10:", "field unless_after:", "1 to 4 words"}},
		{"unless_after without words", rule("[never]", "['...']"), []string{"test.yaml:10:", "field unless_after:"}},
		{"no no_match example", rule("      - text: nobody likes mondays\n        expect: no_match\n", ""), []string{"test.yaml:11:", "field examples:", "no_match"}},
		{"escalation field on a phrase rule", rule("    score: 0.6\n", "    score: 0.6\n    window: 10m\n"), []string{"test.yaml:9:", "field window:", "only for kind: escalation"}},
		{"unknown kind", rule("    score: 0.6\n", "    kind: regex\n    score: 0.6\n"), []string{"test.yaml:8:", "field kind:", `"regex"`}},
		{"escalation with phrases", esc("max_entries: 100\n", "max_entries: 100\n    phrases: [x]\n"), []string{"test.yaml:28:", "field phrases:", "not for kind: escalation"}},
		{"escalation without score", esc("    score: 0.9\n", ""), []string{"test.yaml:16:", "field score:", "required"}},
		{"no window", esc("    window: 10m\n", ""), []string{"test.yaml:16:", "field window:", "required"}},
		{"bad window", esc("window: 10m", "window: ten minutes"), []string{"test.yaml:25:", "field window:", "not a duration"}},
		{"window without unit", esc("window: 10m", "window: 600"), []string{"test.yaml:25:", "field window:", `"600" is not a duration`}},
		{"zero window", esc("window: 10m", "window: 0s"), []string{"test.yaml:25:", "field window:", "not between"}},
		{"window over a week", esc("window: 10m", "window: 200h"), []string{"test.yaml:25:", "field window:", "not between"}},
		{"no allowed_lateness", esc("    allowed_lateness: 1h\n", ""), []string{"test.yaml:16:", "field allowed_lateness:", "required"}},
		{"negative allowed_lateness", esc("allowed_lateness: 1h", "allowed_lateness: -1m"), []string{"test.yaml:26:", "field allowed_lateness:"}},
		{"one message", esc("messages: 3", "messages: 1"), []string{"test.yaml:24:", "field messages:", "not between 2 and 100"}},
		{"too many messages", esc("messages: 3", "messages: 101"), []string{"test.yaml:24:", "field messages:"}},
		{"fractional messages", esc("messages: 3", "messages: 3.5"), []string{"test.yaml:24:", "field messages:", "not a whole number"}},
		{"no messages", esc("    messages: 3\n", ""), []string{"test.yaml:16:", "field messages:", "required"}},
		{"no cap", esc("    max_entries: 100\n", ""), []string{"test.yaml:16:", "field max_entries:", "required"}},
		{"zero cap", esc("max_entries: 100", "max_entries: 0"), []string{"test.yaml:27:", "field max_entries:"}},
		{"bad min_severity", esc("min_severity: medium", "min_severity: some"), []string{"test.yaml:23:", "field min_severity:", `"some"`}},
		{"no min_severity", esc("    min_severity: medium\n", ""), []string{"test.yaml:16:", "field min_severity:", "required"}},
		{"every error at once", edit(esc("messages: 3", "messages: 1"), "score: 0.6", "score: 2"), []string{"test.yaml:8:", "field score:", "test.yaml:24:", "field messages:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := loadErr(tt.src)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestNewErrors covers what only New sees: rules handed to it directly.
func TestNewErrors(t *testing.T) {
	rules := loadRules(t, validFile)
	if _, err := New(append(rules, rules...)); err == nil || !strings.Contains(err.Error(), "duplicate id") {
		t.Errorf("New with a rule twice: %v", err)
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		text  string
		words []string
	}{
		{"Hello, World!", []string{"hello", "world"}},
		{"don't DON’T dont", []string{"don't", "don't", "dont"}},
		{"'quoted' rock'n'roll", []string{"quoted", "rock'n'roll"}},
		{"bit.ly/3xYz", []string{"bit", "ly", "3xyz"}},
		{"ÜBER straße ÇA", []string{"über", "straße", "ça"}},
		{"emoji😂between", []string{"emoji", "between"}},
		{"trailing' 'leading", []string{"trailing", "leading"}},
		{"", []string{}},
		{"\xff\xfeinvalid", []string{"invalid"}},
	}
	for _, tt := range tests {
		got := words(tt.text)
		if strings.Join(got, "|") != strings.Join(tt.words, "|") {
			t.Errorf("words(%q) = %q, want %q", tt.text, got, tt.words)
		}
	}
	var s scanner
	s.tokenize("Ça va? KYS")
	if tok := s.tokens[2]; "Ça va? KYS"[tok.start:tok.end] != "KYS" {
		t.Errorf("offsets of the third word: %+v", tok)
	}
}

func TestFactory(t *testing.T) {
	f := Factory()
	if f.Name != "keyword" || f.New == nil || f.Description == "" || f.Rules == nil {
		t.Fatalf("Factory() = %+v", f)
	}
	if _, err := detectors.NewRegistry(f); err != nil {
		t.Fatal(err)
	}
	// RuleFields are exactly the fields ruleDoc decodes.
	var tags []string
	doc := reflect.TypeFor[ruleDoc]()
	for i := range doc.NumField() {
		tags = append(tags, doc.Field(i).Tag.Get("yaml"))
	}
	slices.Sort(tags)
	fields := slices.Sorted(slices.Values(f.RuleFields))
	if !slices.Equal(tags, fields) {
		t.Errorf("RuleFields %v, ruleDoc decodes %v", fields, tags)
	}
	if data, err := fs.ReadFile(f.Rules, "rules.yaml"); err != nil || !bytes.Contains(data, []byte("detector: keyword")) {
		t.Errorf("Rules does not hold rules.yaml: %v", err)
	}
	// Without rules the detector finds nothing.
	empty, err := f.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if found := empty.Inspect(msg("c", "s", t0, "kys, nobody likes you"), nil); len(found) != 0 {
		t.Errorf("a detector without rules found %+v", found)
	}
	rules := builtinRules(t)
	d, err := f.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "keyword" {
		t.Fatalf("Name() = %q", d.Name())
	}
	if _, ok := d.(detectors.Reloader); !ok {
		t.Error("the keyword detector does not implement detectors.Reloader")
	}
	// Instances do not share escalation state.
	esc := escalationRules(t, 1000)
	d1, _ := f.New(esc)
	d2, _ := f.New(esc)
	for k := range 3 {
		d1.Inspect(msg("c", "a", t0.Add(time.Duration(k)*time.Second), "nobody likes you"), nil)
	}
	if n := d1.(*Detector).esc[0].len(); n != 1 {
		t.Fatalf("the first instance has %d entries, want 1", n)
	}
	if n := d2.(*Detector).esc[0].len(); n != 0 {
		t.Fatalf("a second instance sees %d entries of the first", n)
	}
	// A failing New returns a nil interface, not a nil *Detector in one.
	if d, err := f.New(loadRules(t, "detector: keyword\nrules:\n"+strings.Replace(phraseRulesSrc, "score: 0.6", "score: 6", 1))); err == nil || d != nil {
		t.Errorf("New with a bad score = %v, %v; want nil and an error", d, err)
	}
}
