package detectors

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goshawk-safety/goshawk/detectors/text"
)

// Lexicon collects the phrases a detector's rules list (and the detector's
// own words), one pattern per normal form, each with the roles R it plays,
// and compiles them into one text.Matcher. It remembers where each pattern
// was first listed, so that a phrase the matcher refuses is reported with
// its rule, file, line and field. The zero value is ready to use.
type Lexicon[R comparable] struct {
	z       text.Normalizer
	index   map[string]int // normal form → pattern
	phrases []string
	roles   [][]R
	origin  []lexOrigin // where each pattern was first listed
}

// lexOrigin is the rule and field that listed a phrase (rule nil for the
// detector's own words).
type lexOrigin struct {
	rule  *Rule
	field string
}

// AddWord adds one of the detector's own words (not from a rule), playing
// role r.
func (l *Lexicon[R]) AddWord(w string, r R) {
	l.add(w, strings.Clone(l.z.Normalize(w).Text), r, lexOrigin{})
}

// Add adds phrase, whose normal form is norm, playing role r, as listed by
// field of rule.
func (l *Lexicon[R]) Add(phrase, norm string, r R, rule *Rule, field string) {
	l.add(phrase, norm, r, lexOrigin{rule, field})
}

func (l *Lexicon[R]) add(phrase, norm string, r R, o lexOrigin) {
	if l.index == nil {
		l.index = map[string]int{}
	}
	i, ok := l.index[norm]
	if !ok {
		i = len(l.phrases)
		l.index[norm] = i
		l.phrases = append(l.phrases, phrase)
		l.roles = append(l.roles, nil)
		l.origin = append(l.origin, o)
	}
	if !slices.Contains(l.roles[i], r) {
		l.roles[i] = append(l.roles[i], r)
	}
}

// Has reports whether a normal form is already one of the lexicon's
// patterns.
func (l *Lexicon[R]) Has(norm string) bool {
	_, ok := l.index[norm]
	return ok
}

// AddPhrases checks the phrases of a rule's field and adds them, with their
// chat spellings (text.ChatVariants), playing role r. Each must have 1 to
// maxWords words in the normal form (as words counts them), no masking
// character, and appear once in the field; what breaks that is reported
// on fr. It returns the normal forms it added, in order.
func (l *Lexicon[R]) AddPhrases(fr *RuleFields, field string, list []string, maxWords int, words func(norm string) int, r R) []string {
	seen := map[string]bool{}
	var norms []string
	for _, p := range list {
		norm := l.z.Normalize(p).Text
		n := words(norm)
		switch {
		case n == 0 || n > maxWords:
			fr.Errorf(field, "%q must have 1 to %d words", p, maxWords)
			continue
		case strings.ContainsAny(norm, "*#"):
			fr.Errorf(field, "%q has a masking character; write it in plain letters (the matcher reads f*ck as fuck)", p)
			continue
		case seen[norm]:
			fr.Errorf(field, "%q is listed twice (the same as another entry once normalised)", p)
			continue
		}
		norm = strings.Clone(norm)
		seen[norm] = true
		norms = append(norms, norm)
		l.add(p, norm, r, lexOrigin{fr.Rule(), field})
		for _, v := range text.ChatVariants(norm) {
			l.add(v, v, r, lexOrigin{fr.Rule(), field})
		}
	}
	return norms
}

// LexiconRoles are the roles of each pattern of a compiled lexicon, flat.
type LexiconRoles[R comparable] struct {
	roles []R
	lo    []int32 // roles of pattern i: roles[lo[i]:lo[i+1]]
}

// Of returns the roles of pattern id (a text.Match's ID).
func (r LexiconRoles[R]) Of(id int) []R { return r.roles[r.lo[id]:r.lo[id+1]] }

// Compile builds the matcher over every pattern and the roles of each. When
// the matcher refuses the lexicon, the error names each phrase it refuses
// on its own, with its rule and field (detector names the detector for its
// own words).
func (l *Lexicon[R]) Compile(detector string) (*text.Matcher, LexiconRoles[R], error) {
	m, err := text.NewMatcher(l.phrases)
	if err != nil {
		var errs []error
		for i, p := range l.phrases {
			if _, perr := text.NewMatcher([]string{p}); perr != nil {
				if o := l.origin[i]; o.rule != nil {
					errs = append(errs, o.rule.Errorf(o.field, "%q: %v", p, perr))
				} else {
					errs = append(errs, fmt.Errorf("%s built-in words: %q: %w", detector, p, perr))
				}
			}
		}
		if len(errs) == 0 {
			errs = append(errs, fmt.Errorf("%s rules: %w", detector, err))
		}
		return nil, LexiconRoles[R]{}, errors.Join(errs...)
	}
	out := LexiconRoles[R]{lo: make([]int32, len(l.roles)+1)}
	for i, rr := range l.roles {
		out.lo[i] = int32(len(out.roles))
		out.roles = append(out.roles, rr...)
	}
	out.lo[len(l.roles)] = int32(len(out.roles))
	return m, out, nil
}
