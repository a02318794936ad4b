// Package keyword is the lexicon detector: it flags messages that contain
// known harmful phrases, and escalates when one sender keeps harassing in a
// conversation.
//
// The rules are data, in the embedded rules.yaml. Each rule has a category,
// a severity, a score, a list of phrases and examples that must and must not
// match; the examples are checked whenever the rules are loaded, so a rules
// edit that breaks one fails at start-up and in tests.
//
// Matching is on words, never on substrings: a text is lower-cased and split
// into runs of letters and digits (apostrophes inside words kept), and a
// phrase matches only as a whole sequence of words, so "kill" does not match
// "skill" and "ass" does not match "Scunthorpe". Punctuation between words
// is ignored ("bit.ly" is the words "bit" "ly"). Phrases with apostrophes
// also match written without them ("don't" and "dont"). A match whose words
// all lie inside quotation marks is reported at low severity with half the
// score: quoted text is often someone reporting what was said to them.
//
// The detector reports at most one finding per rule per message: the first
// match in the text. Its one piece of state is the escalation rule, which
// counts messages per (conversation, sender) in a window of event time.
package keyword

import (
	_ "embed"
	"fmt"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// Name is the detector name stored in every flag it raises.
const Name = "keyword"

//go:embed rules.yaml
var defaultRules []byte

// DefaultRules parses the embedded rules.yaml.
func DefaultRules() (*Ruleset, error) {
	return Parse("rules.yaml", defaultRules)
}

// Factory returns the registry entry of the keyword detector.
func Factory() detectors.Factory {
	return detectors.Factory{
		Name:        Name,
		Description: "lexicon of grooming, harassment and spam phrases (rules.yaml), with harassment escalation per conversation",
		New: func([]*detectors.Rule) (detectors.Detector, error) {
			return New()
		},
	}
}

// New returns a keyword detector with the embedded rules.
func New() (detectors.Detector, error) {
	rs, err := DefaultRules()
	if err != nil {
		return nil, fmt.Errorf("keyword: %w", err)
	}
	return NewDetector(rs), nil
}

// Detector is the keyword detector. Like every detector it is used by one
// goroutine at a time; several instances may share one Ruleset.
type Detector struct {
	rs  *Ruleset
	m   *matcher
	esc *escalationState // nil when the rules have no escalation
}

// NewDetector returns a detector applying rs.
func NewDetector(rs *Ruleset) *Detector {
	d := &Detector{rs: rs, m: newMatcher(rs)}
	if rs.escalation != nil {
		d.esc = newEscalationState(*rs.escalation)
	}
	return d
}

// Name implements detectors.Detector.
func (d *Detector) Name() string { return Name }

// Inspect implements detectors.Detector.
func (d *Detector) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	hits := d.m.match(m.Text)
	counted := -1 // the first hit that counts towards escalation
	for i, h := range hits {
		r := &d.rs.rules[h.rule]
		severity, score := r.Severity, r.Score
		if h.quoted {
			severity, score = detectors.Low, score/2
		}
		out = append(out, detectors.Finding{
			Rule:     r.ID,
			Category: r.Category,
			Severity: severity,
			Score:    score,
			Start:    h.start,
			End:      h.end,
		})
		if counted < 0 && d.esc != nil && r.Category == d.esc.cfg.Category && severity.Rank() >= d.esc.cfg.MinSeverity.Rank() {
			counted = i
		}
	}
	if d.esc == nil {
		return out
	}
	d.esc.evictIdle(m.SentAt)
	if counted < 0 {
		return out
	}
	cfg := &d.esc.cfg
	n := d.esc.record(m.ConversationID, m.Sender.ID, m.SentAt)
	if n < cfg.Messages {
		return out
	}
	h := hits[counted]
	return append(out, detectors.Finding{
		Rule:     cfg.ID,
		Category: cfg.Category,
		Severity: cfg.Severity,
		Score:    cfg.Score,
		Start:    h.start,
		End:      h.end,
		Evidence: fmt.Sprintf("%d messages from this sender matched %s rules within %s; this one: %s",
			n, cfg.Category, cfg.Window, detectors.Excerpt(m.Text, h.start, h.end, detectors.DefaultEvidenceContext)),
	})
}
