package text

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// This file holds the data tables of the normal form. They are built once,
// when the package is initialised, and never written afterwards.

// lookalikeData maps letters of other scripts to the ASCII letter they look
// like. It is a targeted subset of Unicode Technical Standard #39
// (confusables.txt, "MA" table), restricted to Cyrillic, Greek and Armenian
// letters whose TR39 prototype is a single Latin letter. The full TR39
// skeleton is deliberately not used: it is designed for comparing strings,
// not for rewriting them, and it maps ASCII itself (m → rn, 1 → l).
//
// Entries marked "via" are TR39 mappings to a Latin-extended letter or small
// capital (κ → ĸ, т → ᴛ) that this table carries one step further, to the
// ASCII letter that the small capital or variant stands for; they are the
// look-alikes that evaders use most and that the task brief names.
//
// The mapping is keyed on the letter as written (before lower-casing),
// because some capitals look like a different Latin letter than their small
// form (Greek Η looks like H, η like n). A capital without an entry takes
// its small letter's (Σ as σ), which keeps the normal form idempotent. The value '1' means "I or l": the
// capital iotas and palochka look like both, and '1' is the normal form's
// marker for that ambiguity (see the package documentation).
//
// Precomposed letters whose canonical decomposition starts with one of these
// (ё, ї, ά, ў …) are added by init with the same value.
var lookalikeData = []struct {
	from rune
	to   rune
}{
	// Cyrillic capitals (TR39 MA).
	{'А', 'a'}, {'В', 'b'}, {'Е', 'e'}, {'К', 'k'}, {'М', 'm'}, {'Н', 'h'},
	{'О', 'o'}, {'Р', 'p'}, {'С', 'c'}, {'Т', 't'}, {'У', 'y'}, {'Х', 'x'},
	{'Ѕ', 's'}, {'І', '1'}, {'Ј', 'j'}, {'Ү', 'y'}, {'Ӏ', '1'}, {'Ԍ', 'g'},
	{'Ԝ', 'w'}, {'Ѵ', 'v'}, {'Ь', 'b'},
	// Cyrillic small letters (TR39 MA).
	{'а', 'a'}, {'е', 'e'}, {'о', 'o'}, {'р', 'p'}, {'с', 'c'}, {'у', 'y'},
	{'х', 'x'}, {'ѕ', 's'}, {'і', 'i'}, {'ј', 'j'}, {'ԁ', 'd'}, {'ԛ', 'q'},
	{'ԝ', 'w'}, {'ѡ', 'w'}, {'ѵ', 'v'}, {'ү', 'y'}, {'һ', 'h'}, {'ҽ', 'e'},
	{'ӏ', 'i'}, {'г', 'r'},
	// Cyrillic small letters via small capitals (к → ĸ/ᴋ, м → ᴍ, н → ʜ, т → ᴛ).
	{'к', 'k'}, {'м', 'm'}, {'н', 'h'}, {'т', 't'},
	// Greek capitals (TR39 MA).
	{'Α', 'a'}, {'Β', 'b'}, {'Ε', 'e'}, {'Ζ', 'z'}, {'Η', 'h'}, {'Ι', '1'},
	{'Κ', 'k'}, {'Μ', 'm'}, {'Ν', 'n'}, {'Ο', 'o'}, {'Ρ', 'p'}, {'Τ', 't'},
	{'Υ', 'y'}, {'Χ', 'x'}, {'Ϲ', 'c'}, {'Ϳ', 'j'},
	// Greek small letters (TR39 MA).
	{'α', 'a'}, {'γ', 'y'}, {'ι', 'i'}, {'ν', 'v'}, {'ο', 'o'}, {'ρ', 'p'},
	{'σ', 'o'}, {'υ', 'u'}, {'ϲ', 'c'}, {'ϳ', 'j'},
	// Greek small letters via Latin-extended look-alikes (ε → ɛ, η → ŋ,
	// κ → ĸ, τ → ᴛ, χ → ꭓ, ω → ꞷ).
	{'ε', 'e'}, {'η', 'n'}, {'κ', 'k'}, {'τ', 't'}, {'χ', 'x'}, {'ω', 'w'},
	// Armenian (TR39 MA).
	{'Ս', 'u'}, {'Տ', 's'}, {'Օ', 'o'}, {'հ', 'h'}, {'ո', 'n'}, {'ս', 'u'},
	{'օ', 'o'}, {'ց', 'g'}, {'զ', 'q'}, {'գ', 'q'},
}

