package text

import "testing"

func TestFindPhoneAndEmail(t *testing.T) {
	tests := []struct {
		text         string
		phone, email string // the span found, "" for none
	}{
		{"text me instead, 07700 900123", "07700 900123", ""},
		{"my number is +44 (0)20 7946 0958, call after 8", "+44 (0)20 7946 0958", ""},
		{"call 555-867-5309 tonight", "555-867-5309", ""},
		{"mail me: sam.taylor+x@mail.example.co.uk.", "", "sam.taylor+x@mail.example.co.uk"},
		{"the match starts at 19:30, 2 goals in 10 minutes", "", ""},
		{"practice moved to 12.03.2026, order 2026-03-12", "", ""},
		{"my score was 1234567pts", "", ""},
		{"1234567890123456789", "", ""},
		{"email me at @someone or user@localhost", "", ""},
	}
	for _, tc := range tests {
		span := func(find func(string) (int, int)) string {
			s, e := find(tc.text)
			if s < 0 {
				return ""
			}
			return tc.text[s:e]
		}
		if got := span(FindPhone); got != tc.phone {
			t.Errorf("FindPhone(%q) = %q, want %q", tc.text, got, tc.phone)
		}
		if got := span(FindEmail); got != tc.email {
			t.Errorf("FindEmail(%q) = %q, want %q", tc.text, got, tc.email)
		}
	}
}
