package detectors_test

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// wordDetector is the fake detector of these tests: each rule has a
// detector-specific field `word`, and fires on messages containing it.
type wordDetector struct{ rules []wordRule }

type wordRule struct {
	id       string
	category detectors.Category
	severity detectors.Severity
	word     string
}

func newWordDetector(rules []*detectors.Rule) (detectors.Detector, error) {
	d := &wordDetector{}
	var errs []error
	for _, r := range rules {
		var f struct {
			Word string `yaml:"word"`
		}
		if err := r.Decode(&f); err != nil {
			errs = append(errs, err)
			continue
		}
		if f.Word == "" {
			errs = append(errs, r.Errorf("word", "required"))
			continue
		}
		d.rules = append(d.rules, wordRule{r.ID, r.Category, r.Severity, strings.ToLower(f.Word)})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return d, nil
}

func (*wordDetector) Name() string { return "word" }

func (d *wordDetector) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	text := strings.ToLower(m.Text)
	for _, r := range d.rules {
		if i := strings.Index(text, r.word); i >= 0 {
			out = append(out, detectors.Finding{Rule: r.id, Category: r.category, Severity: r.severity, Score: 0.5, Start: i, End: i + len(r.word)})
		}
	}
	return out
}

// wordFactory is the fake detector's factory; builtin, which may be nil,
// holds its built-in rule files.
func wordFactory(builtin fs.FS) detectors.Factory {
	return detectors.Factory{Name: "word", Description: "test", RuleFields: []string{"word"}, Rules: builtin, New: newWordDetector}
}

// helloRule is a valid rule of the fake detector, on lines 3 to 13 of
// helloFile. Tests damage copies of it.
const (
	helloRule = `  - id: spam.hello
    category: spam
    severity: medium
    description: says hello
    owner: test
    word: hello
    examples:
      - text: well hello there
        expect: match
      - text: goodbye
        expect: no_match
`
	helloFile = "detector: word\nrules:\n" + helloRule
)

func files(kv ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}

