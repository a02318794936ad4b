package detectors

import (
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// RuleFields decodes a rule's detector-specific fields one at a time and
// collects the problems, each naming the rule's file, the field's line and
// the field. A detector decodes its fields into yaml.Node values (with
// Rule.Decode) and reads each with the methods here, so that every error
// says which field is wrong, and all of them are reported at once.
type RuleFields struct {
	rule *Rule
	errs []error
}

// Fields returns a reader for the rule's fields.
func (r *Rule) Fields() *RuleFields { return &RuleFields{rule: r} }

// Rule returns the rule being read.
func (f *RuleFields) Rule() *Rule { return f.rule }

// Errs returns the problems found so far.
func (f *RuleFields) Errs() []error { return f.errs }

// Errorf records a problem with a field.
func (f *RuleFields) Errorf(field, format string, args ...any) {
	f.errs = append(f.errs, f.rule.Errorf(field, format, args...))
}

// Absent records each of fields (whose nodes are ns) that is set: why says
// why it must not be.
func (f *RuleFields) Absent(fields []string, ns []*yaml.Node, why string) {
	for i, n := range ns {
		if n.Kind != 0 {
			f.Errorf(fields[i], "%s", why)
		}
	}
}

// DecodeField decodes n into a T. It returns false when the field is
// absent, or when it is invalid, which it records: want describes a valid
// value, and tags, when given, are the YAML tags a scalar may have (yaml.v3
// would otherwise truncate 3.5 into an int without a word).
func DecodeField[T any](f *RuleFields, field string, n *yaml.Node, want string, tags ...string) (T, bool) {
	var v T
	if n.Kind == 0 {
		return v, false
	}
	if len(tags) > 0 && (n.Kind != yaml.ScalarNode || !slices.Contains(tags, n.ShortTag())) || n.Decode(&v) != nil {
		f.Errorf(field, "%s is not %s", DescribeNode(n), want)
		return v, false
	}
	return v, true
}

// Required is DecodeField for a required string field.
func (f *RuleFields) Required(field string, n *yaml.Node, want string, tags ...string) (string, bool) {
	if n.Kind == 0 {
		f.Errorf(field, "required")
		return "", false
	}
	return DecodeField[string](f, field, n, want, tags...)
}

// RequiredInt reads a required whole number.
func (f *RuleFields) RequiredInt(field string, n *yaml.Node) (int, bool) {
	if n.Kind == 0 {
		f.Errorf(field, "required")
		return 0, false
	}
	return DecodeField[int](f, field, n, "a whole number", "!!int")
}

// Severity reads an optional severity.
func (f *RuleFields) Severity(field string, n *yaml.Node) (Severity, bool) {
	s, ok := DecodeField[string](f, field, n, "a severity", "!!str")
	if !ok {
		return "", false
	}
	sev, err := ParseSeverity(s)
	if err != nil {
		f.Errorf(field, "%v", err)
		return "", false
	}
	return sev, true
}

// Duration reads a duration such as 10m or 24h; required says whether its
// absence is an error.
func (f *RuleFields) Duration(field string, n *yaml.Node, required bool) (time.Duration, bool) {
	if n.Kind == 0 {
		if required {
			f.Errorf(field, "required")
		}
		return 0, false
	}
	s, ok := DecodeField[string](f, field, n, "a duration such as 10m or 24h", "!!str", "!!int")
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		f.Errorf(field, "%q is not a duration such as 10m or 24h", s)
		return 0, false
	}
	return d, true
}

// Score reads the required field score, a number in (0, 1].
func (f *RuleFields) Score(n *yaml.Node) float64 {
	if n.Kind == 0 {
		f.Errorf("score", "required: a number in (0, 1]")
		return 0
	}
	s, ok := DecodeField[float64](f, "score", n, "a number in (0, 1]", "!!float", "!!int")
	if ok && !(s > 0 && s <= 1) {
		f.Errorf("score", "%s is not in (0, 1]", strconv.FormatFloat(s, 'g', -1, 64))
	}
	return s
}

// DescribeNode names a YAML value in an error message.
func DescribeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		if n.Alias != nil {
			return DescribeNode(n.Alias)
		}
	}
	return "this value"
}

// PhraseList reads a list of phrases. An item may itself be a list, so
// that a rule file can define a list once with a YAML anchor and use it in
// several rules. Nested lists are flattened (two levels at most).
func (f *RuleFields) PhraseList(field string, n *yaml.Node) ([]string, bool) {
	if n.Kind == 0 {
		return nil, false
	}
	var out []string
	var walk func(n *yaml.Node, depth int) bool
	walk = func(n *yaml.Node, depth int) bool {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch {
		case n.Kind == yaml.ScalarNode && depth > 0 && n.ShortTag() != "!!null":
			out = append(out, n.Value)
			return true
		case n.Kind == yaml.SequenceNode && depth < 3:
			for _, c := range n.Content {
				if !walk(c, depth+1) {
					return false
				}
			}
			return true
		}
		f.Errorf(field, "%s is not a list of phrases (an item may be a list, such as an alias of a shared list)", DescribeNode(n))
		return false
	}
	if !walk(n, 0) {
		return nil, false
	}
	return out, true
}
