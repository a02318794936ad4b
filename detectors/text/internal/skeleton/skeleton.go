// Package skeleton derives, from the Unicode TR39 confusables data that
// github.com/mtibben/confusables ships (pinned in go.mod), the characters
// that imitate one ASCII letter. It is used by the table generator and by
// the test that keeps the generated table current; the normaliser itself
// reads only the generated table.
package skeleton

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/runenames"
)

// Source names the data: the module and the confusables.txt version in it.
const Source = "github.com/mtibben/confusables v0.0.0-20210201002637-9d1b0723b659, confusables.txt 13.0.0"

// Pair is one character and the ASCII letter it imitates.
type Pair struct{ From, To rune }

// Letters returns, in code point order, the TR39 look-alikes and, for Latin
// letters TR39 leaves out, the letter their Unicode name builds them on
// (named). In detail:  every non-ASCII letter, number,
// symbol or punctuation character whose skeleton is a single ASCII letter
// once combining marks are removed and it is lower-cased ('l' and 'i' of a
// capital I read '1', the normal form's "i or l" marker).
func Letters() []Pair {
	var out []Pair
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF || !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsSymbol(r) || unicode.IsPunct(r)) {
			continue
		}
		to, ok := letter(r)
		if !ok {
			to, ok = named(r)
		}
		if ok {
			out = append(out, Pair{r, to})
		}
	}
	return out
}

func letter(r rune) (rune, bool) {
	sk := norm.NFD.String(confusables.Skeleton(string(r)))
	var got rune
	n := 0
	for _, c := range sk {
		if unicode.Is(unicode.Mn, c) || unicode.Is(unicode.Me, c) {
			continue
		}
		got = c
		n++
	}
	if n != 1 || got >= utf8.RuneSelf {
		return 0, false
	}
	switch {
	case got == 'l' || got == 'I':
		return '1', true
	case got >= 'A' && got <= 'Z':
		return unicode.ToLower(got), true
	case got >= 'a' && got <= 'z':
		return got, true
	}
	return 0, false
}

// named reads a Latin letter's base from its Unicode name: "LATIN SMALL
// LETTER T WITH RETROFLEX HOOK" (ʈ), "LATIN SMALL LETTER R WITH FISHHOOK"
// (ɾ), "LATIN LETTER SMALL CAPITAL R" (ʀ) are a t, an r and an r with a
// decoration. Turned, reversed, inverted and other reshaped letters
// ("LATIN SMALL LETTER TURNED W", ʍ, looks like an m) and ligatures are
// left alone: their look is no longer their base's.
func named(r rune) (rune, bool) {
	if !unicode.Is(unicode.Latin, r) || !unicode.IsLetter(r) {
		return 0, false
	}
	name := runenames.Name(r)
	var rest string
	for _, p := range []string{"LATIN SMALL LETTER ", "LATIN CAPITAL LETTER ", "LATIN LETTER SMALL CAPITAL "} {
		if strings.HasPrefix(name, p) {
			rest = name[len(p):]
			break
		}
	}
	if rest == "" {
		return 0, false
	}
	base, deco, _ := strings.Cut(rest, " ")
	if len(base) != 1 || base[0] < 'A' || base[0] > 'Z' {
		return 0, false
	}
	if deco != "" && !strings.HasPrefix(deco, "WITH ") {
		return 0, false
	}
	c := rune(base[0]) + 'a' - 'A'
	if c == 'l' || c == 'i' {
		return '1', true
	}
	return c, true
}
