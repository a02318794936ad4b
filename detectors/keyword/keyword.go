// Package keyword is the plain lexicon detector: it flags messages that
// contain known harmful phrases (its built-in rules cover grooming and spam
// phrases; harassment has its own detector, detectors/harassment, on the
// evasion-resistant text layer), and can escalate when one sender keeps
// matching rules of a category in a conversation (kind: escalation).
//
// Its rules are in the common rule format (see detectors.LoadRules): the
// built-in ones in the embedded rules.yaml, others in a rules directory. A
// phrase rule adds score, phrases and unless_after to the common fields; an
// escalation rule (kind: escalation) adds score, min_severity, messages,
// window, allowed_lateness and max_entries. Every rule has examples that
// must and must not match, checked whenever the rules are loaded
// (detectors.CheckExamples), so a rules edit that breaks one fails at
// start-up, on reload and in tests.
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
// match in the text. Its one piece of state is the escalation rules' count
// of messages per (conversation, sender) in a window of event time, which a
// rules reload keeps (Detector.Reload).
//
// A shadow rule runs exactly like a live one; the engine marks its flags.
// The one difference is what escalation counts: a live escalation rule
// counts matches of live rules only, so that a rule under evaluation never
// causes a live flag, while a shadow escalation rule counts both.
package keyword

import (
	"embed"
	"fmt"
	"slices"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// Name is the detector name stored in every flag it raises.
const Name = "keyword"

//go:embed rules.yaml
var builtinFS embed.FS

// Factory returns the registry entry of the keyword detector.
func Factory() detectors.Factory {
	return detectors.Factory{
		Name:        Name,
		Description: "lexicon of grooming and spam phrases (rules.yaml), with optional escalation per conversation",
		RuleFields:  slices.Clone(ruleFields),
		Rules:       builtinFS,
		New: func(rules []*detectors.Rule) (detectors.Detector, error) {
			d, err := New(rules)
			if err != nil {
				return nil, err
			}
			return d, nil
		},
	}
}

// Detector is the keyword detector. Like every detector it is used by one
// goroutine at a time.
type Detector struct {
	detectors.Watermark // the event time idle escalation entries are reclaimed by
	rs                  *ruleset
	m                   *matcher
	esc                 []*escalationState // one per escalation rule, in rs.escalations order
}

var _ detectors.Reloader = (*Detector)(nil)

// New returns a detector running rules: the keyword rules of a RuleSet
// whose mode is live or shadow (RuleSet.For). It validates their
// keyword-specific fields; every error names the file, line and field.
func New(rules []*detectors.Rule) (*Detector, error) {
	d := &Detector{}
	if err := d.Reload(rules); err != nil {
		return nil, err
	}
	return d, nil
}

// Reload implements detectors.Reloader: it switches the detector to rules,
// or returns an error and keeps the old ones. Escalation state is kept for
// every escalation rule whose id is still there, under its new
// configuration (see escalationState.reconfigure); the state of a rule that
// is gone is dropped, and a new rule starts empty. Like Inspect, it must be
// called from the goroutine that uses the detector.
func (d *Detector) Reload(rules []*detectors.Rule) error {
	rs, err := compile(rules)
	if err != nil {
		return err
	}
	// Nothing below can fail: the switch is all or nothing.
	esc := make([]*escalationState, len(rs.escalations))
	for i, cfg := range rs.escalations {
		j := slices.IndexFunc(d.esc, func(s *escalationState) bool { return s.cfg.ID == cfg.ID })
		if j < 0 {
			esc[i] = newEscalationState(cfg)
			continue
		}
		esc[i] = d.esc[j]
		esc[i].reconfigure(cfg)
	}
	d.rs, d.m, d.esc = rs, newMatcher(rs, d.m), esc
	return nil
}

// Name implements detectors.Detector.
func (d *Detector) Name() string { return Name }

// grade returns the severity and score of a hit of rule r: quoted matches
// are low, at half the score.
func grade(r *phraseRule, h hit) (detectors.Severity, float64) {
	if h.quoted {
		return detectors.Low, r.Score / 2
	}
	return r.Severity, r.Score
}

// Inspect implements detectors.Detector.
func (d *Detector) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	rs := d.rs
	hits := d.m.match(m.Text)
	for _, h := range hits {
		r := &rs.rules[h.rule]
		severity, score := grade(r, h)
		out = append(out, detectors.Finding{
			Rule:     r.ID,
			Category: r.Category,
			Severity: severity,
			Score:    score,
			Start:    h.start,
			End:      h.end,
		})
	}
	for _, s := range d.esc {
		out = s.inspect(m, rs, hits, d.Horizon(m.SentAt.UnixNano()), out)
	}
	return out
}

// inspect counts the message towards the escalation when one of its hits
// qualifies, and appends the escalation finding when the count is reached.
func (s *escalationState) inspect(m *event.Message, rs *ruleset, hits []hit, horizon int64, out []detectors.Finding) []detectors.Finding {
	cfg := &s.cfg
	counted := -1 // the first hit that counts
	for i, h := range hits {
		r := &rs.rules[h.rule]
		severity, _ := grade(r, h)
		if r.Category == cfg.Category && severity.Rank() >= cfg.MinSeverity.Rank() && (cfg.Shadow || !r.Shadow) {
			counted = i
			break
		}
	}
	s.evictIdle(horizon)
	if counted < 0 {
		return out
	}
	n := s.record(m.ConversationID, m.Sender.ID, m.SentAt)
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

// StateEntries implements detectors.StateSizer: the (conversation, sender)
// pairs its escalation rules remember.
func (d *Detector) StateEntries() int {
	n := 0
	for _, s := range d.esc {
		n += s.len()
	}
	return n
}
