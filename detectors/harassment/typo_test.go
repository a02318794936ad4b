package harassment

import (
	"bufio"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/goshawk-safety/goshawk/detectors/text"
)

// targetedTerms returns the one-word terms of the built-in rules that aim
// at the reader, whose misspellings the detector reads.
func targetedTerms(t *testing.T) []string {
	t.Helper()
	src, err := builtinFS.ReadFile("rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rules []struct {
			Target string `yaml:"target"`
			Terms  []any  `yaml:"terms"`
		} `yaml:"rules"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	var z text.Normalizer
	var out []string
	for _, r := range doc.Rules {
		if r.Target != "second_person" {
			continue
		}
		for _, term := range r.Terms {
			if s, ok := term.(string); ok {
				if n := z.Normalize(s).Text; !strings.ContainsAny(n, " '") {
					out = append(out, strings.Clone(n))
				}
			}
		}
	}
	if len(out) < 100 {
		t.Fatalf("%d targeted one-word terms, want the insult and slur lists", len(out))
	}
	return out
}

// TestTypoRealWords keeps typo_realwords.txt true: every word in it is a
// misspelling of a targeted term (none is stale), the list is sorted, and,
// when TYPO_DICT names a word list (scripts/harassment-eval/typo_realwords.sh
// gives Debian's wamerican), every misspelling that is an English word is
// in it.
func TestTypoRealWords(t *testing.T) {
	terms := targetedTerms(t)
	typos := map[string]string{}
	for _, term := range terms {
		for _, v := range text.Typos(term) {
			if !slices.Contains(terms, v) { // "loser" is a term, not a misspelling of "looser"
				typos[v] = term
			}
		}
	}
	var listed []string
	for w := range typoRealWords {
		listed = append(listed, w)
		if _, ok := typos[w]; !ok {
			t.Errorf("typo_realwords.txt: %q is no misspelling of a targeted term; remove it", w)
		}
	}
	var inFile []string
	for _, line := range strings.Split(typoRealWordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			inFile = append(inFile, line)
		}
	}
	if !slices.IsSorted(inFile) {
		t.Error("typo_realwords.txt is not sorted")
	}
	dict := os.Getenv("TYPO_DICT")
	if dict == "" {
		return
	}
	f, err := os.Open(dict)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var missing []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.ToLower(strings.TrimSpace(sc.Text()))
		if term, ok := typos[w]; ok && !typoRealWords[w] && !slices.Contains(missing, w) {
			missing = append(missing, w)
			t.Logf("%s (from %s)", w, term)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("English words read as misspelt insults; add them to typo_realwords.txt:\n%s", strings.Join(missing, "\n"))
	}
}
