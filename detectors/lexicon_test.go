package detectors_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
)

// One pattern per normal form, with every role it was added in; phrases
// that break the field's rules are reported, not added; chat spellings
// match too.
func TestLexicon(t *testing.T) {
	var lex detectors.Lexicon[string]
	lex.AddWord("You", "grammar")
	r := &detectors.Rule{ID: "t.rule", Source: detectors.Source{File: "t.yaml", Line: 3}}
	fr := r.Fields()
	words := func(norm string) int { return len(strings.Fields(norm)) }
	norms := lex.AddPhrases(fr, "phrases", []string{"are you alone", "ARE YOU ALONE", "f*ck", "you"}, 3, words, "stage")
	if !slices.Equal(norms, []string{"are you alone", "you"}) {
		t.Errorf("added %q", norms)
	}
	if errs := fr.Errs(); len(errs) != 2 || !strings.Contains(errs[0].Error(), "listed twice") || !strings.Contains(errs[1].Error(), "masking character") {
		t.Errorf("errors %v, want one duplicate and one masked phrase", errs)
	}
	m, roles, err := lex.Compile("test")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	n := text.Normalize("r u alone? you")
	for _, mt := range m.Match(n, nil) {
		got[n.Text[mt.Start:mt.End]] = roles.Of(mt.ID)
	}
	if !slices.Equal(got["r u alone"], []string{"stage"}) || !slices.Equal(got["you"], []string{"grammar", "stage"}) {
		t.Errorf("matches and roles %v", got)
	}
}