func TestLoadRulesErrors(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(helloFile, old) {
			t.Fatalf("test bug: %q not in the valid file", old)
		}
		return strings.Replace(helloFile, old, new, 1)
	}
	examples := "    examples:\n      - text: well hello there\n        expect: match\n      - text: goodbye\n        expect: no_match\n"
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []string // substrings of the error; none: it loads
	}{
		{"valid", files("r.yaml", helloFile), nil},
		{"valid in a sub-directory, .yml", files("team/r.yml", helloFile), nil},
		{"other extensions are not rule files", files("r.yaml", helloFile, "README.md", "not: [yaml"), nil},
		{"rule without examples", files("r.yaml", edit(examples, "")), []string{"r.yaml:3:", "rule spam.hello", "field examples:", "required"}},
		{"no example that matches", files("r.yaml", edit("      - text: well hello there\n        expect: match\n", "")), []string{"r.yaml:9:", "field examples:", "no example with expect: match"}},
		{"unknown field", files("r.yaml", edit("    word: hello", "    wrod: hello")), []string{"r.yaml:8:", "rule spam.hello", "field wrod:", "unknown field", "word"}},
		{"unknown top-level field", files("r.yaml", "version: 1\n"+helloFile), []string{"r.yaml:1:", "field version:", "unknown field"}},
		{"unknown example field", files("r.yaml", edit("        expect: no_match", "        expect: no_match\n        note: x")), []string{"r.yaml:12:", "field examples.note:"}},
		{"bad category", files("r.yaml", edit("category: spam", "category: fraud")), []string{"r.yaml:4:", "field category:", "fraud"}},
		{"bad severity", files("r.yaml", edit("severity: medium", "severity: urgent")), []string{"r.yaml:5:", "field severity:", "urgent"}},
		{"bad mode", files("r.yaml", edit("    owner: test\n", "    owner: test\n    mode: dark\n")), []string{"r.yaml:8:", "field mode:", "dark"}},
		{"bad id", files("r.yaml", edit("id: spam.hello", "id: Spam Hello")), []string{"r.yaml:3:", "field id:", "Spam Hello"}},
		{"bad replaces", files("r.yaml", edit("    owner: test\n", "    owner: test\n    replaces: Old Rule\n")), []string{"r.yaml:8:", "field replaces:"}},
		{"no description", files("r.yaml", edit("    description: says hello\n", "")), []string{"r.yaml:3:", "field description:", "required"}},
		{"no owner", files("r.yaml", edit("    owner: test\n", "")), []string{"r.yaml:3:", "field owner:", "required"}},
		{"field given twice", files("r.yaml", edit("    owner: test\n", "    owner: test\n    owner: other\n")), []string{"r.yaml:"}},
		{"duplicate id in one file", files("r.yaml", helloFile+helloRule), []string{"r.yaml:14:", "field id:", "duplicate id (also at r.yaml:3)"}},
		{"duplicate id in one layer", files("a.yaml", helloFile, "b.yaml", helloFile), []string{"b.yaml:3:", "duplicate id (also at a.yaml:3)"}},
		{"no detector", files("r.yaml", strings.TrimPrefix(helloFile, "detector: word\n")), []string{"r.yaml:", "field detector:", "missing"}},
		{"unknown detector", files("r.yaml", edit("detector: word", "detector: nope")), []string{"r.yaml:1:", "field detector:", `"nope"`}},
		{"not yaml", files("r.yaml", "detector: word\nrules: [\n"), []string{"r.yaml:"}},
		{"bad expect", files("r.yaml", edit("expect: no_match", "expect: maybe")), []string{"r.yaml:12:", "field examples.expect:", "maybe"}},
		{"text and conversation", files("r.yaml", edit("      - text: goodbye\n", "      - text: goodbye\n        conversation: [{from: a, text: x}]\n")), []string{"r.yaml:12:", "not both"}},
		{"bad after", files("r.yaml", edit("      - text: goodbye\n", "      - conversation: [{from: a, text: goodbye, after: soon}]\n")), []string{"r.yaml:12:", "field examples.conversation.after:", "soon"}},
		{"detector's own field check", files("r.yaml", edit("word: hello", `word: ""`)), []string{"r.yaml:8:", "rule spam.hello", "field word:", "required"}},
		{"failing match example", files("r.yaml", edit("well hello there", "well hi there")), []string{"r.yaml:10:", "rule spam.hello", "field examples:", "expected a match", "well hi there"}},
		{"failing no_match example", files("r.yaml", edit("text: goodbye", "text: hello and goodbye")), []string{"r.yaml:12:", "field examples:", "expected no match"}},
		{"example severity", files("r.yaml", edit("        expect: match\n", "        expect: match\n        severity: high\n")), []string{"r.yaml:10:", "expected severity high, got medium"}},
		{"every error at once", files("r.yaml", edit("category: spam", "category: fraud"), "s.yaml", edit("severity: medium", "severity: urgent")), []string{"r.yaml:4:", "s.yaml:5:"}},
	}
	factories := []detectors.Factory{wordFactory(nil)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := detectors.LoadCheckedRules(factories, tt.files)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := set.Lookup("word", "spam.hello"); !ok {
					t.Fatal("spam.hello not loaded")
				}
				return
			}
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

