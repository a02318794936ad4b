package harassment

import (
	"slices"
	"strings"
)

// Contact details in the original text, for rules with `requires:` (the
// doxxing rule). Hand-written scanners, no regular expressions:
//
//   - a phone number is a run of 7 to 15 digits in groups separated by
//     single spaces, dots, dashes or parentheses, optionally after a "+"; a
//     time (19:30) or a date (12.03.2026, 2026-03-12) is not one (the same
//     reading as the contactshare detector);
//   - an email address is local@domain.tld;
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
func isPhoneChar(c byte) bool {
	return isDigit(c) || c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '+'
}

func hasPhone(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if !(isDigit(c) || c == '+' || c == '(') || i > 0 && (isDigit(s[i-1]) || isLetter(s[i-1])) {
			i++
			continue
		}
		j := i
		for j < len(s) && isPhoneChar(s[j]) {
			j++
		}
		end := j
		for end > i && !isDigit(s[end-1]) {
			end--
		}
		digits, groups := digitGroups(s[i:end])
		glued := end == j && j < len(s) && (isLetter(s[j]) || s[j] == ':')
		if digits >= 7 && digits <= 15 && !glued && !looksLikeDate(groups) {
			return true
		}
		i = max(j, i+1)
	}
	return false
}

func digitGroups(s string) (digits int, groups []int) {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
			digits++
			continue
		}
		if n > 0 {
			groups = append(groups, n)
			n = 0
		}
	}
	if n > 0 {
		groups = append(groups, n)
	}
	return digits, groups
}

func looksLikeDate(groups []int) bool {
	return slices.Equal(groups, []int{2, 2, 4}) || slices.Equal(groups, []int{4, 2, 2}) || slices.Equal(groups, []int{1, 2, 4}) || slices.Equal(groups, []int{2, 1, 4})
}

func isLocal(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomain(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-'
}

func hasEmail(s string) bool {
	for at := 0; at < len(s); at++ {
		if s[at] != '@' {
			continue
		}
		start := at
		for start > 0 && isLocal(s[start-1]) {
			start--
		}
		end := at + 1
		for end < len(s) && isDomain(s[end]) {
			end++
		}
		for end > at+1 && (s[end-1] == '.' || s[end-1] == '-') {
			end--
		}
		if start == at || end == at+1 {
			continue
		}
		domain := s[at+1 : end]
		dot := strings.LastIndexByte(domain, '.')
		if dot <= 0 || len(domain)-dot-1 < 2 {
			continue
		}
		letters := true
		for _, c := range []byte(domain[dot+1:]) {
			letters = letters && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
		}
		if letters {
			return true
		}
	}
	return false
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
