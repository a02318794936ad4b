package text

import (
	"slices"
	"testing"
)

func TestTypos(t *testing.T) {
	tests := []struct {
		word       string
		has, lacks []string
		none       bool
	}{
		{word: "idiot", has: []string{"iidot", "idoit"}, lacks: []string{"diiot", "idiot", "idot"}}, // five letters: swaps inside only
		{word: "stupid", has: []string{"stupd", "stuipd", "supid"}, lacks: []string{"tupid", "stupi", "stupid"}},
		{word: "annoying", has: []string{"anoying", "annoyng"}},
		{word: "asshole", has: []string{"ashole"}, lacks: []string{"asshole"}}, // "ss" swapped is itself
		{word: "loser", has: []string{"lsoer", "loesr"}, lacks: []string{"lose"}},
		{word: "dumb", none: true},   // too short to misspell safely
		{word: "b*tch", none: true},  // not plain letters
		{word: "f4ggot", none: true}, // not plain letters
	}
	for _, tt := range tests {
		got := Typos(tt.word)
		if tt.none {
			if len(got) != 0 {
				t.Errorf("Typos(%q) = %q, want none", tt.word, got)
			}
			continue
		}
		for _, h := range tt.has {
			if !slices.Contains(got, h) {
				t.Errorf("Typos(%q) = %q, want %q among them", tt.word, got, h)
			}
		}
		for _, l := range tt.lacks {
			if slices.Contains(got, l) {
				t.Errorf("Typos(%q) = %q, want no %q", tt.word, got, l)
			}
		}
	}
}

func BenchmarkTypos(b *testing.B) {
	for b.Loop() {
		Typos("disgusting")
	}
}
