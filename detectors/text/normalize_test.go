package text

import (
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

// normalizeCases are inputs and their expected normal forms, grouped by
// evasion class.
var normalizeCases = []struct {
	class, in, want string
}{
	// Case and whitespace.
	{"case", "Hello World", "hello world"},
	{"case", "KILL YOURSELF", "kill yourself"},
	{"space", "  lots   of\tspace\n\nhere  ", "lots of space here"},
	{"space", "no\u00a0break\u2003em\u3000ideographic", "no break em ideographic"},
	{"space", "braille\u2800blank", "braille blank"},
	{"case", "Straße STRASSE", "strasse strasse"},

	// Invisible characters.
	{"invisible", "k\u200by\u200bs", "kys"},
	{"invisible", "k\u200cy\u200ds", "kys"},
	{"invisible", "ki\u2060ll", "kill"},
	{"invisible", "\ufeffkill", "kill"},
	{"invisible", "id\u00adiot", "idiot"},
	{"invisible", "k\u2062i\u2063l\u2064l", "kill"},
	{"invisible", "st\u202eupid", "stupid"},
	{"invisible", "lo\ufe0fser", "loser"},
	{"invisible", "ki\U000E0041ll", "kill"},
	{"invisible", "k\u034fys", "kys"},
	{"invisible", "ki\u3164ll", "kill"},
	{"invisible", "bell\x07 ring", "bell ring"},

	// NFKC compatibility forms.
	{"nfkc", "ｋｙｓ", "kys"},
	{"nfkc", "ＫＩＬＬ ＹＯＵＲＳＥＬＦ", "kill yourself"},
	{"nfkc", "𝐤𝐲𝐬", "kys"},
	{"nfkc", "𝓴𝓲𝓵𝓵", "kill"},
	{"nfkc", "𝕚𝕕𝕚𝕠𝕥", "idiot"},
	{"nfkc", "ⓚⓨⓢ", "kys"},
	{"nfkc", "ᵏⁱˡˡ", "kill"},
	{"nfkc", "ﬁnd", "find"},

	// Diacritics and decorations.
	{"marks", "kíll", "kill"},
	{"marks", "k\u0301i\u0300l\u0302l", "kill"},
	{"marks", "z̷̢a̴l̸g̵o̶ ̶t̸e̵x̶t̷", "zalgo text"},
	{"marks", "Ⓢtüpîd", "stupid"},
	{"marks", "crème brûlée", "creme brulee"},
	{"marks", "søren łódź", "soren lodz"},
	{"marks", "ᴋɪʟʟ ʏᴏᴜʀsᴇʟꜰ", "kill yourself"},
	{"marks", "ɑss", "ass"},

	// Look-alike letters.
	{"confusable", "раypal", "paypal"},
	{"confusable", "у0u", "you"},
	{"confusable", "kіll", "kill"},
	{"confusable", "ѕtupid", "stupid"},
	{"confusable", "іԁіоt", "idiot"},
	{"confusable", "ехе cat", "exe cat"},
	{"confusable", "ΚΙLL", "k1ll"},
	{"confusable", "lοser", "loser"},
	{"confusable", "ηοw", "now"},
	{"confusable", "hеllо wоrld", "hello world"},
	{"confusable", "ԁᴜmb", "dumb"},
	{"confusable", "ѕսck", "suck"},
	{"confusable", "нello", "hello"},

	// Leetspeak.
	{"leet", "y0u", "you"},
	{"leet", "h3ll0", "hello"},
	{"leet", "5h1t", "sh1t"},
	{"leet", "1d10t", "1d1ot"},
	{"leet", "n1663r", "n1gger"},
	{"leet", "l0s3r", "loser"},
	{"leet", "a55", "ass"},
	{"leet", "b1tch", "b1tch"},
	{"leet", "h8", "hb"},
	{"leet", "sh!t", "shit"},
	{"leet", "b!tch", "bitch"},
	{"leet", "a$$", "ass"},
	{"leet", "$hit", "shit"},
	{"leet", "b@stard", "bastard"},
	{"leet", "k|ll", "k1ll"},
	{"leet", "kiII", "ki11"},
	{"leet", "h€ll", "hell"},
	{"leet", "4ss", "ass"},

	// Leetspeak left alone: no letter, a number, punctuation, e-mail.
	{"not leet", "I have 2 dogs", "i have 2 dogs"},
	{"not leet", "call 555 1234", "call 555 1234"},
	{"not leet", "it costs $50!", "it costs $50!"},
	{"not leet", "US$50", "us$50"},
	{"not leet", "the 2000s", "the 2000s"},
	{"not leet", "bitch123", "bitch123"},
	{"not leet", "10x your money in 24h", "10x your money in 24h"},
	{"not leet", "see you at 3pm, 5k steps, 2gb", "see you at 3pm, 5k steps, 2gb"},
	{"not leet", "1st 2nd 3rd 4th 11th 12th", "1st 2nd 3rd 4th 11th 12th"},
	{"not leet", "im 13yo", "im 13yo"},
	{"leet", "3nd", "end"},
	{"leet", "5hit", "shit"},
	{"leet", "0nline", "online"},
	{"not leet", "hi! how are you?", "hi! how are you?"},
	{"not leet", "mail me at user@example.com", "mail me at user@example.com"},
	{"not leet", "@john hi", "@john hi"},
	{"not leet", "a | b", "a | b"},
	{"not leet", "I said hi", "i said hi"},
	{"not leet", "Idiot", "idiot"},

	// Stretched letters.
	{"stretch", "stuuuupid", "stuuupid"},
	{"stretch", "kiiiiiiill", "kiiill"},
	{"stretch", "loooooser", "loooser"},
	{"stretch", "good", "good"},
	{"stretch", "too cool", "too cool"},
	{"stretch", "noooo waaaay", "nooo waaay"},

	// Spelled-out letters.
	{"spaced", "k y s", "kys"},
	{"spaced", "k.y.s", "kys"},
	{"spaced", "k.y.s.", "kys."},
	{"spaced", "i-d-i-o-t", "idiot"},
	{"spaced", "k_y_s", "kys"},
	{"spaced", "k . y . s", "kys"},
	{"spaced", "go k i l l yourself", "go kill yourself"},
	{"spaced", "k\u200b \u200by \u200bs", "kys"},
	{"spaced", "y 0 u", "you"},
	{"spaced", "f * c k", "f*ck"},
	{"spaced", "e.g. this", "e.g. this"},
	{"spaced", "1 2 3", "1 2 3"},
	{"spaced", "k y.s", "k y.s"},
	{"spaced", "a b c.d.e", "abcde"}, // a spaced chain ends on a letter that may start one of another separator
	{"spaced", "w e   j u s t   n e e d   a   f e e", "we just need a fee"},
	// A non-ASCII character elsewhere in the text keeps the widths of the
	// spaces: NFKC leaves the segments alone, and each unit its span.
	{"spaced", "w e   j u s t   n e e d   a   f e e 😀", "we just need a fee 😀"},
	{"spaced", "p a y   £ 9 0   n o w", "pay £ 90 now"},
	{"spaced", "s i n c e   w e ' r e   t a l k i n g", "since we're talking"},
	{"spaced", "f i r s t   m o n t h ’ s   r e n t", "first month’s rent"},
	{"spaced apostrophe, spaces of two widths", "0 A '  A", "oa'a"}, // FuzzNormalize findings: a second pass reads the same
	{"spaced apostrophe among wide spaces", "0  A  A '  0", "oaa'0"},
	{"spaced", "he said ' hi ' ok", "he said ' hi ' ok"},
	{"spaced", "p a y   3 0 0   o r   i   w i l l", "pay 300 or i will"},
	{"spaced", "I a m", "iam"},
	{"spaced", "kill k y s", "kill kys"},

	// Masks stay for the matcher.
	{"mask", "f*ck", "f*ck"},
	{"mask", "SH#T", "sh#t"},
	{"mask", "*hugs*", "*hugs*"},

	// Non-Latin text stays readable.
	{"script", "Привет, как дела?", "привет, как дела?"},
	{"script", "Καλημέρα κόσμε", "καλημέρα κόσμε"},
	{"script", "ΟΔΟΣ", "οδοσ"},
	{"script", "Ёлка и йогурт", "ёлка и йогурт"},
	{"script", "नमस्ते दुनिया", "नमस्ते दुनिया"},
	{"script", "こんにちは世界", "こんにちは世界"},
	{"script", "안녕하세요", "안녕하세요"},
	{"script", "مرحبا بالعالم", "مرحبا بالعالم"},
	{"script", "Բարեւ", "բարեւ"},
	{"script", "сука", "сука"},
	{"script", "hello сука", "hello cyka"},

	// Emoji are untouched.
	{"emoji", "👨\u200d👩\u200d👧 family", "👨\u200d👩\u200d👧 family"},
	{"emoji", "❤️ love", "❤️ love"},
	{"emoji", "👍🏽 ok", "👍🏽 ok"},
	{"emoji", "🏳️\u200d🌈", "🏳️\u200d🌈"},
	{"emoji", "1️⃣ #️⃣", "1️⃣ #️⃣"},
	{"emoji", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"},
	{"emoji", "🇺🇸 kys😂", "🇺🇸 kys😂"},

	// Invalid UTF-8.
	{"invalid", "\xffkys", "\ufffdkys"},
	{"invalid", "ki\xc3ll", "ki\ufffdll"},
	{"invalid", "", ""},
}

func TestNormalize(t *testing.T) {
	if len(normalizeCases) < 60 {
		t.Fatalf("only %d cases", len(normalizeCases))
	}
	var z Normalizer
	for _, c := range normalizeCases {
		got := z.Normalize(c.in).Text
		if got != c.want {
			t.Errorf("%s: Normalize(%q) = %q, want %q", c.class, c.in, got, c.want)
		}
		if again := Normalize(got).Text; again != got {
			t.Errorf("%s: not idempotent: %q → %q → %q", c.class, c.in, got, again)
		}
	}
}

// TestOriginal checks that the span of a whole-text match is exactly what
// the sender typed, and spans of parts.
func TestOriginal(t *testing.T) {
	cases := []struct {
		in, text string
		sub      string // part of text
		orig     string // its source
	}{
		{"k\u200by\u200bs", "kys", "kys", "k\u200by\u200bs"},
		{"k\u200by\u200bs", "kys", "y", "y"},
		{"ｋｙｓ", "kys", "kys", "ｋｙｓ"},
		{"ｋｙｓ", "kys", "y", "ｙ"},
		{"у0u", "you", "you", "у0u"},
		{"у0u", "you", "o", "0"},
		{"go k.y.s now", "go kys now", "kys", "k.y.s"},
		{"stuuuuupid!", "stuuupid!", "stuuupid", "stuuuuupid"},
		{"  Hello  World  ", "hello world", "world", "World"},
		{"Hello  World", "hello world", "o w", "o  W"},
		{"kíll", "kill", "kill", "kíll"},
		{"k\u0301ill", "kill", "k", "k\u0301"},
		{"Straße", "strasse", "ss", "ß"},
		{"Straße", "strasse", "s", "S"},
		{"ﬁne", "fine", "i", "ﬁ"},
		{"a$$", "ass", "ss", "$$"},
		{"\xffkys", "\ufffdkys", "\ufffd", "\xff"},
		{"x 👨\u200d👩 y", "x 👨\u200d👩 y", "👨\u200d👩", "👨\u200d👩"},
	}
	var z Normalizer
	for _, c := range cases {
		n := z.Normalize(c.in)
		if n.Text != c.text {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, n.Text, c.text)
			continue
		}
		i := strings.Index(n.Text, c.sub)
		if i < 0 {
			t.Fatalf("%q not in %q", c.sub, n.Text)
		}
		s, e := n.Original(i, i+len(c.sub))
		if got := c.in[s:e]; got != c.orig {
			t.Errorf("Normalize(%q): Original of %q = %q, want %q", c.in, c.sub, got, c.orig)
		}
	}
}

func TestOriginalEmpty(t *testing.T) {
	n := Normalize("  ab  ")
	for _, c := range []struct{ at, want int }{{0, 2}, {1, 3}, {2, 4}} {
		if s, e := n.Original(c.at, c.at); s != c.want || e != c.want {
			t.Errorf("Original(%d, %d) = %d, %d, want %d", c.at, c.at, s, e, c.want)
		}
	}
	var zero Normalized
	if s, e := zero.Original(0, 0); s != 0 || e != 0 {
		t.Errorf("zero Original(0, 0) = %d, %d", s, e)
	}
	defer func() {
		if recover() == nil {
			t.Error("Original out of range did not panic")
		}
	}()
	n.Original(0, 3)
}

// checkMap verifies the offset map's invariants, reporting the first
// violation.
func checkMap(t testing.TB, in string, n Normalized) {
	t.Helper()
	if n.Source() != in {
		t.Fatalf("Source() = %q, want %q", n.Source(), in)
	}
	if len(n.lo) != len(n.Text) || len(n.hi) != len(n.Text) {
		t.Fatalf("map has %d/%d entries for %d bytes", len(n.lo), len(n.hi), len(n.Text))
	}
	if !utf8.ValidString(n.Text) {
		t.Fatalf("Normalize(%q) = %q: invalid UTF-8", in, n.Text)
	}
	if strings.ContainsAny(n.Text, "\x00\t\n\r") || strings.HasPrefix(n.Text, " ") || strings.HasSuffix(n.Text, " ") || strings.Contains(n.Text, "  ") {
		t.Fatalf("Normalize(%q) = %q: control characters or unnormalised spaces", in, n.Text)
	}
	for i := range n.Text {
		lo, hi := int(n.lo[i]), int(n.hi[i])
		if lo < 0 || hi > len(in) || lo >= hi {
			t.Fatalf("Normalize(%q) = %q: byte %d maps to [%d, %d)", in, n.Text, i, lo, hi)
		}
		if i > 0 && (lo < int(n.lo[i-1]) || hi < int(n.hi[i-1])) {
			t.Fatalf("Normalize(%q) = %q: map decreases at byte %d", in, n.Text, i)
		}
		if utf8.ValidString(in) && (!utf8.RuneStart(in[lo]) || hi < len(in) && !utf8.RuneStart(in[hi])) {
			t.Fatalf("Normalize(%q) = %q: byte %d maps inside a character [%d, %d)", in, n.Text, i, lo, hi)
		}
	}
}

func TestOffsetMapInvariants(t *testing.T) {
	var z Normalizer
	for _, c := range normalizeCases {
		checkMap(t, c.in, z.Normalize(c.in))
	}
	for _, m := range loadMessages(t) {
		checkMap(t, m, z.Normalize(m))
	}
}

// TestReuse checks that the result of one call survives being passed to
// the next, and that a Normalizer gives the same results as fresh ones.
func TestReuse(t *testing.T) {
	var z Normalizer
	for _, c := range normalizeCases {
		n := z.Normalize(c.in)
		again := z.Normalize(n.Text)
		if again.Text != c.want {
			t.Errorf("Normalize(Normalize(%q).Text) with one Normalizer = %q, want %q", c.in, again.Text, c.want)
		}
	}
}

func TestNormalizeAllocs(t *testing.T) {
	msgs := loadMessages(t)
	var z Normalizer
	for _, m := range msgs { // warm the buffers up
		z.Normalize(m)
	}
	allocs := testing.AllocsPerRun(10, func() {
		for _, m := range msgs {
			z.Normalize(m)
		}
	})
	if allocs != 0 {
		t.Errorf("Normalize allocates %.1f times per %d messages, want 0", allocs, len(msgs))
	}
}

func TestSharedNormalizesEachTextOnce(t *testing.T) {
	var s Shared
	a := strings.Repeat("Y0U are a l0ser ", 3)
	b := strings.Clone(a) // same bytes, other memory
	c := strings.Replace(a, "l0ser", "w1nner", 1)
	first := s.Normalize(a)
	if first.Text != Normalize(a).Text {
		t.Fatalf("Shared gives %q, Normalize %q", first.Text, Normalize(a).Text)
	}
	again := s.Normalize(a)
	if unsafe.StringData(again.Text) != unsafe.StringData(first.Text) {
		t.Error("the same string was normalised again instead of reusing the result")
	}
	if got := s.Normalize(b); got.Text != first.Text || got.Source() != b {
		t.Errorf("equal text in other memory: %q from %q", got.Text, got.Source())
	}
	if got := s.Normalize(c); got.Text != Normalize(c).Text {
		t.Errorf("a different text gave %q, want %q", got.Text, Normalize(c).Text)
	}
	prev := s.Normalize(a)
	if got := s.Normalize(prev.Text); got.Text != Normalize(prev.Text).Text {
		t.Errorf("the previous result's Text as input gave %q", got.Text)
	}
}
