// Package contactshare flags an adult who gives a minor a phone number or an
// email address, a common step in moving a conversation off the platform
// (the grooming literature's "isolation" stage). It needs declared ages: it
// fires only on a message from a sender declared 18 or older to a recipient
// declared under 18. It keeps no state.
//
// Contact details are found by hand-written scanners, not regular
// expressions: a phone number is a run of 7 to 15 digits in groups separated
// by single spaces, dots, dashes or parentheses, optionally after a "+"; a
// time (19:30) or a date with dots (12.03.2026, 8 digits in groups of 2, 2,
// 4) is not one. An email address is local@domain.tld.
package contactshare

import (
	"embed"
	"slices"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// Name is the detector name stored in its flags.
const Name = "contactshare"

//go:embed rules.yaml
var ruleFiles embed.FS

// Factory returns the registry entry of the detector.
func Factory() detectors.Factory {
	return detectors.Factory{
		Name:        Name,
		Description: "an adult giving a minor a phone number or email address",
		RuleFields:  []string{"score", "kinds"},
		Rules:       ruleFiles,
		New:         New,
	}
}

type rule struct {
	id       string
	category detectors.Category
	severity detectors.Severity
	score    float64
	phone    bool
	email    bool
}

// Detector is a contactshare detector; it has no state.
type Detector struct {
	rules []rule
}

// New builds a detector running the given rules.
func New(rules []*detectors.Rule) (detectors.Detector, error) {
	d := &Detector{}
	for _, r := range rules {
		var spec struct {
			Score float64  `yaml:"score"`
			Kinds []string `yaml:"kinds"`
		}
		if err := r.Decode(&spec); err != nil {
			return nil, err
		}
		if spec.Score <= 0 || spec.Score > 1 {
			return nil, r.Errorf("score", "%g is not in (0, 1]", spec.Score)
		}
		if len(spec.Kinds) == 0 {
			return nil, r.Errorf("kinds", "name at least one of phone, email")
		}
		for _, k := range spec.Kinds {
			if k != "phone" && k != "email" {
				return nil, r.Errorf("kinds", "%q is not phone or email", k)
			}
		}
		d.rules = append(d.rules, rule{
			id: r.ID, category: r.Category, severity: r.Severity, score: spec.Score,
			phone: slices.Contains(spec.Kinds, "phone"), email: slices.Contains(spec.Kinds, "email"),
		})
	}
	return d, nil
}

// Name implements detectors.Detector.
func (d *Detector) Name() string { return Name }

// Inspect implements detectors.Detector.
func (d *Detector) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	if len(d.rules) == 0 || !adultToMinor(m) {
		return out
	}
	var phoneStart, phoneEnd, emailStart, emailEnd = -1, -1, -1, -1
	for _, r := range d.rules {
		start, end := -1, -1
		if r.phone {
			if phoneStart < 0 && phoneEnd != -2 {
				if phoneStart, phoneEnd = findPhone(m.Text); phoneStart < 0 {
					phoneEnd = -2 // searched, none
				}
			}
			start, end = phoneStart, phoneEnd
		}
		if start < 0 && r.email {
			if emailStart < 0 && emailEnd != -2 {
				if emailStart, emailEnd = findEmail(m.Text); emailStart < 0 {
					emailEnd = -2
				}
			}
			start, end = emailStart, emailEnd
		}
		if start >= 0 {
			out = append(out, detectors.Finding{Rule: r.id, Category: r.category, Severity: r.severity, Score: r.score, Start: start, End: end})
		}
	}
	return out
}

// adultToMinor reports whether the sender is declared an adult and some
// recipient is declared a minor.
func adultToMinor(m *event.Message) bool {
	if m.Sender.Age == nil || *m.Sender.Age < 18 {
		return false
	}
	for _, r := range m.Recipients {
		if r.Age != nil && *r.Age < 18 {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// findPhone returns the byte span of the first phone number in s, or -1.
func findPhone(s string) (int, int) {
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

// findEmail returns the byte span of the first email address in s, or -1.
func findEmail(s string) (int, int) {
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
