// Package contactshare flags an adult who gives a minor a phone number or an
// email address, a common step in moving a conversation off the platform
// (the grooming literature's "isolation" stage). It needs declared ages: it
// fires only on a message from a sender declared 18 or older to a recipient
// declared under 18. It keeps no state.
//
// Contact details are found by the shared text layer's scanners
// (text.FindPhone, text.FindEmail).
package contactshare

import (
	"embed"
	"slices"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/text"
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
				if phoneStart, phoneEnd = text.FindPhone(m.Text); phoneStart < 0 {
					phoneEnd = -2 // searched, none
				}
			}
			start, end = phoneStart, phoneEnd
		}
		if start < 0 && r.email {
			if emailStart < 0 && emailEnd != -2 {
				if emailStart, emailEnd = text.FindEmail(m.Text); emailStart < 0 {
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
