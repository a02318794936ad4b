package text

import (
	"slices"
	"testing"
)

func TestChatVariants(t *testing.T) {
	tests := []struct {
		phrase string
		want   []string // every one must be among the variants
		none   bool
	}{
		{"are you home alone", []string{"r u home alone", "are u home alone", "r you home alone"}, false},
		{"please stop", []string{"pls stop", "plz stop"}, false},
		{"you've been warned", []string{"uve been warned", "u have been warned"}, false},
		{"send a picture", nil, true},
	}
	for _, tc := range tests {
		got := ChatVariants(tc.phrase)
		if tc.none != (got == nil) {
			t.Errorf("%q: variants %v", tc.phrase, got)
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: %q missing from %v", tc.phrase, w, got)
			}
		}
		if slices.Contains(got, tc.phrase) || len(got) > MaxChatVariants {
			t.Errorf("%q: %d variants %v, want at most %d without the phrase itself", tc.phrase, len(got), got, MaxChatVariants)
		}
	}
	if got := ChatVariants("you you you you you you"); len(got) != MaxChatVariants {
		t.Errorf("a phrase with 2^6 spellings gives %d variants, want the cap %d", len(got), MaxChatVariants)
	}
}
