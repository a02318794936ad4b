package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func addSeeds(f *testing.F) {
	for _, c := range normalizeCases {
		f.Add(c.in)
	}
	for _, c := range matchCases {
		f.Add(c.in)
	}
	for _, s := range []string{
		"\x00", "\xff\xfe\xfd", "\u200b", "e\u200b\u0301", "и\u200d\u0306", "α\u200b\u0301",
		"\u0301\u0301abc", "a  \u0301 b", "™\u200d", "ǅ", "İstanbul", "ΣΑΣ", "ꭓ", "ᏸ",
		"1\u0301 l\u0308", "k1 1 1", "a.b.c.d.e.f", "a - b - c", "x @y.z", "a@b.c@d",
		strings.Repeat("a", 300), strings.Repeat("1*", 80), strings.Repeat("@a ", 30),
		strings.Repeat("\u0301", 100), "ﷺ ﷻ ㍿ ﬀ", "\U0001F468\u200d\U0001F469\u200d\U0001F467\ufe0f",
	} {
		f.Add(s)
	}
}

// FuzzNormalize: Normalize never panics, its offset map stays within the
// input and never decreases, and the normal form is idempotent.
func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	var z Normalizer
	f.Fuzz(func(t *testing.T, in string) {
		n := z.Normalize(in)
		checkMap(t, in, n)
		if again := z.Normalize(n.Text); again.Text != n.Text {
			t.Fatalf("not idempotent: %q → %q → %q", in, n.Text, again.Text)
		}
		if fresh := Normalize(in); fresh.Text != z.Normalize(in).Text {
			t.Fatalf("reused Normalizer differs from a fresh one on %q", in)
		}
	})
}

var fuzzLexicon = append(append([]string{}, testLexicon...), "a", "i l", "привет", "καλημέρα", "1 2 3", "@everyone")

// FuzzMatch: every match lies within the normal form and on word
// boundaries, its original span within the input and consistent with the
// offset map, and matches come in order of their end.
func FuzzMatch(f *testing.F) {
	addSeeds(f)
	m, err := NewMatcher(fuzzLexicon)
	if err != nil {
		f.Fatal(err)
	}
	var z Normalizer
	f.Fuzz(func(t *testing.T, in string) {
		n := z.Normalize(in)
		got := m.Match(n, nil)
		for i, x := range got {
			if x.ID < 0 || x.ID >= m.Len() {
				t.Fatalf("%q: match %d has id %d", in, i, x.ID)
			}
			if x.Start < 0 || x.Start >= x.End || x.End > len(n.Text) {
				t.Fatalf("%q: match %d at [%d, %d) in %d bytes", in, i, x.Start, x.End, len(n.Text))
			}
			if x.OrigStart < 0 || x.OrigStart >= x.OrigEnd || x.OrigEnd > len(in) {
				t.Fatalf("%q: match %d original [%d, %d) in %d bytes", in, i, x.OrigStart, x.OrigEnd, len(in))
			}
			if s, e := n.Original(x.Start, x.End); s != x.OrigStart || e != x.OrigEnd {
				t.Fatalf("%q: match %d original [%d, %d), map says [%d, %d)", in, i, x.OrigStart, x.OrigEnd, s, e)
			}
			if i > 0 && x.End < got[i-1].End {
				t.Fatalf("%q: matches out of order", in)
			}
			before, _ := utf8.DecodeLastRuneInString(n.Text[:x.Start])
			after, _ := utf8.DecodeRuneInString(n.Text[x.End:])
			if x.Start > 0 && isWordRune(before) || x.End < len(n.Text) && isWordRune(after) {
				t.Fatalf("%q: match %d %q in %q is not on word boundaries", in, i, n.Text[x.Start:x.End], n.Text)
			}
		}
	})
}