// TestLoadRulesLayers loads built-in rules and a rules directory over them.
func TestLoadRulesLayers(t *testing.T) {
	bye := strings.NewReplacer("spam.hello", "spam.bye", "word: hello", "word: bye", "says hello", "says bye",
		"well hello there", "bye now", "text: goodbye", "text: hello").Replace(helloRule)
	builtin := files("word.yaml", helloFile+bye)
	override := files("local/override.yaml", "detector: word\nrules:\n"+
		// spam.hello replaced: another word, in shadow.
		strings.NewReplacer("word: hello", "word: howdy", "well hello there", "howdy partner", "    owner: test\n", "    owner: test\n    mode: shadow\n").Replace(helloRule)+
		// spam.bye switched off.
		strings.Replace(bye, "    owner: test\n", "    owner: test\n    mode: off\n", 1)+
		// a new rule.
		strings.NewReplacer("spam.hello", "spam.new", "word: hello", "word: fresh", "well hello there", "fresh deal").Replace(helloRule))
	factories := []detectors.Factory{wordFactory(builtin)}

	base, err := detectors.LoadCheckedRules(factories, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := detectors.LoadCheckedRules(factories, override)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(rules []*detectors.Rule) (out []string) {
		for _, r := range rules {
			out = append(out, r.ID+"/"+string(r.Mode))
		}
		return out
	}
	if got, want := ids(base.All()), []string{"spam.hello/live", "spam.bye/live"}; !slices.Equal(got, want) {
		t.Errorf("built-in rules %v, want %v", got, want)
	}
	// A replaced rule keeps its place; a new one comes after.
	if got, want := ids(set.All()), []string{"spam.hello/shadow", "spam.bye/off", "spam.new/live"}; !slices.Equal(got, want) {
		t.Errorf("rules %v, want %v", got, want)
	}
	if got, want := ids(set.For("word")), []string{"spam.hello/shadow", "spam.new/live"}; !slices.Equal(got, want) {
		t.Errorf("running rules %v, want %v (off rules do not run)", got, want)
	}
	r, ok := set.Lookup("word", "spam.hello")
	if !ok || r.Source.File != "local/override.yaml" || r.Source.Line != 3 {
		t.Errorf("spam.hello from %v, want local/override.yaml:3", r.Source)
	}
	old, _ := base.Lookup("word", "spam.hello")
	if r.Version == old.Version || set.Version() == base.Version() {
		t.Error("overriding a rule changed neither its version nor the set's")
	}

	flagged := func(set *detectors.RuleSet, text string) (out []string) {
		e, err := detectors.NewEngine(factories, set, detectors.EngineOptions{Clock: detectors.EventTime})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range e.Inspect(message(text), nil, nil) {
			out = append(out, f.Rule+"/"+string(f.Mode)+"/"+f.Evidence)
		}
		return out
	}
	if got, want := flagged(base, "hello, bye"), []string{"spam.hello/live/hello, bye", "spam.bye/live/hello, bye"}; !slices.Equal(got, want) {
		t.Errorf("built-in rules flag %v, want %v", got, want)
	}
	if got, want := flagged(set, "hello, bye, howdy, fresh"), []string{"spam.hello/shadow/hello, bye, howdy, fresh", "spam.new/live/hello, bye, howdy, fresh"}; !slices.Equal(got, want) {
		t.Errorf("overridden rules flag %v, want %v", got, want)
	}
	if got := flagged(set, "hello, bye"); len(got) != 0 {
		t.Errorf("the replaced and the switched-off rule still flag: %v", got)
	}
}

// TestRuleVersion: a rule's version hashes its content, not its formatting.
func TestRuleVersion(t *testing.T) {
	load := func(rule string) (*detectors.Rule, string) {
		t.Helper()
		set, err := detectors.LoadRules([]detectors.Factory{wordFactory(nil)}, files("r.yaml", "detector: word\nrules:\n"+rule))
		if err != nil {
			t.Fatal(err)
		}
		r, ok := set.Lookup("word", "spam.hello")
		if !ok {
			t.Fatal("spam.hello not loaded")
		}
		return r, set.Version()
	}
	base, baseSet := load(helloRule)
	if len(base.Version) != 16 || strings.Trim(base.Version, "0123456789abcdef") != "" {
		t.Fatalf("version %q is not 16 hex characters", base.Version)
	}
	same := map[string]string{
		"comments": "  # a comment\n" + strings.Replace(helloRule, "word: hello", "word: hello # the word", 1),
		"key order": `  - owner: test
    word: hello
    description: says hello
    examples:
      - expect: match
        text: well hello there
      - {expect: no_match, text: goodbye}
    severity: medium
    category: spam
    id: spam.hello
`,
		"quoting": strings.NewReplacer("word: hello", `word: "hello"`, "text: goodbye", "text: 'goodbye'").Replace(helloRule),
	}
	for name, rule := range same {
		if r, v := load(rule); r.Version != base.Version || v != baseSet {
			t.Errorf("%s: version %s (set %s), want %s (set %s)", name, r.Version, v, base.Version, baseSet)
		}
	}
	different := map[string]string{
		"word":        strings.Replace(helloRule, "word: hello", "word: hello there", 1),
		"description": strings.Replace(helloRule, "says hello", "says hello!", 1),
		"severity":    strings.Replace(helloRule, "severity: medium", "severity: high", 1),
		"example":     strings.Replace(helloRule, "text: goodbye", "text: good night", 1),
		"mode":        strings.Replace(helloRule, "    owner: test\n", "    owner: test\n    mode: shadow\n", 1),
	}
	for name, rule := range different {
		if r, v := load(rule); r.Version == base.Version || v == baseSet {
			t.Errorf("%s changed: version %s (set %s) unchanged", name, r.Version, v)
		}
	}
}

// inlineDetector reports one finding for a rule it defines in code, with its
// own version and mode.
type inlineDetector struct{}

func (inlineDetector) Name() string { return "inline" }
func (inlineDetector) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	return append(out, detectors.Finding{Rule: "inline.rule", RuleVersion: "v1", Mode: detectors.Shadow, Category: detectors.Spam, Severity: detectors.Low})
}

