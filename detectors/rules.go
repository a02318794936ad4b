package detectors

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Rule files: the one rule format of every detector.
//
// A rule file is YAML:
//
//	detector: keyword          # which detector reads these rules
//	rules:
//	  - id: harassment.threat  # dotted lower-case, unique per detector
//	    category: harassment   # grooming | harassment | spam
//	    severity: high         # low | medium | high | critical
//	    description: Threats of violence against the recipient.
//	    owner: safety-harassment
//	    mode: live             # live | shadow | off (default live)
//	    replaces: harassment.threat_v1   # optional: the rule a shadow rule would replace
//	    phrases: [...]         # detector-specific fields
//	    examples:
//	      - text: "I will hurt you"
//	        expect: match
//	      - conversation:
//	          - {from: a, age: 34, text: "hi"}
//	          - {from: b, age: 13, text: "hey", after: 2m}
//	        expect: no_match
//
// A rule's version is a hash of its content (comments and key order do not
// count), stored in every flag it raises. See docs/rules.md.

// RuleFields are the fields every rule has; a detector declares the others
// in Factory.RuleFields.
var ruleCommonFields = []string{"id", "category", "severity", "description", "owner", "mode", "replaces", "examples"}

// Rule is one loaded, validated rule. Its detector-specific fields are
// decoded by the detector with Decode.
type Rule struct {
	Detector    string
	ID          string
	Category    Category
	Severity    Severity
	Description string
	Owner       string
	Mode        Mode
	Replaces    string
	Version     string // 16 hex characters of SHA-256 over the rule's content
	Examples    []Example
	Source      Source

	node *yaml.Node
}

// Source locates a rule, field or example in a rule file.
type Source struct {
	File string
	Line int
}

func (s Source) String() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// Example is a message, or a short conversation, with the expected outcome
// for its rule.
type Example struct {
	Messages []ExampleMessage
	Match    bool     // the rule must fire on some message (else on none)
	Severity Severity // when set, the expected severity of a match
	Source   Source
}

// ExampleMessage is one message of an example conversation.
type ExampleMessage struct {
	From  string        `yaml:"from"`
	Age   *int          `yaml:"age"`
	Text  string        `yaml:"text"`
	After time.Duration `yaml:"-"` // since the previous message (default 1m)
}

// RuleError is a rule file problem, located to the line and named field.
type RuleError struct {
	Source Source
	Rule   string // rule id, when known
	Field  string // field name, when known
	Msg    string
}