// latinExtra maps Latin-script letters that have no canonical decomposition
// to the ASCII letter they look like: letters with a stroke or bar (TR39
// lists them as base + combining overlay, e.g. ø → o + U+0338), TR39 MA
// look-alikes inside the Latin script (ɑ → a, ɡ → g, ı → i), and the small
// capitals that "font generator" sites use for fake small-caps text (TR39
// lists ᴄ ᴏ ᴜ ᴠ ᴡ ᴢ ɪ ʏ; the rest are added because they are used the same
// way).
var latinExtra = []struct {
	from rune
	to   rune
}{
	// Stroke and bar letters.
	{'ø', 'o'}, {'ł', 'l'}, {'đ', 'd'}, {'ħ', 'h'}, {'ŧ', 't'}, {'ƀ', 'b'},
	{'ɨ', 'i'}, {'ƶ', 'z'}, {'ȼ', 'c'}, {'ɇ', 'e'}, {'ɉ', 'j'}, {'ɍ', 'r'},
	{'ɏ', 'y'}, {'ʉ', 'u'}, {'ᵽ', 'p'}, {'ꝁ', 'k'}, {'ꞡ', 'g'}, {'ƚ', 'l'},
	// TR39 MA look-alikes within Latin.
	{'ı', 'i'}, {'ȷ', 'j'}, {'ɑ', 'a'}, {'ɡ', 'g'}, {'ɣ', 'y'}, {'ɩ', 'i'},
	{'ʋ', 'u'}, {'ǀ', 'l'}, {'ƽ', 's'}, {'ᴑ', 'o'}, {'ỿ', 'y'},
	// Small capitals.
	{'ᴀ', 'a'}, {'ʙ', 'b'}, {'ᴄ', 'c'}, {'ᴅ', 'd'}, {'ᴇ', 'e'}, {'ꜰ', 'f'},
	{'ɢ', 'g'}, {'ʜ', 'h'}, {'ɪ', 'i'}, {'ᴊ', 'j'}, {'ᴋ', 'k'}, {'ʟ', 'l'},
	{'ᴍ', 'm'}, {'ɴ', 'n'}, {'ᴏ', 'o'}, {'ᴘ', 'p'}, {'ꞯ', 'q'}, {'ʀ', 'r'},
	{'ꜱ', 's'}, {'ᴛ', 't'}, {'ᴜ', 'u'}, {'ᴠ', 'v'}, {'ᴡ', 'w'}, {'ʏ', 'y'},
	{'ᴢ', 'z'},
}

var (
	// lookalike: other-script letter (as written) → ASCII letter or '1'.
	lookalike map[rune]rune
	// latinFold: lower-case Latin-script letter → ASCII base letter. It
	// holds every precomposed Latin letter whose canonical decomposition
	// starts with an ASCII letter (é → e, ş → s), plus latinExtra.
	latinFold map[rune]rune
)

//go:generate go run ./internal/gentables

func init() {
	lookalike = make(map[rune]rune, 4*len(lookalikeData)+len(confusableData))
	for _, p := range lookalikeData {
		lookalike[p.from] = p.to
	}
	// Precomposed Greek, Cyrillic and Armenian letters whose decomposition
	// starts with a look-alike: ё → е → e, ά → α → a.
	for _, rng := range [][2]rune{{0x0370, 0x058F}, {0x1F00, 0x1FFF}} {
		for r := rng[0]; r <= rng[1]; r++ {
			if _, ok := lookalike[r]; ok || !unicode.IsLetter(r) {
				continue
			}
			if base, ok := decomposedBase(r); ok {
				if to, ok := lookalike[base]; ok {
					lookalike[r] = to
				}
			}
		}
	}

	latinFold = make(map[rune]rune, 1024)
	for r := rune(0x00C0); r <= 0x2C7F; r++ {
		if !unicode.Is(unicode.Latin, r) || !unicode.IsLetter(r) {
			continue
		}
		base, ok := decomposedBase(r)
		if !ok || base >= utf8.RuneSelf || !isASCIILetter(byte(base)) {
			continue
		}
		latinFold[unicode.ToLower(r)] = unicode.ToLower(base)
	}
	for r := rune(0xA720); r <= 0xA7FF; r++ {
		if base, ok := decomposedBase(r); ok && base < utf8.RuneSelf && isASCIILetter(byte(base)) {
			latinFold[unicode.ToLower(r)] = unicode.ToLower(base)
		}
	}
	for _, p := range latinExtra {
		latinFold[p.from] = p.to
	}
	// The whole TR39 table (confusables_table.go), under the hand-checked
	// entries above, which win where both have a character: Latin-script
	// letters fold always (ɑ, ꞵ, ʀ), letters of other scripts (Cherokee,
	// Canadian syllabics, Lisu, Coptic, Vai, Tifinagh …) and symbols become
	// look-alikes, read as Latin word by word as the package documentation
	// describes.
	for _, p := range confusableData {
		r := p.from
		switch {
		case unicode.Is(unicode.Latin, r) && unicode.IsLetter(r):
			if lr := unicode.ToLower(r); lr == r || confusableOf(lr) == p.to {
				if _, ok := latinFold[lr]; !ok {
					latinFold[lr] = p.to
				}
			}
		case unicode.IsLetter(r) || unicode.In(r, unicode.So, unicode.Sm):
			if _, ok := lookalike[r]; !ok {
				lookalike[r] = p.to
			}
		}
	}
}

