package harassment_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/harassment"
)

// validFile has a terms rule and an escalation rule that load; the tests
// damage copies of it and expect errors at these line numbers.
const validFile = `detector: harassment
rules:
  - id: harassment.insult
    category: harassment
    severity: medium
    description: insults
    owner: safety-harassment
    score: 0.6
    target: second_person
    banter: low
    terms: [loser, idiot]
    unless_before: [[not, never], "don't"]
    low_after: [at this game]
    examples:
      - text: you loser
        expect: match
      - text: the loser pays
        expect: no_match
  - id: harassment.escalation
    kind: escalation
    category: harassment
    severity: high
    description: repeated
    owner: safety-harassment
    score: 0.9
    min_severity: medium
    messages: 3
    window: 10m
    stop_requests: [leave me alone]
    stop_window: 1h
    allowed_lateness: 1h
    max_entries: 100
    examples:
      - conversation: [{from: a, text: you loser}, {from: a, text: you loser}, {from: a, text: you loser}]
        expect: match
      - {text: you loser, expect: no_match}
`

// loadErr loads src as the pipeline would, examples run, and returns the
// error: from the generic loader (common fields, unknown fields, examples)
// or from the detector (its own fields).
func loadErr(src string) error {
	f := harassment.Factory()
	f.Rules = nil
	_, err := detectors.LoadCheckedRules([]detectors.Factory{f}, fstest.MapFS{"test.yaml": {Data: []byte(src)}})
	return err
}

