package spam

import (
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/goshawk-safety/goshawk/detectors/text"
)

func print(t testing.TB, s string) (uint64, int) {
	t.Helper()
	var fp fingerprinter
	return fp.simhash(text.Normalize(s))
}

// TestFingerprintOfTemplateVariants: a campaign's template filled with
// other names, amounts, links, handles and emoji, or disguised with
// look-alike letters and leetspeak, keeps its fingerprint (within the
// bands' reach).
func TestFingerprintOfTemplateVariants(t *testing.T) {
	base := "Congratulations Sarah! You have won a $500 Amazon gift card. Claim your prize now at https://bit.ly/3abcd before it expires"
	for _, v := range []string{
		"Congratulations Mike! You have won a $1000 Amazon gift card. Claim your prize now at https://tinyurl.com/zz9 before it expires",
		"Congratulations Mike!!! You have won a 500$ Walmart gift card... Claim your prize now: bit.ly/x before it expires 🎉",
		"Congratulatiοns Anna! Yοu have wοn a $500 Amazοn gift card. Claim yοur prize nοw before it expires", // Greek omicron
		"C0ngratulations J0hn! You have w0n a $500 Amaz0n gift card. Claim your prize now before it expires",
		"Congratulations @sarah_92! You have won a $500 Amazon gift card, claim your prize now before it expires www.prize-claim.top",
		"congratulations Sarah! you have won a $500 Amazon gift card. claim your prize now at https://bit.ly/3abcd before it expires",
	} {
		a, na := print(t, base)
		b, nb := print(t, v)
		if d := distance(a, b); d > 3 {
			t.Errorf("distance %d (words %d, %d) for template variant %q", d, na, nb, v)
		}
	}
}

// TestFingerprintDistances measures how far rewording moves a fingerprint:
// the fingerprint is meant for templates and light edits (a word added or
// dropped in a long text), not for paraphrase, which the content rules and
// the sender's behaviour catch instead.
func TestFingerprintDistances(t *testing.T) {
	base := "Hi dear, I am an investment manager at a trading platform. Send 500 USDT and get ten times back within a week, guaranteed returns, message me on telegram for details"
	cases := []struct {
		name    string
		text    string
		maxDist int // the bound it must stay within; -1: only reported
		minDist int // unrelated texts must be far
	}{
		{"same", base, 0, 0},
		{"names and amounts", "Hello dear, I am an investment manager at a trading platform. Send 2000 USDT and get ten times back within a week, guaranteed returns, message me on telegram for details", 3, 0},
		{"word added", "Hi dear, I am an experienced investment manager at a trading platform. Send 500 USDT and get ten times back within a week, guaranteed returns, message me on telegram for details", -1, 0},
		{"two words swapped for synonyms", "Hi dear, I am an investment advisor at a trading platform. Send 500 USDT and get ten times back within a week, guaranteed profits, message me on telegram for details", -1, 0},
		{"contraction and lower case", "hi dear, i'm an investment manager at a trading platform. send 500 usdt and get ten times back within a week, guaranteed returns, message me on telegram for details", 3, 0},
		{"unrelated", "are you coming to the match on saturday? we need a goalkeeper and Sam is away with his family", -1, 12},
	}
	a, _ := print(t, base)
	for _, c := range cases {
		b, n := print(t, c.text)
		d := distance(a, b)
		t.Logf("%-32s distance %2d (%d words)", c.name, d, n)
		if c.maxDist >= 0 && d > c.maxDist {
			t.Errorf("%s: distance %d, want at most %d", c.name, d, c.maxDist)
		}
		if d < c.minDist {
			t.Errorf("%s: distance %d, want at least %d", c.name, d, c.minDist)
		}
	}
}

func TestLowInformationTextsHaveFewWords(t *testing.T) {
	for _, s := range []string{"ok", "thanks", "lol", "ok thanks!!", "hey how are you", "lol look at this https://imgur.com/gallery/abc", "yes please", "Thank you so much!!", "hi is this still available?"} {
		if _, n := print(t, s); n >= 5 {
			t.Errorf("%q has %d content words; want fewer than 5 (no fingerprint)", s, n)
		}
	}
	if _, n := print(t, "Happy birthday, hope you have an amazing day with your family"); n < 5 {
		t.Errorf("a real sentence has %d content words", n)
	}
}

func TestBandsOfNearDuplicatesMeet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a := rng.Uint64()
		b := a
		flips := rng.IntN(bands) // 0..3 bits
		for range flips {
			b ^= 1 << rng.IntN(64)
		}
		shared := false
		for k := range bands {
			if band(a, k) == band(b, k) && bandKey(a, k) == bandKey(b, k) {
				shared = true
			}
		}
		if !shared {
			t.Fatalf("%016x and %016x (distance %d) share no band", a, b, distance(a, b))
		}
	}
	// Four bits, one in each band, can separate them: the bound is tight.
	a := uint64(0)
	b := uint64(1 | 1<<16 | 1<<32 | 1<<48)
	for k := range bands {
		if band(a, k) == band(b, k) {
			t.Fatalf("band %d shared at distance 4", k)
		}
	}
}

func TestBandKeys(t *testing.T) {
	h := uint64(0x0123456789abcdef)
	want := []string{"b0:cdef", "b1:89ab", "b2:4567", "b3:0123"}
	for k := range bands {
		key := bandKey(h, k)
		if key != want[k] {
			t.Errorf("bandKey(%x, %d) = %q, want %q", h, k, key, want[k])
		}
		b, v, ok := parseBandKey(key)
		if !ok || b != k || v != band(h, k) {
			t.Errorf("parseBandKey(%q) = %d, %x, %v", key, b, v, ok)
		}
	}
	for _, bad := range []string{"", "b4:0000", "b0:00000", "b0-0000", "c0:0000", "b0:ABCD", "b0:zzzz", "b0:+123"} {
		if _, _, ok := parseBandKey(bad); ok {
			t.Errorf("parseBandKey(%q) accepted", bad)
		}
	}
}

func TestSimhashDoesNotAllocate(t *testing.T) {
	var fp fingerprinter
	n := text.Normalize("Congratulations! You have won a $500 Amazon gift card. Claim your prize now at https://bit.ly/3abcd")
	fp.simhash(n)
	if a := testing.AllocsPerRun(100, func() { fp.simhash(n) }); a != 0 {
		t.Errorf("simhash allocates %v times", a)
	}
	if bits.OnesCount64(mix(1)) < 16 {
		t.Error("mix leaves the bits of a small input mostly zero")
	}
}
