package text

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// unionLexicons are three lexicons that overlap as detectors' do: shared
// phrases ("kill", "secret"), one part's phrase a prefix or suffix of
// another's ("kill" / "kill yourself", "loser" / "you are a loser"), and
// the ambiguous spellings of the matcher ('1', masks, stretched letters).
var unionLexicons = [][]string{
	{"kys", "kill", "kill yourself", "stupid", "loser", "ass", "fuck", "shit", "idiot", "bitch", "сука"},
	{"kill", "you are a loser", "our little secret", "secret", "don't tell anyone", "kiss", "good", "god", "a", "i l"},
	{"free gift card", "paypal", "www", "lol", "too", "hello", "secret", "1 2 3", "@everyone", "привет", "καλημέρα"},
}

func unionParts(t testing.TB) []*Matcher {
	t.Helper()
	parts := make([]*Matcher, len(unionLexicons))
	for i, lex := range unionLexicons {
		m, err := NewMatcher(lex)
		if err != nil {
			t.Fatal(err)
		}
		parts[i] = m
	}
	return parts
}

// unionTexts are the match cases' inputs, the chat lines of
// testdata/messages.txt, and texts with many ambiguous characters.
func unionTexts(t testing.TB) []string {
	t.Helper()
	var texts []string
	for _, c := range matchCases {
		texts = append(texts, c.in)
	}
	f, err := os.Open("testdata/messages.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		texts = append(texts, s.Text())
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return append(texts,
		"k1ll k111 1d10t 1 1 1 l0l @ss @everyone", "f*ck sh#t a** *k*i*s*s* ****", strings.Repeat("1", 80),
		"kiiiill yourseeeelf y0u are a 1oser, our 1ittle secret", "k y s k.i.l.l y-o-u-r-s-e-l-f",
		"f*ck y*u a*e a l*ser ** ** sec*et", "ｋｉｌｌ ｙｏｕｒｓｅｌｆ сука раypal",
		"dooon't tellll ur mum. keep it between us", "sooo prettyyy", "send p1cs without ur hoodie", "ur number's mine",
		"nobody's gotta know 'don't tell anyone' ok", "p1cs pleeease", "i love youuu")
}

// sharedFrameSpecs are three frame sets that share words and classes, with
// words that only their other readings find (stretched, '1' for i or l,
// possessive).
var sharedFrameSpecs = [][]string{
	{"{negation} ~2 {tell} ~3 {guardian}", "{keep} ~2 between us|ourselves", "so ~1 pretty", "^ {kin} $"},
	{"{offer} ~2 {fetch} ~2 {you}", "send+ ~2 {picture} ~3 {clothing}", "{nobody} ~2 has|needs|gets? ~1 to? {know}"},
	{"{negation} ~2 {tell} ~1 anyone", "number ~2 is|was? ~1 {you}", "love ~1 {you} $", "pics ~3 please"},
}

func sharedFrameSets(t testing.TB) []*FrameSet {
	t.Helper()
	sets := make([]*FrameSet, len(sharedFrameSpecs))
	for i, specs := range sharedFrameSpecs {
		fs, err := CompileFrames(specs)
		if err != nil {
			t.Fatal(err)
		}
		sets[i] = fs
	}
	return sets
}

// checkUnion normalises each text with s and fails where a part's matches
// through s differ from the part's own, or a frame set's matches through s
// from its own.
func checkUnion(t *testing.T, s *Shared, parts []*Matcher, texts []string) (phrases, frameMatches int) {
	t.Helper()
	frames := sharedFrameSets(t)
	var own, shared FrameScratch
	for _, in := range texts {
		n := s.Normalize(in)
		for i, m := range parts {
			want := m.Match(n, nil)
			if got := s.Match(m, n, nil); !slices.Equal(got, want) {
				t.Errorf("part %d on %q: shared %v, alone %v", i, in, got, want)
			}
			phrases += len(want)
		}
		for i, fs := range frames {
			want := fs.Match(n, &own, nil)
			if got := s.MatchFrames(fs, n, &shared, nil); !slices.Equal(got, want) {
				t.Errorf("frame set %d on %q: shared %v, alone %v", i, in, got, want)
			}
			frameMatches += len(want)
		}
	}
	return phrases, frameMatches
}

// TestUnionMatchesEachPartAlone: from the second text on, the matchers
// asked for one text share an automaton, and each still gets exactly its
// own matches, in its own order.
func TestUnionMatchesEachPartAlone(t *testing.T) {
	parts := unionParts(t)
	texts := unionTexts(t)
	var s Shared
	checkUnion(t, &s, parts, texts)
	if u := s.match.u; u == nil || !slices.Equal(u.parts, parts) {
		t.Fatalf("after %d texts the union is %v, want the %d parts", len(texts), u, len(parts))
	}
	// Every text through the union; the comparison must compare something.
	if phrases, frames := checkUnion(t, &s, parts, texts); phrases < 100 || frames < 10 {
		t.Fatalf("%d phrase matches and %d frame matches over %d texts: too few to compare", phrases, frames, len(texts))
	}

	// Another engine's Shared, over the same matchers, gets the same union.
	var s2 Shared
	checkUnion(t, &s2, parts, texts[:2])
	if s2.match.u != s.match.u {
		t.Error("a second Shared over the same matchers built its own union")
	}

	// A normal form that is not the last result of Normalize is matched by
	// the matcher alone.
	var z Normalizer
	other := z.Normalize("you are a loser")
	s.Normalize("hello")
	if got, want := s.Match(parts[1], other, nil), parts[1].Match(other, nil); !slices.Equal(got, want) {
		t.Errorf("another normal form: shared %v, alone %v", got, want)
	}
}

// TestForgetMatchers: after ForgetMatchers (a rule reload), the union is
// built from the matchers asked next, without the old ones.
func TestForgetMatchers(t *testing.T) {
	parts := unionParts(t)
	texts := unionTexts(t)
	var s Shared
	checkUnion(t, &s, parts, texts[:3])
	s.ForgetMatchers()
	fresh := unionParts(t) // the reloaded rules' matchers
	checkUnion(t, &s, fresh, texts)
	if u := s.match.u; u == nil || !slices.Equal(u.parts, fresh) {
		t.Fatalf("after the reload the union holds %v, want only the %d new matchers", u, len(fresh))
	}
}

// TestOneMatcherNeedsNoUnion: a detector alone (its own Shared) matches
// with its own matcher.
func TestOneMatcherNeedsNoUnion(t *testing.T) {
	parts := unionParts(t)
	var s Shared
	checkUnion(t, &s, parts[:1], unionTexts(t))
	if s.match.u != nil {
		t.Errorf("a union of one matcher was built: %v", s.match.u.parts)
	}
}

// FuzzUnion: for any text, each part's matches through the union equal
// its own.
func FuzzUnion(f *testing.F) {
	addSeeds(f)
	parts := unionParts(f)
	var s Shared
	s.Normalize("prime")
	for _, m := range parts {
		s.Match(m, s.Normalize("prime"), nil)
	}
	s.Normalize("the union is built")
	if s.match.u == nil {
		f.Fatal("no union after the first text")
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkUnion(t, &s, parts, []string{in})
	})
}

// TestSharedMatchAllocs: once its buffers have grown, matching through a
// Shared does not allocate, whether one matcher asks (no union) or three.
func TestSharedMatchAllocs(t *testing.T) {
	parts := unionParts(t)
	texts := []string{"you are a loser", "kill yourself", "our little secret", "free gift card"}
	for _, tc := range []struct {
		name  string
		parts []*Matcher
	}{{"one", parts[:1]}, {"three", parts}} {
		var s Shared
		var out []Match
		run := func() {
			for _, in := range texts {
				n := s.Normalize(in)
				for _, m := range tc.parts {
					out = s.Match(m, n, out[:0])
				}
			}
		}
		run() // grow the buffers, build the union
		if a := testing.AllocsPerRun(50, run); a != 0 {
			t.Errorf("%s matcher(s): %.1f allocations a round of %d texts", tc.name, a, len(texts))
		}
	}
}
