package harassment

import (
	"strings"

	"github.com/goshawk-safety/goshawk/detectors/text"
)

// Contact details in the original text, for rules with `requires:` (the
// doxxing rule). Hand-written scanners, no regular expressions:
//
//   - a phone number or an email address, as the shared text layer reads
//     them (text.FindPhone, text.FindEmail);
//   - a street address is a house number (1 to 5 digits, optionally one
//     letter: "42", "12b") followed by one to four words and a street word
//     ("42 Elm Street", "12b Baker St", "7 Rue de la Paix" is not one), or a
//     UK postcode ("SW1A 1AA", "M1 1AE").

// contacts is a bit set of needPhone, needAddress, needEmail.
func contacts(s string) uint8 {
	var c uint8
	if hasPhone(s) {
		c |= needPhone
	}
	if strings.IndexByte(s, '@') >= 0 && hasEmail(s) {
		c |= needEmail
	}
	if hasAddress(s) {
		c |= needAddress
	}
	return c
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }

func hasPhone(s string) bool {
	start, _ := text.FindPhone(s)
	return start >= 0
}

func hasEmail(s string) bool {
	start, _ := text.FindEmail(s)
	return start >= 0
}

// streetWords end a street address, lower case, without a final dot.
var streetWords = map[string]bool{
	"street": true, "st": true, "road": true, "rd": true, "avenue": true, "ave": true, "av": true, "lane": true, "ln": true,
	"drive": true, "dr": true, "close": true, "way": true, "court": true, "ct": true, "crescent": true, "cres": true,
	"place": true, "pl": true, "boulevard": true, "blvd": true, "terrace": true, "grove": true, "gardens": true,
	"gdns": true, "square": true, "sq": true, "parkway": true, "pkwy": true, "highway": true, "hwy": true, "row": true,
	"mews": true, "walk": true, "circle": true, "cir": true, "trail": true, "view": true,
}

// hasAddress reports whether s has a house number followed by a street, or
// a UK postcode.
func hasAddress(s string) bool {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' })
	for i, w := range words {
		if isHouseNumber(w) {
			for k := i + 1; k < len(words) && k <= i+5; k++ {
				x := strings.ToLower(strings.TrimRight(words[k], ".!?;:"))
				if streetWords[x] && k > i+1 {
					return true
				}
				if x == "" || isDigit(x[0]) {
					break
				}
			}
		}
		if i+1 < len(words) && isPostcodeOut(w) && isPostcodeIn(strings.TrimRight(words[i+1], ".!?;:")) {
			return true
		}
	}
	return false
}

// isHouseNumber: 1 to 5 digits, optionally one letter ("12b").
func isHouseNumber(w string) bool {
	n := 0
	for n < len(w) && isDigit(w[n]) {
		n++
	}
	if n == 0 || n > 5 {
		return false
	}
	rest := w[n:]
	return rest == "" || len(rest) == 1 && (rest[0] >= 'a' && rest[0] <= 'z' || rest[0] >= 'A' && rest[0] <= 'Z')
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// isPostcodeOut is the outward code of a UK postcode: A9, A99, AA9, AA99,
// A9A, AA9A, in capitals.
func isPostcodeOut(w string) bool {
	if len(w) < 2 || len(w) > 4 || !isUpper(w[0]) {
		return false
	}
	i := 1
	if isUpper(w[i]) {
		i++
	}
	if i >= len(w) || !isDigit(w[i]) {
		return false
	}
	i++
	if i < len(w) && (isDigit(w[i]) || isUpper(w[i])) {
		i++
	}
	return i == len(w)
}

// isPostcodeIn is the inward code: 9AA.
func isPostcodeIn(w string) bool {
	return len(w) == 3 && isDigit(w[0]) && isUpper(w[1]) && isUpper(w[2])
}
