package spam

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

func TestScanArtefacts(t *testing.T) {
	wallet := hashArtefact(artWallet, "0x52908400098527886e0f7030069857d2e4169ee7", true)
	phone := hashArtefact(artPhone, "700900123", false)
	for _, tc := range []struct {
		text string
		want []uint64
	}{
		{"send to 0x52908400098527886E0F7030069857D2E4169EE7 and get double", []uint64{wallet}},
		{"wallet: 0x52908400098527886e0f7030069857d2e4169ee7.", []uint64{wallet}},
		{"btc bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq now", []uint64{hashArtefact(artWallet, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", true)}},
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", []uint64{hashArtefact(artWallet, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", false)}},
		{"call +44 7700 900123 today", []uint64{phone}},
		{"call (0)7700-900-123", []uint64{phone}},
		{"whatsapp wa.me/447700900123", []uint64{phone}},
		{"add @Crypto_Kate on telegram", []uint64{hashArtefact(artHandle, "crypto_kate", true)}},
		{"or t.me/crypto_kate", []uint64{hashArtefact(artHandle, "crypto_kate", true)}},
		{"https://www.Example.com/Claim/ and http://example.com/claim", []uint64{hashArtefact(artLink, "example.com/claim", true)}},
		{"send $100 to $FlipKingLegit now", []uint64{hashArtefact(artTag, "flipkinglegit", true)}},
		{"$flipkinglegit", []uint64{hashArtefact(artTag, "flipkinglegit", true)}},
		{"it was $100, or $1.5k, $ab", nil},
		{"mail me at kate@example.com", nil},
		{"see you at 3pm, it costs £12.50, order 12345", nil},
		{"I have 2 dogs and 3 cats", nil},
		{"the 2026-03-10 meeting", nil},
		{"1234567890123456789 is too long for a phone", nil},
		{"a b @x c", nil},
		{"", nil},
	} {
		got := scanArtefacts(tc.text, nil)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: %x, want %x", tc.text, got, tc.want)
		}
	}
	if n := len(scanArtefacts("@aaa @bbb @ccc @ddd @eee", nil)); n != maxArtefacts {
		t.Errorf("%d artefacts, want at most %d", n, maxArtefacts)
	}
	if a := testing.AllocsPerRun(100, func() {
		scanArtefacts("add @Crypto_Kate, wallet 0x52908400098527886e0f7030069857d2e4169ee7", make([]uint64, 0, 3))
	}); a != 0 {
		t.Errorf("%v allocations a message without a phone number", a)
	}
}

// TestArtefactFanout: twelve paraphrases, each in its own words but with
// one wallet, sent to twelve conversations by four new accounts, share no
// fingerprint; the wallet makes them one campaign at the content fan-out
// level.
func TestArtefactFanout(t *testing.T) {
	texts := []string{
		"hello friend, my mentor doubled my savings, send to %s and see",
		"I tried this last week and it works: deposit at %s",
		"you deserve better returns, the address is %s",
		"my uncle showed me this, transfer to %s tonight",
	}
	const wallet = "0x52908400098527886e0f7030069857d2e4169ee7"
	for _, tc := range []struct {
		name, artefact string
		want           uint32 // the conversations level reached
	}{
		{"one wallet", wallet, 10},
		{"no artefact", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDetector(t)
			fp, err := newFingerprintStage(builtinRules(t))
			if err != nil {
				t.Fatal(err)
			}
			var fw []detectors.Forward
			for i := range 12 {
				text := strings.ReplaceAll(texts[i%4], "%s", tc.artefact)
				d.Inspect(ev(fmt.Sprintf("m%d", i), fmt.Sprintf("c%d", i), fmt.Sprintf("s%d", i%4), fmt.Sprintf("r%d", i), time.Duration(i)*time.Minute, text), nil)
				for _, f := range d.TakeForwards(nil) {
					if f.Stream == StreamFingerprint {
						fw = append(fw, f)
					}
				}
			}
			got, _ := signals(t, fp, fw...)
			for i := range 12 {
				if lv := got[fmt.Sprintf("m%d", i)][0]; lv != tc.want {
					t.Errorf("m%d: conversations level %d, want %d (%v)", i, lv, tc.want, got)
				}
			}
		})
	}
}

func FuzzScanArtefacts(f *testing.F) {
	for _, s := range []string{"0x52908400098527886e0f7030069857d2e4169ee7", "+44 7700 900123", "@kate t.me/x wa.me/1234567890", "https://a.b/c", "((((", "+ - - 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := scanArtefacts(s, nil)
		if len(got) > maxArtefacts {
			t.Fatalf("%d artefacts", len(got))
		}
		if !slices.Equal(got, scanArtefacts(s, nil)) {
			t.Fatal("not deterministic")
		}
		for _, h := range got {
			if k := artefactKey(h); len(k) != 18 {
				t.Fatalf("key %q", k)
			}
		}
	})
}
