package text

import "slices"

// Contact details in original text, for detectors that look for a phone
// number or an email address (contactshare, harassment's doxxing rule).
// Hand-written scanners over bytes: no regular expression, no allocation
// unless a candidate has digit groups to check.

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// FindPhone returns the byte span of the first phone number in s, or -1,
// -1. A phone number is a run of 7 to 15 digits in groups separated by
// single spaces, dots, dashes or parentheses, optionally after a "+"; a
// time (19:30), a date with dots or dashes (12.03.2026, 2026-03-12) and
// digits glued to a word (1234567pts) are not.
func FindPhone(s string) (int, int) {
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
			return i, end
		}
		i = max(j, i+1)
	}
	return -1, -1
}

func isPhoneChar(c byte) bool {
	return isDigit(c) || c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '+'
}

// digitGroups counts the digits of s and the lengths of its digit groups.
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

// looksLikeDate recognises dd.mm.yyyy and yyyy-mm-dd shapes.
func looksLikeDate(groups []int) bool {
	return slices.Equal(groups, []int{2, 2, 4}) || slices.Equal(groups, []int{4, 2, 2}) || slices.Equal(groups, []int{1, 2, 4}) || slices.Equal(groups, []int{2, 1, 4})
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }

func isLocal(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomain(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-'
}

// FindEmail returns the byte span of the first email address
// (local@domain.tld, the top-level domain of two or more letters) in s, or
// -1, -1. A dot or dash that ends the sentence is not part of it.
func FindEmail(s string) (int, int) {
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
			end-- // trailing punctuation ends the sentence, not the domain
		}
		if start == at || end == at+1 {
			continue
		}
		domain := s[at+1 : end]
		dot := -1
		for i := len(domain) - 1; i >= 0; i-- {
			if domain[i] == '.' {
				dot = i
				break
			}
		}
		if dot <= 0 || len(domain)-dot-1 < 2 {
			continue
		}
		tld := domain[dot+1:]
		letters := true
		for i := 0; i < len(tld); i++ {
			if !(tld[i] >= 'a' && tld[i] <= 'z' || tld[i] >= 'A' && tld[i] <= 'Z') {
				letters = false
			}
		}
		if letters {
			return start, end
		}
	}
	return -1, -1
}
