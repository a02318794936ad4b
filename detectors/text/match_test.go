package text

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

var testLexicon = []string{
	"kys", "kill", "kill yourself", "stupid", "loser", "ass", "fuck", "shit",
	"idiot", "bitch", "good", "god", "too", "you are a loser", "hello",
	"сука", "paypal", "don't tell anyone", "our little secret", "free gift card",
	"kiss", "lol", "www",
}

func testMatcher(t testing.TB) *Matcher {
	t.Helper()
	m, err := NewMatcher(testLexicon)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// found lists "phrase=original" for every match, in order.
func found(m *Matcher, in string) []string {
	n := Normalize(in)
	var got []string
	for _, x := range m.Match(n, nil) {
		got = append(got, m.Phrase(x.ID)+"="+in[x.OrigStart:x.OrigEnd])
	}
	return got
}

var matchCases = []struct {
	class, in string
	want      []string
}{
	// Plain and multi-word.
	{"plain", "kys", []string{"kys=kys"}},
	{"plain", "you should kill yourself now", []string{"kill=kill", "kill yourself=kill yourself"}},
	{"plain", "KILL   YOURSELF!!!", []string{"kill=KILL", "kill yourself=KILL   YOURSELF"}},
	{"plain", "kill, yourself", []string{"kill=kill", "kill yourself=kill, yourself"}},
	{"plain", "you are a loser", []string{"you are a loser=you are a loser", "loser=loser"}},
	{"plain", "don't tell anyone", []string{"don't tell anyone=don't tell anyone"}},
	{"plain", "dont tell anyone ok", []string{"don't tell anyone=dont tell anyone"}},
	{"plain", "don’t tell anyone", []string{"don't tell anyone=don’t tell anyone"}},
	{"plain", "this is our little secret", []string{"our little secret=our little secret"}},
	{"plain", "", nil},
	{"plain", "nothing to see here", nil},

	// Word boundaries.
	{"boundary", "Scunthorpe", nil},
	{"boundary", "first class", nil},
	{"boundary", "assassin", nil},
	{"boundary", "she has great skill", nil},
	{"boundary", "skills killer killing", nil},
	{"boundary", "i will kill it at my interview", []string{"kill=kill"}},
	{"boundary", "bass assume passage", nil},
	{"boundary", "kill2", nil},
	{"boundary", "(kill)", []string{"kill=kill"}},
	{"boundary", "kill-yourself", []string{"kill=kill", "kill yourself=kill-yourself"}},
	{"boundary", "goodgod", nil},
	{"boundary", "#kys", []string{"kys=kys"}},
	{"boundary", "kys😂", []string{"kys=kys"}},

	// Evasions.
	{"invisible", "k\u200by\u200bs", []string{"kys=k\u200by\u200bs"}},
	{"nfkc", "ｋｙｓ", []string{"kys=ｋｙｓ"}},
	{"nfkc", "𝐤𝐢𝐥𝐥 𝐲𝐨𝐮𝐫𝐬𝐞𝐥𝐟", []string{"kill=𝐤𝐢𝐥𝐥", "kill yourself=𝐤𝐢𝐥𝐥 𝐲𝐨𝐮𝐫𝐬𝐞𝐥𝐟"}},
	{"marks", "stüpíd", []string{"stupid=stüpíd"}},
	{"confusable", "у0u are a lоser", []string{"you are a loser=у0u are a lоser", "loser=lоser"}},
	{"confusable", "раypal", []string{"paypal=раypal"}},
	{"confusable", "hello сука", []string{"hello=hello", "сука=сука"}},
	{"confusable", "привет сука", []string{"сука=сука"}},
	{"leet", "1d10t", []string{"idiot=1d10t"}},
	{"leet", "1oser", []string{"loser=1oser"}},
	{"leet", "ki11", []string{"kill=ki11"}},
	{"leet", "kiII", []string{"kill=kiII"}},
	{"leet", "k|ll", []string{"kill=k|ll"}},
	{"leet", "b1tch", []string{"bitch=b1tch"}},
	{"leet", "sh!t", []string{"shit=sh!t"}},
	{"leet", "a$$", []string{"ass=a$$"}},
	{"leet", "@ss", []string{"ass=@ss"}},
	{"leet", "l0l", []string{"lol=l0l"}},
	{"stretch", "stuuuupid", []string{"stupid=stuuuupid"}},
	{"stretch", "kiiiill", []string{"kill=kiiiill"}},
	{"stretch", "loooser", []string{"loser=loooser"}},
	{"stretch", "kiiilll", []string{"kill=kiiilll"}},
	{"stretch", "good", []string{"good=good"}},
	{"stretch", "god", []string{"god=god"}},
	{"stretch", "too", []string{"too=too"}},
	{"stretch", "kill", []string{"kill=kill"}},
	{"stretch", "gooood", []string{"god=gooood", "good=gooood"}},
	{"stretch", "to", nil},
	{"stretch", "as", nil},
	{"stretch", "asssss", []string{"ass=asssss"}},
	{"stretch", "kis", nil},
	{"stretch", "www.example.com", []string{"www=www"}},
	{"spaced", "k y s", []string{"kys=k y s"}},
	{"spaced", "k.y.s", []string{"kys=k.y.s"}},
	{"spaced", "i-d-i-o-t", []string{"idiot=i-d-i-o-t"}},
	{"spaced", "k_y_s", []string{"kys=k_y_s"}},
	{"mask", "f*ck", []string{"fuck=f*ck"}},
	{"mask", "f**k", []string{"fuck=f**k"}},
	{"mask", "sh#t", []string{"shit=sh#t"}},
	{"mask", "b*tch", []string{"bitch=b*tch"}},
	{"mask", "a**", []string{"ass=a**"}},
	{"mask", "*kiss*", []string{"kiss=kiss"}},
	{"mask", "a*", nil},
	{"mask", "f * c k", []string{"fuck=f * c k"}},
	{"combined", "Y0U ARE A L\u200bO\u200bO\u200bO\u200bSER", []string{"you are a loser=Y0U ARE A L\u200bO\u200bO\u200bO\u200bSER", "loser=L\u200bO\u200bO\u200bO\u200bSER"}},
	{"combined", "ｆ＊ｃｋ", []string{"fuck=ｆ＊ｃｋ"}},
}

func TestMatch(t *testing.T) {
	m := testMatcher(t)
	for _, c := range matchCases {
		got := found(m, c.in)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %q (normal form %q): got %q, want %q", c.class, c.in, Normalize(c.in).Text, got, c.want)
		}
	}
}