func TestLoadValid(t *testing.T) {
	if err := loadErr(validFile); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(validFile, old) {
			t.Fatalf("test bug: %q not in the valid file", old)
		}
		return strings.Replace(validFile, old, new, 1)
	}
	tests := []struct {
		name, src string
		want      []string // substrings of the error
	}{
		{"unknown field", edit("    terms:", "    term: [x]\n    terms:"), []string{"test.yaml:11:", "field term:", "unknown field"}},
		{"no score", edit("    score: 0.6\n", ""), []string{"test.yaml:3:", "field score:", "required"}},
		{"score above one", edit("score: 0.6", "score: 2"), []string{"test.yaml:8:", "field score:", "not in (0, 1]"}},
		{"bad target", edit("target: second_person", "target: third_person"), []string{"test.yaml:9:", "field target:", `"third_person"`}},
		{"untargeted without target", edit("    target: second_person\n", "    untargeted: low\n"), []string{"field untargeted:", "only with target"}},
		{"untargeted above severity", edit("    banter: low\n", "    banter: low\n    untargeted: high\n"), []string{"field untargeted:", "above the rule's severity"}},
		{"banter above severity", edit("banter: low", "banter: critical"), []string{"test.yaml:10:", "field banter:", "above"}},
		{"bad severity", edit("banter: low", "banter: lowish"), []string{"test.yaml:10:", "field banter:", `"lowish"`}},
		{"no terms", edit("    terms: [loser, idiot]\n", ""), []string{"field terms:", "at least one"}},
		{"empty terms", edit("[loser, idiot]", "[]"), []string{"test.yaml:11:", "field terms:", "at least one"}},
		{"duplicate term", edit("[loser, idiot]", "[loser, L0SER]"), []string{"test.yaml:11:", "field terms:", "listed twice"}},
		{"masked term", edit("[loser, idiot]", "[loser, 'f*ck']"), []string{"test.yaml:11:", "masking character"}},
		{"term without words", edit("[loser, idiot]", "[loser, '!!!']"), []string{"test.yaml:11:", `"!!!" must have 1 to 12 words`}},
		{"cue too long", edit("[at this game]", "[one two three four five six seven eight nine]"), []string{"test.yaml:13:", "field low_after:", "1 to 8 words"}},
		{"cue list of mappings", edit(`[[not, never], "don't"]`, "[{a: b}]"), []string{"test.yaml:12:", "field unless_before:", "not a list of phrases"}},
		{"cue_window", edit("    banter: low\n", "    banter: low\n    cue_window: 20\n"), []string{"field cue_window:", "not between 1 and 8"}},
		{"requires", edit("    banter: low\n", "    banter: low\n    requires: [phone, fax]\n"), []string{"field requires:", `"fax"`}},
		{"unknown kind", edit("kind: escalation", "kind: regex"), []string{"field kind:", `"regex"`}},
		{"escalation field on a terms rule", edit("    banter: low\n", "    banter: low\n    window: 10m\n"), []string{"field window:", "only for kind: escalation"}},
		{"terms on an escalation", edit("    max_entries: 100\n", "    max_entries: 100\n    terms: [x]\n"), []string{"field terms:", "not for kind: escalation"}},
		{"no window", edit("    window: 10m\n", ""), []string{"field window:", "required"}},
		{"bad window", edit("window: 10m", "window: ten"), []string{"test.yaml:28:", "field window:", "not a duration"}},
		{"one message", edit("messages: 3", "messages: 1"), []string{"test.yaml:27:", "field messages:", "not between 2 and 100"}},
		{"no cap", edit("    max_entries: 100\n", ""), []string{"field max_entries:", "required"}},
		{"stop window without stops", edit("    stop_requests: [leave me alone]\n", ""), []string{"field stop_window:", "only with stop_requests"}},
		{"stops without window", edit("    stop_window: 1h\n", ""), []string{"field stop_window:", "required"}},
		{"nothing counted", src(edit("    min_severity: medium\n    messages: 3\n", "    messages: 3\n")).
			replace("    stop_requests: [leave me alone]\n    stop_window: 1h\n", ""), []string{"field min_severity:", "counts something"}},
		{"unanswered too small", edit("    max_entries: 100\n", "    max_entries: 100\n    unanswered: 1\n"), []string{"field unanswered:", "not between 2"}},
		{"no no_match example", edit("      - text: the loser pays\n        expect: no_match\n", ""), []string{"field examples:", "no_match"}},
		{"example that does not match", edit("      - text: you loser\n", "      - text: hello there\n"), []string{"test.yaml:15:", "expected a match"}},
		{"every error at once", src(edit("score: 0.6", "score: 2")).replace("messages: 3", "messages: 1"), []string{"field score:", "field messages:"}},
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

// replace is strings.Replace once, as a method for the table above.
type src string

func (s src) replace(old, new string) string { return strings.Replace(string(s), old, new, 1) }

// TestFactory checks the registry entry: the fields it declares are the
// ones it reads, its embedded rules are there, and New without rules finds
// nothing.
func TestFactory(t *testing.T) {
	f := harassment.Factory()
	if f.Name != "harassment" || f.Rules == nil || f.New == nil {
		t.Fatalf("factory %+v", f)
	}
	for _, field := range []string{"terms", "target", "untargeted", "banter", "unless_before", "unless_after", "low_before", "low_after", "requires", "stop_requests", "stop_messages", "unanswered"} {
		if !slices.Contains(f.RuleFields, field) {
			t.Errorf("RuleFields lacks %s", field)
		}
	}
	d, err := f.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "harassment" {
		t.Errorf("Name() = %q", d.Name())
	}
	if _, ok := d.(detectors.Reloader); !ok {
		t.Error("not a detectors.Reloader")
	}
	if found := d.Inspect(one("kys, you loser"), nil); len(found) != 0 {
		t.Errorf("a detector without rules found %+v", found)
	}
	// A failing New returns a nil interface, not a nil *Detector in one.
	bad := strings.Replace(validFile, "score: 0.6", "score: 6", 1)
	g := harassment.Factory()
	g.Rules = nil
	set, err := detectors.LoadRules([]detectors.Factory{g}, fstest.MapFS{"t.yaml": {Data: []byte(bad)}})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := g.New(set.For(harassment.Name)); err == nil || d != nil {
		t.Errorf("New with a bad score = %v, %v; want nil and an error", d, err)
	}
}