func (e *RuleError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source.String())
	if e.Rule != "" {
		fmt.Fprintf(&b, ": rule %s", e.Rule)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Decode decodes the rule's detector-specific fields into v, a pointer to a
// struct with yaml tags. Errors name the file, line and field.
func (r *Rule) Decode(v any) error {
	if r.node == nil {
		return nil
	}
	if err := r.node.Decode(v); err != nil {
		return &RuleError{Source: r.Source, Rule: r.ID, Msg: err.Error()}
	}
	return nil
}

// FieldLine returns the line of a field of the rule, or the rule's line.
func (r *Rule) FieldLine(field string) Source {
	if r.node != nil {
		for i := 0; i+1 < len(r.node.Content); i += 2 {
			if r.node.Content[i].Value == field {
				return Source{r.Source.File, r.node.Content[i].Line}
			}
		}
	}
	return r.Source
}

// Errorf returns a RuleError for a field of the rule, for detectors that
// validate their own fields.
func (r *Rule) Errorf(field, format string, args ...any) error {
	return &RuleError{Source: r.FieldLine(field), Rule: r.ID, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// RuleSet is an immutable snapshot of every loaded rule. Reloading builds a
// new RuleSet; a running engine switches to it between messages.
type RuleSet struct {
	rules   []*Rule
	byKey   map[ruleKey]*Rule
	version string
}

type ruleKey struct{ detector, id string }

// Version identifies the rule set: a hash of every rule's detector, id,
// version and mode.
func (s *RuleSet) Version() string { return s.version }

// All returns every rule, ordered by detector, then by source order.
func (s *RuleSet) All() []*Rule { return slices.Clone(s.rules) }

// For returns the rules of a detector that run (mode live or shadow), in
// source order.
func (s *RuleSet) For(detector string) []*Rule {
	var out []*Rule
	for _, r := range s.rules {
		if r.Detector == detector && r.Mode != Off {
			out = append(out, r)
		}
	}
	return out
}

// Lookup finds a rule by detector and id.
func (s *RuleSet) Lookup(detector, id string) (*Rule, bool) {
	if s == nil {
		return nil, false
	}
	r, ok := s.byKey[ruleKey{detector, id}]
	return r, ok
}

var ruleIDPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// LoadRules reads the built-in rule files of every factory (Factory.Rules),
// then every *.yaml and *.yml file under override, which may be nil. A rule
// in override with the same detector and id as a built-in one replaces it
// (`mode: off` there switches a built-in rule off); other rules extend the
// set. Within one layer an id may appear once. Fields are checked against
// the common fields and the detector's Factory.RuleFields; a rule for a
// detector not in factories is an error. Examples are not run here: see
// LoadCheckedRules.
func LoadRules(factories []Factory, override fs.FS) (*RuleSet, error) {
	var layers []fs.FS
	for _, f := range factories {
		if f.Rules != nil {
			layers = append(layers, f.Rules)
		}
	}
	return loadLayers(factories, append(layers, override)...)
}

// LoadCheckedRules is LoadRules followed by CheckExamples: the rule set a
// pipeline may run.
func LoadCheckedRules(factories []Factory, override fs.FS) (*RuleSet, error) {
	set, err := LoadRules(factories, override)
	if err != nil {
		return nil, err
	}
	if err := CheckExamples(factories, set); err != nil {
		return nil, err
	}
	return set, nil
}

func loadLayers(factories []Factory, layers ...fs.FS) (*RuleSet, error) {
	fields := map[string][]string{}
	for _, f := range factories {
		if f.RuleFields != nil {
			fields[f.Name] = f.RuleFields
		}
	}
	set := &RuleSet{byKey: map[ruleKey]*Rule{}}
	var errs []error
	for _, layer := range layers {
		if layer == nil {
			continue
		}
		seen := map[ruleKey]Source{}
		names, err := ruleFiles(layer)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			data, err := fs.ReadFile(layer, name)
			if err != nil {
				return nil, fmt.Errorf("rules: %w", err)
			}
			rules, ferrs := parseRuleFile(name, data, fields)
			errs = append(errs, ferrs...)
			for _, r := range rules {
				k := ruleKey{r.Detector, r.ID}
				if prev, dup := seen[k]; dup {
					errs = append(errs, &RuleError{Source: r.Source, Rule: r.ID, Field: "id", Msg: "duplicate id (also at " + prev.String() + ")"})
					continue
				}
				seen[k] = r.Source
				if r.Version == "" { // a bare `mode: off` switch
					old, ok := set.byKey[k]
					if !ok {
						errs = append(errs, &RuleError{Source: r.Source, Rule: r.ID, Field: "mode", Msg: "switches off a rule that no earlier layer defines"})
						continue
					}
					off := *old
					off.Mode, off.Source = Off, r.Source
					r = &off
				}
				if old, ok := set.byKey[k]; ok {
					i := slices.Index(set.rules, old)
					set.rules[i] = r
				} else {
					set.rules = append(set.rules, r)
				}
				set.byKey[k] = r
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	order := map[string]int{}
	for i, f := range factories {
		order[f.Name] = i
	}
	sort.SliceStable(set.rules, func(i, j int) bool { return order[set.rules[i].Detector] < order[set.rules[j].Detector] })
	h := sha256.New()
	for _, r := range set.rules {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\n", r.Detector, r.ID, r.Version, r.Mode)
	}
	set.version = hex.EncodeToString(h.Sum(nil))[:16]
	return set, nil
}

func ruleFiles(fsys fs.FS) ([]string, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (path.Ext(p) == ".yaml" || path.Ext(p) == ".yml") {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rules: list rule files: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// parseRuleFile parses one file. fields maps detector name to its
// detector-specific fields.
func parseRuleFile(name string, data []byte, fields map[string][]string) ([]*Rule, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []error{&RuleError{Source: Source{name, yamlErrorLine(err)}, Msg: err.Error()}}
	}
	if len(doc.Content) == 0 {
		return nil, []error{&RuleError{Source: Source{name, 1}, Msg: "empty rule file"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, []error{&RuleError{Source: Source{name, root.Line}, Msg: "a rule file is a mapping with detector and rules"}}
	}
	var detector string
	var rulesNode *yaml.Node
	var errs []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "detector":
			detector = v.Value
		case "rules":
			rulesNode = v
		default:
			errs = append(errs, &RuleError{Source: Source{name, k.Line}, Field: k.Value, Msg: "unknown field (a rule file has detector and rules)"})
		}
	}
	allowed, known := fields[detector]
	switch {
	case detector == "":
		return nil, append(errs, &RuleError{Source: Source{name, root.Line}, Field: "detector", Msg: "missing"})
	case !known:
		return nil, append(errs, &RuleError{Source: Source{name, root.Line}, Field: "detector", Msg: fmt.Sprintf("no detector %q takes rules", detector)})
	case rulesNode == nil || rulesNode.Kind != yaml.SequenceNode:
		return nil, append(errs, &RuleError{Source: Source{name, root.Line}, Field: "rules", Msg: "missing, or not a list"})
	}
	var out []*Rule
	for _, n := range rulesNode.Content {
		r, rerrs := parseRule(name, detector, n, allowed)
		errs = append(errs, rerrs...)
		if len(rerrs) == 0 {
			out = append(out, r)
		}
	}
	return out, errs
}

func yamlErrorLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	// yaml.v3 syntax errors read "yaml: line N: ..."
	var line int
	if _, scanErr := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); scanErr == nil {
		return line
	}
	return 0
}

type ruleHeader struct {
	ID          string      `yaml:"id"`
	Category    string      `yaml:"category"`
	Severity    string      `yaml:"severity"`
	Description string      `yaml:"description"`
	Owner       string      `yaml:"owner"`
	Mode        string      `yaml:"mode"`
	Replaces    string      `yaml:"replaces"`
	Examples    []yaml.Node `yaml:"examples"`
}

type exampleDoc struct {
	Text         *string        `yaml:"text"`
	Conversation []yaml.Node    `yaml:"conversation"`
	Expect       string         `yaml:"expect"`
	Severity     string         `yaml:"severity"`
	Unknown      map[string]any `yaml:",inline"`
}

type exampleMessageDoc struct {
	From    string         `yaml:"from"`
	Age     *int           `yaml:"age"`
	Text    *string        `yaml:"text"`
	After   string         `yaml:"after"`
	Unknown map[string]any `yaml:",inline"`
}

func parseRule(file, detector string, n *yaml.Node, allowed []string) (*Rule, []error) {
	src := Source{file, n.Line}
	if n.Kind != yaml.MappingNode {
		return nil, []error{&RuleError{Source: src, Msg: "a rule is a mapping of fields"}}
	}
	var errs []error
	bad := func(line int, field, format string, args ...any) {
		errs = append(errs, &RuleError{Source: Source{file, line}, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, dup := lines[k.Value]; dup {
			bad(k.Line, k.Value, "given twice")
		}
		lines[k.Value] = k.Line
		if !slices.Contains(ruleCommonFields, k.Value) && !slices.Contains(allowed, k.Value) {
			bad(k.Line, k.Value, "unknown field (detector %s rules take %s)", detector, strings.Join(append(slices.Clone(ruleCommonFields), allowed...), ", "))
		}
	}
	line := func(field string) int {
		if l, ok := lines[field]; ok {
			return l
		}
		return n.Line
	}
	var h ruleHeader
	if err := n.Decode(&h); err != nil {
		return nil, append(errs, &RuleError{Source: src, Msg: err.Error()})
	}
	r := &Rule{Detector: detector, ID: h.ID, Description: strings.TrimSpace(h.Description), Owner: h.Owner, Replaces: h.Replaces, Source: src, node: n}
	if !ruleIDPattern.MatchString(h.ID) {
		bad(line("id"), "id", "%q is not a dotted lower-case name such as harassment.threat", h.ID)
	}
	// A bare switch (`id` and `mode: off`, nothing else) turns off a rule of
	// an earlier layer; loadLayers resolves it (its Version stays empty).
	if h.Mode == string(Off) && len(lines) == 2 && lines["id"] > 0 && lines["mode"] > 0 {
		r.Mode = Off
		return r, errs
	}
	var err error
	if r.Category, err = ParseCategory(h.Category); err != nil {
		bad(line("category"), "category", "%v", err)
	}
	if r.Severity, err = ParseSeverity(h.Severity); err != nil {
		bad(line("severity"), "severity", "%v", err)
	}
	if h.Mode == "" {
		h.Mode = string(Live)
	}
	if r.Mode, err = ParseMode(h.Mode); err != nil {
		bad(line("mode"), "mode", "%v", err)
	}
	if r.Description == "" {
		bad(line("description"), "description", "required: say what the rule is about")
	}
	if r.Owner == "" {
		bad(line("owner"), "owner", "required: the team or person who answers for the rule")
	}
	if h.Replaces != "" && !ruleIDPattern.MatchString(h.Replaces) {
		bad(line("replaces"), "replaces", "%q is not a rule id", h.Replaces)
	}
	if len(h.Examples) == 0 {
		bad(line("examples"), "examples", "required: at least one example that matches")
	}
	matches := 0
	for i := range h.Examples {
		ex, exErrs := parseExample(file, &h.Examples[i])
		errs = append(errs, exErrs...)
		if len(exErrs) == 0 {
			r.Examples = append(r.Examples, ex)
			if ex.Match {
				matches++
			}
		}
	}
	if len(h.Examples) > 0 && matches == 0 && r.Mode != Off {
		bad(line("examples"), "examples", "no example with expect: match")
	}
	for _, e := range errs {
		var re *RuleError
		if errors.As(e, &re) && re.Rule == "" {
			re.Rule = h.ID
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r.Version, err = contentHash(n)
	if err != nil {
		return nil, []error{&RuleError{Source: src, Rule: r.ID, Msg: err.Error()}}
	}
	return r, nil
}

func parseExample(file string, n *yaml.Node) (Example, []error) {
	src := Source{file, n.Line}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &RuleError{Source: src, Field: "examples." + field, Msg: fmt.Sprintf(format, args...)})
	}
	var d exampleDoc
	if err := n.Decode(&d); err != nil {
		return Example{}, []error{&RuleError{Source: src, Field: "examples", Msg: err.Error()}}
	}
	for k := range d.Unknown {
		bad(k, "unknown field (an example has text or conversation, expect, severity)")
	}
	ex := Example{Source: src}
	switch d.Expect {
	case "match":
		ex.Match = true
	case "no_match":
	default:
		bad("expect", "%q: want match or no_match", d.Expect)
	}
	if d.Severity != "" {
		sev, err := ParseSeverity(d.Severity)
		if err != nil {
			bad("severity", "%v", err)
		}
		ex.Severity = sev
	}
	switch {
	case d.Text != nil && d.Conversation != nil:
		bad("text", "give text or conversation, not both")
	case d.Text != nil:
		ex.Messages = []ExampleMessage{{From: "sender", Text: *d.Text, After: time.Minute}}
	case len(d.Conversation) > 0:
		for i := range d.Conversation {
			var m exampleMessageDoc
			if err := d.Conversation[i].Decode(&m); err != nil {
				bad("conversation", "%v", err)
				continue
			}
			for k := range m.Unknown {
				bad("conversation."+k, "unknown field (a message has from, age, text, after)")
			}
			if m.From == "" || m.Text == nil {
				bad("conversation", "message %d needs from and text", i+1)
				continue
			}
			after := time.Minute
			if m.After != "" {
				d, err := time.ParseDuration(m.After)
				if err != nil || d < 0 {
					bad("conversation.after", "%q is not a duration such as 30s or 2h", m.After)
				}
				after = d
			}
			ex.Messages = append(ex.Messages, ExampleMessage{From: m.From, Age: m.Age, Text: *m.Text, After: after})
		}
	default:
		bad("text", "an example needs text or conversation")
	}
	return ex, errs
}

// contentHash hashes the rule's content, not its formatting: the YAML is
// decoded and re-encoded as JSON (sorted keys), so comments, key order and
// quoting do not change the version.
func contentHash(n *yaml.Node) (string, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", fmt.Errorf("hash rule: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:8]), nil
}