// TestMatchSpans checks a match's normalised and original spans.
func TestMatchSpans(t *testing.T) {
	m := testMatcher(t)
	n := Normalize("Oh, k.y.s you Loooooser!!")
	got := m.Match(n, nil)
	want := []struct{ text, orig string }{{"kys", "k.y.s"}, {"loooser", "Loooooser"}}
	if len(got) != len(want) {
		t.Fatalf("got %d matches: %+v", len(got), got)
	}
	for i, w := range want {
		x := got[i]
		if tx := n.Text[x.Start:x.End]; tx != w.text {
			t.Errorf("match %d: Text[%d:%d] = %q, want %q", i, x.Start, x.End, tx, w.text)
		}
		if s, e := n.Original(x.Start, x.End); s != x.OrigStart || e != x.OrigEnd {
			t.Errorf("match %d: Orig %d,%d, Original gives %d,%d", i, x.OrigStart, x.OrigEnd, s, e)
		}
		if o := n.Source()[x.OrigStart:x.OrigEnd]; o != w.orig {
			t.Errorf("match %d: original %q, want %q", i, o, w.orig)
		}
	}
}

func TestNewMatcherErrors(t *testing.T) {
	for _, p := range []string{"", "   ", "!!!", "f*ck", "sh#t you", strings.Repeat("word ", MaxPhraseWords+1), "1a1a1a1 1a1a1a1"} {
		if _, err := NewMatcher([]string{"ok", p}); err == nil {
			t.Errorf("NewMatcher accepted %q", p)
		}
	}
	m, err := NewMatcher(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Match(Normalize("anything"), nil); len(got) != 0 {
		t.Errorf("empty matcher matched %v", got)
	}
}

// TestDuplicatePhrases: phrases that normalise alike each report a match.
func TestDuplicatePhrases(t *testing.T) {
	m, err := NewMatcher([]string{"kill", "KILL", "k1ll", "kíll"})
	if err != nil {
		t.Fatal(err)
	}
	got := m.Match(Normalize("kill"), nil)
	var ids []int
	for _, x := range got {
		ids = append(ids, x.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []int{0, 1, 2, 3}) {
		t.Errorf("ids %v, want [0 1 2 3]", ids)
	}
}

// TestMatchLinear checks that thousands of phrases give the same matches as
// a handful, and that every phrase of a large lexicon is found.
func TestMatchLargeLexicon(t *testing.T) {
	lex := syntheticLexicon(10000)
	m, err := NewMatcher(lex)
	if err != nil {
		t.Fatal(err)
	}
	var z Normalizer
	var out []Match
	for id, p := range lex {
		n := z.Normalize("xx " + p + " yy")
		out = m.Match(n, out[:0])
		if !slices.ContainsFunc(out, func(x Match) bool { return x.ID == id }) {
			t.Fatalf("phrase %d %q not found in its own text", id, p)
		}
	}
}

func TestMatchAllocs(t *testing.T) {
	m, err := NewMatcher(syntheticLexicon(10000))
	if err != nil {
		t.Fatal(err)
	}
	msgs := loadMessages(t)
	var z Normalizer
	out := make([]Match, 0, 64)
	allocs := testing.AllocsPerRun(10, func() {
		for _, s := range msgs {
			out = m.Match(z.Normalize(s), out[:0])
		}
	})
	if allocs != 0 {
		t.Errorf("Normalize+Match allocates %.1f times per %d messages, want 0", allocs, len(msgs))
	}
}

// TestAmbiguityBound: a word of many ambiguous characters stays bounded and
// still matches.
func TestAmbiguityBound(t *testing.T) {
	m := testMatcher(t)
	for _, in := range []string{
		strings.Repeat("1", 200) + " kys",
		"k" + strings.Repeat("*", 100) + " kys",
		strings.Repeat("a*b*", 50) + " kys",
		strings.Repeat("1*1*", 50) + " kys",
	} {
		got := found(m, in)
		if len(got) == 0 || got[len(got)-1] != "kys=kys" {
			t.Errorf("%q…: got %v", in[:10], got)
		}
	}
}

func ExampleMatcher() {
	m, err := NewMatcher([]string{"kill yourself", "loser"})
	if err != nil {
		panic(err)
	}
	var z Normalizer
	msg := "u r such a L0\u200bOOOSER, k i l l yourself"
	n := z.Normalize(msg)
	fmt.Printf("%q\n", n.Text)
	for _, x := range m.Match(n, nil) {
		fmt.Printf("%s: %q\n", m.Phrase(x.ID), msg[x.OrigStart:x.OrigEnd])
	}
	// Output:
	// "u r such a loooser, kill yourself"
	// loser: "L0\u200bOOOSER"
	// kill yourself: "k i l l yourself"
}

// TestMatchConcurrent: one Matcher serves many goroutines, each with its
// own Normalizer (run with -race).
func TestMatchConcurrent(t *testing.T) {
	m := testMatcher(t)
	msgs := loadMessages(t)
	want := make([]int, len(msgs))
	for i, s := range msgs {
		want[i] = len(m.Match(Normalize(s), nil))
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			var z Normalizer
			var out []Match
			for i, s := range msgs {
				if out = m.Match(z.Normalize(s), out[:0]); len(out) != want[i] {
					errs <- fmt.Errorf("%q: %d matches, want %d", s, len(out), want[i])
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