// TestEngineFillsRuleVersionAndMode: the engine stamps each flag with the
// version and mode of the rule in the rule set; a detector's own rules keep
// theirs.
func TestEngineFillsRuleVersionAndMode(t *testing.T) {
	shadow := strings.NewReplacer("spam.hello", "spam.hi", "word: hello", "word: hi", "well hello there", "oh hi", "    owner: test\n", "    owner: test\n    mode: shadow\n").Replace(helloRule)
	factories := []detectors.Factory{
		wordFactory(nil),
		{Name: "inline", New: func([]*detectors.Rule) (detectors.Detector, error) { return inlineDetector{}, nil }},
	}
	set, err := detectors.LoadCheckedRules(factories, files("r.yaml", helloFile+shadow))
	if err != nil {
		t.Fatal(err)
	}
	e, err := detectors.NewEngine(factories, set, detectors.EngineOptions{Clock: detectors.EventTime})
	if err != nil {
		t.Fatal(err)
	}
	flags := e.Inspect(message("hello, hi"), nil, nil)
	want := map[string]struct {
		version string
		mode    detectors.Mode
	}{"inline.rule": {"v1", detectors.Shadow}}
	for _, id := range []string{"spam.hello", "spam.hi"} {
		r, _ := set.Lookup("word", id)
		want[id] = struct {
			version string
			mode    detectors.Mode
		}{r.Version, r.Mode}
	}
	if want["spam.hello"].mode != detectors.Live || want["spam.hi"].mode != detectors.Shadow {
		t.Fatalf("test bug: modes %v", want)
	}
	if len(flags) != len(want) {
		t.Fatalf("%d flags, want %d: %+v", len(flags), len(want), flags)
	}
	for _, f := range flags {
		if w := want[f.Rule]; f.RuleVersion != w.version || f.Mode != w.mode {
			t.Errorf("flag of %s: version %q mode %q, want %q %q", f.Rule, f.RuleVersion, f.Mode, w.version, w.mode)
		}
	}
}

func message(text string) *event.Message {
	return &event.Message{
		MessageID: "m1", ConversationID: "c1", SentAt: time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC),
		Sender: event.Participant{ID: "u1"}, Recipients: []event.Participant{{ID: "u2"}}, Text: text,
	}
}

// A bare `id` + `mode: off` entry switches a rule of an earlier layer off;
// one naming no earlier rule is an error.
func TestBareOffSwitch(t *testing.T) {
	factories := []detectors.Factory{wordFactory(files("word.yaml", helloFile))}
	set, err := detectors.LoadCheckedRules(factories, files("off.yaml", "detector: word\nrules:\n  - id: spam.hello\n    mode: off\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := set.Lookup("word", "spam.hello")
	if !ok || r.Mode != detectors.Off || r.Category != detectors.Spam || r.Source.File != "off.yaml" {
		t.Errorf("after the switch: %+v, want the built-in rule, off, sourced from off.yaml", r)
	}
	if len(set.For("word")) != 0 {
		t.Error("a switched-off rule still runs")
	}
	_, err = detectors.LoadRules(factories, files("off.yaml", "detector: word\nrules:\n  - id: spam.nosuch\n    mode: off\n"))
	if err == nil || !strings.Contains(err.Error(), "off.yaml:3: rule spam.nosuch: field mode: switches off a rule that no earlier layer defines") {
		t.Errorf("switching off an unknown rule: %v", err)
	}
}
