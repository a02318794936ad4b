package text

import (
	"testing"

	"github.com/goshawk-safety/goshawk/detectors/text/internal/skeleton"
)

// TestConfusablesTableUpToDate: confusables_table.go is what the pinned
// TR39 data gives (go generate ./detectors/text rewrites it).
func TestConfusablesTableUpToDate(t *testing.T) {
	want := skeleton.Letters()
	if len(want) != len(confusableData) {
		t.Fatalf("confusables_table.go has %d characters, the TR39 data %d: run go generate ./detectors/text", len(confusableData), len(want))
	}
	for i, p := range want {
		if got := confusableData[i]; got.from != p.From || got.to != p.To {
			t.Fatalf("entry %d: table %U→%q, TR39 data %U→%q: run go generate ./detectors/text", i, got.from, got.to, p.From, p.To)
		}
	}
}

// TestFullSkeleton reads look-alikes of the scripts and symbol sets that
// homoglyph tools draw from, beyond the hand-checked Cyrillic, Greek and
// Armenian table, inside Latin text.
func TestFullSkeleton(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"you ᏚᎢUᏢᎥᎠ idiot", "you stupid idiot"},       // Cherokee
		{"ᑭᗩTᕼETIᑕ loser", "p\uFFFDthet1\uFFFD loser"}, // Canadian syllabics: ᑭ ᕼ are in TR39 13; ᗩ ᑕ are not, and amid Latin letters they read as any letter
		{"kill ყou", "kill you"},                       // Georgian
		{"ꓗꓲꓡꓡ you", "k1ll you"},                       // Lisu
		{"ⲔⲒⲖⲖ you", "ⲕⲓⲗⲗ you"},                       // Coptic: Ⲗ imitates nothing, so the word is not read as Latin
		{"ᏚᎢᏢᎥᎠ", "ꮪꭲꮲꭵꭰ"},                             // look-alikes only, no Latin letter: kept (lower case)
		{"привет как дела", "привет как дела"},         // real Russian stays
		{"a∪b", "aub"}, // a symbol between letters
	} {
		if got := Normalize(tc.in).Text; got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUnknownLetters: letters no table reads, amid the Latin letters of a
// word, stand for any letter (U+FFFD in the normal form) and the Matcher
// reads them so, at any place in the word; a word mostly of another script
// is left alone, and so is text of one script.
func TestUnknownLetters(t *testing.T) {
	m, err := NewMatcher([]string{"kys", "miss you", "down"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in      string
		matches int
	}{
		{"ҟʏꜱ", 1},             // ҟ: a Cyrillic letter TR39 does not map, first in the word
		{"ʍiss you", 1},        // ʍ: a turned w, no base
		{"house doʍn", 1},      // a turned letter inside a Latin word
		{"ᑰὂᾤп", 1},            // letters of four scripts in one word: a disguise; ὂ ᾤ read o w, the rest any letter
		{"привет как дела", 0}, // real Russian
		{"日本語のテキスト", 0},        // Japanese mixes scripts legitimately
		{"kys", 1},
	} {
		if got := len(m.Match(Normalize(tc.in), nil)); got != tc.matches {
			t.Errorf("%q (normal form %q): %d matches, want %d", tc.in, Normalize(tc.in).Text, got, tc.matches)
		}
	}
}
