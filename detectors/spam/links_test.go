package spam

import (
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
)

// builtinConfig parses the built-in rules.
func builtinConfig(t testing.TB) *config {
	t.Helper()
	set, err := detectors.LoadRules([]detectors.Factory{Factory()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := parseRules(set.For(Name), true)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLinkScan(t *testing.T) {
	cfg := builtinConfig(t)
	cases := []struct {
		text string
		want linkScan
	}{
		{"no link here, just 3.5 stars and e.g. this", linkScan{}},
		{"see you at 5.30 ok.so what now", linkScan{}},
		{"mail me: sam@example.com or @sam.jones", linkScan{}},
		{"file.txt and photo.jpeg are attached", linkScan{}},
		{"https://www.example.org/club", linkScan{count: 1}},
		{"visit example.com today", linkScan{count: 1}},
		{"(example.com)", linkScan{count: 1}},
		{"join t.me/cryptosignals now", linkScan{count: 1, shortener: true}},
		{"claim: bit.ly/3xYz", linkScan{count: 1, shortener: true}},
		{"claim: HTTPS://BIT.LY/3xYz!", linkScan{count: 1, shortener: true}},
		{"hxxps://tinyurl[.]com/abc", linkScan{count: 1, shortener: true}},
		{"https://xn--80ak6aa92e.com/login", linkScan{count: 1, punycode: true, lookalike: true}}, // аррӏе in Cyrillic
		{"http://xn--pypal-4ve.com", linkScan{count: 1, punycode: true, lookalike: true}},
		{"https://xn--bcher-kva.de/buch", linkScan{count: 1, punycode: true}}, // bücher: internationalised, imitates no brand
		{"go to pаypal.com now", linkScan{count: 1, punycode: true, lookalike: true}},
		{"www.paypa1.com/login", linkScan{count: 1, lookalike: true}},
		{"paypal-secure-login.com", linkScan{count: 1, lookalike: true}},
		{"https://verifyapple.com", linkScan{count: 1, lookalike: true}},
		{"https://www.paypal.com.account-verify.ru/x", linkScan{count: 1, lookalike: true}},
		{"steamcommunlty.com/tradeoffer", linkScan{count: 1, lookalike: true}},
		{"https://arnazon.co/deal", linkScan{count: 1, lookalike: true}}, // rn for m
		{"netfllx.com", linkScan{count: 1, lookalike: true}},
		{"dlscord-gift.com/nitro", linkScan{count: 1, lookalike: true}},
		{"https://www.paypal.com/signin", linkScan{count: 1}},
		{"pay me at paypal.me/samtaylor", linkScan{count: 1}},
		{"https://steamcommunity.com/tradeoffer/new", linkScan{count: 1}},
		{"applebees.com has a deal", linkScan{count: 1}},
		{"pineapple-farm.com", linkScan{count: 1}},
		{"s3.amazonaws.com/bucket", linkScan{count: 1}},
		{"a.com b.net c.org", linkScan{count: 3}},
	}
	var z text.Normalizer
	for _, c := range cases {
		var got linkScan
		cfg.links.scan(c.text, &z, &got)
		if got != c.want {
			t.Errorf("%q: %+v, want %+v", c.text, got, c.want)
		}
	}
}

func TestPunycodeDecode(t *testing.T) {
	for in, want := range map[string]string{
		"pypal-4ve":          "pаypal",
		"80ak6aa92e":         "аррӏе",
		"bcher-kva":          "bücher",
		"mnchen-3ya":         "münchen",
		"r8jz45g":            "例え",
		"steamcommunty-eil":  "steamcommunіty",
		"e28h":               "😀",
		"abc-":               "abc",
		"ls8h":               "💩",
		"-9ta":               "",
		"zzzzzzzzzzzzzzzzzz": "",
	} {
		got, ok := punycodeDecode(in)
		if want == "" {
			if ok && in == "zzzzzzzzzzzzzzzzzz" {
				t.Errorf("punycodeDecode(%q) = %q, want failure", in, got)
			}
			continue
		}
		if !ok || got != want {
			t.Errorf("punycodeDecode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "a-!", "bcher-kv", "-"} {
		if got, ok := punycodeDecode(bad); ok && bad != "-" {
			t.Errorf("punycodeDecode(%q) = %q, accepted", bad, got)
		}
	}
}

func FuzzPunycodeDecode(f *testing.F) {
	for _, s := range []string{"pypal-4ve", "80ak6aa92e", "bcher-kva", "e28h", "", "-", "zzzz9999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := punycodeDecode(s)
		if ok && len([]rune(out)) > 63 {
			t.Fatalf("%q decoded to %d runes", s, len([]rune(out)))
		}
	})
}

func TestOneEdit(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"paypal", "paypal", false}, {"paypall", "paypal", true}, {"paypa", "paypal", true}, {"paypak", "paypal", true},
		{"papyal", "paypal", true}, {"pyapal", "paypal", true}, {"paypaal1", "paypal", false}, {"netfix", "netflix", true},
		{"", "a", true}, {"ab", "ba", true}, {"abc", "cab", false},
	} {
		if got := oneEdit(c.a, c.b); got != c.want {
			t.Errorf("oneEdit(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func FuzzLinkScan(f *testing.F) {
	for _, s := range []string{"https://xn--80ak6aa92e.com/login", "bit.ly/x", "hxxps://a[.]b(.)com", "www.", "http://", "a.com.", "..com", "xn--.com"} {
		f.Add(s)
	}
	set, err := detectors.LoadRules([]detectors.Factory{Factory()}, nil)
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := parseRules(set.For(Name), false)
	if err != nil {
		f.Fatal(err)
	}
	var z text.Normalizer
	f.Fuzz(func(t *testing.T, s string) {
		var got linkScan
		cfg.links.scan(s, &z, &got)
		if got.count < 0 || got.count > maxLinksPerMessage+1 {
			t.Fatalf("%q: %d links", s, got.count)
		}
		if (got.shortener || got.punycode || got.lookalike) && got.count == 0 {
			t.Fatalf("%q: %+v without a link", s, got)
		}
	})
}
