package harassment

import (
	_ "embed"
	"strings"
)

// typoRealWordsText lists the English words that are one misspelling
// (text.Typos) away from a targeted term of the built-in rules: "garage"
// from "garbage", "niger" from "nigger", "manic" from "maniac". Those are
// not read as the term. Regenerate it after changing the terms with
// scripts/harassment-eval/typo_realwords.sh, which checks the misspellings
// against Debian's wamerican word list (TestTypoRealWords).
//
//go:embed typo_realwords.txt
var typoRealWordsText string

// typoRealWords is typoRealWordsText as a set.
var typoRealWords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(typoRealWordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()