// confusableOf returns the letter that r imitates in confusableData, or 0.
func confusableOf(r rune) rune {
	i, ok := slices.BinarySearchFunc(confusableData[:], r, func(p struct{ from, to rune }, r rune) int { return int(p.from - r) })
	if !ok {
		return 0
	}
	return confusableData[i].to
}

// decomposedBase returns the first rune of r's canonical decomposition, if r
// has one.
func decomposedBase(r rune) (rune, bool) {
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	d := norm.NFD.Properties(buf[:n]).Decomposition()
	if len(d) == 0 {
		return 0, false
	}
	base, _ := utf8.DecodeRune(d)
	return base, true
}

// leetDigit is the letter a digit stands for in leetspeak, or 0. '1' is not
// rewritten: it stays in the normal form as the marker for "i or l", which
// the Matcher tries both ways. '2' is left alone ("2" is usually "to").
func leetDigit(c rune) rune {
	switch c {
	case '0':
		return 'o'
	case '3':
		return 'e'
	case '4':
		return 'a'
	case '5':
		return 's'
	case '6', '9':
		return 'g'
	case '7':
		return 't'
	case '8':
		return 'b'
	}
	return 0
}

// Character classes of units and of the matcher's view of the normal form.
const (
	clsOther  uint8 = iota // punctuation, symbols, emoji
	clsSpace               // a single normalised space
	clsLetter              // a letter (any script)
	clsDigit               // an ASCII digit
	clsNumber              // another digit or number that is part of words
	clsMark                // a combining mark kept in the normal form
	clsLeet                // @ $ ! | €: letters in disguise, in word context
	clsMask                // * and #: a hidden letter, in word context
	clsJoiner              // an emoji joiner kept in the text (ZWJ, VS16, tag)
)

// asciiClass classifies ASCII bytes. Upper-case letters are letters too.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch {
		case isASCIILetter(byte(c)):
			t[c] = clsLetter
		case '0' <= c && c <= '9':
			t[c] = clsDigit
		case c == ' ' || '\t' <= c && c <= '\r':
			t[c] = clsSpace
		case c == '@' || c == '$' || c == '!' || c == '|':
			t[c] = clsLeet
		case c == '*' || c == '#':
			t[c] = clsMask
		default:
			t[c] = clsOther
		}
	}
	return t
}()

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isInvisible reports whether r is a default-ignorable or format character
// that renders as nothing: Unicode category Cf (zero-width space and
// joiners, bidirectional controls, soft hyphen, word joiner, invisible
// operators, byte-order mark, tags), C0/C1 controls other than whitespace,
// variation selectors, the combining grapheme joiner and the Hangul fillers.
// The emoji joiners (ZWJ, VS15, VS16, tags) are among them; the normaliser
// keeps those where they join emoji (see isEmojiJoiner).
func isInvisible(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t' && r != '\n' && r != '\v' && r != '\f' && r != '\r'
	case r < 0x7F:
		return false
	case r <= 0x9F:
		return r != 0x85 // NEL is whitespace
	case r == 0x034F, // combining grapheme joiner
		r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, // Hangul fillers
		r == 0x17B4, r == 0x17B5, // Khmer inherent vowels
		0x180B <= r && r <= 0x180F,   // Mongolian variation selectors, vowel separator
		0xFE00 <= r && r <= 0xFE0F,   // variation selectors
		0xE0100 <= r && r <= 0xE01EF: // variation selectors supplement
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// isEmojiJoiner reports whether r glues emoji together: the zero-width
// joiner, the text and emoji presentation selectors, and the tag characters
// of subdivision flags.
func isEmojiJoiner(r rune) bool {
	return r == 0x200D || r == 0xFE0E || r == 0xFE0F || 0xE0020 <= r && r <= 0xE007F
}

// isSpace reports whether r is whitespace in the normal form: Unicode
// White_Space, plus the Braille blank, which renders as a space and is a
// favourite invisible separator.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r == 0x2800
}

// isMark reports whether r is a combining mark.
func isMark(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc)
}

// isForeignLookalikeScript reports whether r belongs to a script whose
// letters the look-alike table folds.
func isForeignLookalikeScript(r rune) bool {
	return unicode.In(r, unicode.Cyrillic, unicode.Greek, unicode.Armenian)
}

// isJoinSeparator reports whether r may separate spelled-out letters
// ("k y s", "k.y.s", "i-d-i-o-t", "k_y_s").
func isJoinSeparator(r rune) bool {
	switch r {
	case ' ', '.', '-', '_', '·', '•', '‐', '‑', '–', '—':
		return true
	}
	return false
}
