package contactshare_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/contactshare"
	"github.com/goshawk-safety/goshawk/detectors/detectortest"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

const rule = "grooming.contact_to_minor"

func TestContactDetails(t *testing.T) {
	tests := []struct {
		text     string
		evidence string // "" means no flag
	}{
		{"text me instead, 07700 900123", "07700 900123"},
		{"my number is +44 (0)20 7946 0958, call after 8", "+44 (0)20 7946 0958"},
		{"call 555-867-5309 tonight", "555-867-5309"},
		{"(212) 555.0100", "(212) 555.0100"},
		{"mail me: sam.taylor+x@mail.example.co.uk.", "sam.taylor+x@mail.example.co.uk"},
		{"the match starts at 19:30, 2 goals in 10 minutes", ""},
		{"practice moved to 12.03.2026, bring 2 bottles", ""},
		{"order 2026-03-12 shipped", ""},
		{"I have 3 dogs and 2 cats", ""},
		{"my score was 1234567pts", ""}, // digits glued to a word
		{"email me at @someone", ""},
		{"user@localhost is not an address", ""},
		{"12345", ""},
		{"1234567890123456789", ""}, // too long for a phone number
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			flags := detectortest.Run(t, contactshare.Factory(), nil, detectortest.Conversation("c",
				detectortest.Msg{From: "adult", Age: 30, Text: tc.text},
				detectortest.Msg{From: "kid", Age: 13, Text: "ok"},
			))
			if tc.evidence == "" {
				detectortest.AssertFlags(t, flags)
				return
			}
			detectortest.AssertFlags(t, flags, detectortest.Expect{Rule: rule, Message: 1})
			if len(flags) == 1 && !strings.Contains(flags[0].Evidence, tc.evidence) {
				t.Errorf("evidence %q does not show %q", flags[0].Evidence, tc.evidence)
			}
		})
	}
}

func TestAgesDecide(t *testing.T) {
	tests := []struct {
		name           string
		sender, recipt int // 0: not declared
		want           bool
	}{
		{"adult to minor", 30, 13, true},
		{"adult of 18 to 17", 18, 17, true},
		{"adult to adult", 30, 30, false},
		{"minor to minor", 14, 13, false},
		{"minor to adult", 15, 40, false},
		{"ages unknown", 0, 0, false},
		{"recipient age unknown", 30, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flags := detectortest.Run(t, contactshare.Factory(), nil, detectortest.Conversation("c",
				detectortest.Msg{From: "s", Age: tc.sender, Text: "call me 07700 900123"},
				detectortest.Msg{From: "r", Age: tc.recipt, Text: "ok"},
			))
			if got := len(flags) > 0; got != tc.want {
				t.Errorf("flagged = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRuleFieldsAreValidated(t *testing.T) {
	for _, tc := range []struct{ name, fields, want string }{
		{"bad score", "score: 2\n    kinds: [phone]", "field score"},
		{"no kinds", "score: 0.5", "field kinds"},
		{"bad kind", "score: 0.5\n    kinds: [fax]", "field kinds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "detector: contactshare\nrules:\n  - id: grooming.contact_to_minor\n    category: grooming\n    severity: medium\n    description: d\n    owner: o\n    " +
				tc.fields + "\n    examples:\n      - text: \"07700 900123\"\n        expect: match\n"
			files := fstest.MapFS{"r.yaml": &fstest.MapFile{Data: []byte(yaml)}}
			_, err := detectors.LoadCheckedRules([]detectors.Factory{contactshare.Factory()}, files)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "r.yaml:") {
				t.Errorf("error %v does not name %q and the file", err, tc.want)
			}
		})
	}
}

func BenchmarkInspect(b *testing.B) {
	gen := generator.New(1, generator.Options{})
	msgs := make([]*event.Message, 4096)
	for i := range msgs {
		m, err := event.Decode(gen.Next().Value)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = m
	}
	set, err := detectors.LoadCheckedRules([]detectors.Factory{contactshare.Factory()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	d, err := contactshare.New(set.For(contactshare.Name))
	if err != nil {
		b.Fatal(err)
	}
	var out []detectors.Finding
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		out = d.Inspect(msgs[i%len(msgs)], out[:0])
		i++
	}
}
