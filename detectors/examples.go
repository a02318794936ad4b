package detectors

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/goshawk-safety/goshawk/event"
)

// ExampleStart is the sent_at of an example conversation's first message: a
// weekday afternoon. Later messages follow by their After.
var ExampleStart = time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)

// ExampleMessages turns an example into message events.
func ExampleMessages(rule *Rule, ex Example) []*event.Message {
	return Conversation("example:"+rule.ID+":"+strconv.Itoa(ex.Source.Line), ex.Messages)
}

// Conversation turns messages into the events of one conversation: every
// distinct From is a participant (plus "recipient" when there is only one),
// each message goes to all the others, a person's age is the first one
// declared, and sent_at starts at a fixed weekday afternoon and advances by
// each message's After.
func Conversation(id string, msgs []ExampleMessage) []*event.Message {
	var people []string
	ages := map[string]*int{}
	for _, m := range msgs {
		if _, ok := ages[m.From]; !ok {
			people = append(people, m.From)
			ages[m.From] = nil
		}
		if m.Age != nil && ages[m.From] == nil {
			ages[m.From] = m.Age
		}
	}
	if len(people) == 1 {
		people = append(people, "recipient")
	}
	at := ExampleStart
	out := make([]*event.Message, len(msgs))
	for i, m := range msgs {
		if i > 0 {
			at = at.Add(m.After)
		}
		msg := &event.Message{
			MessageID:      id + "-m" + strconv.Itoa(i+1),
			ConversationID: id,
			SentAt:         at,
			Sender:         event.Participant{ID: m.From, Age: ages[m.From]},
			Text:           m.Text,
		}
		for _, p := range people {
			if p != m.From {
				msg.Recipients = append(msg.Recipients, event.Participant{ID: p, Age: ages[p]})
			}
		}
		out[i] = msg
	}
	return out
}

// ExampleChecker is implemented by a detector whose rules do not each raise
// their own findings from Inspect: one that forwards what it sees to its
// stages (see Stage), where several rules add up to one score. CheckExamples
// then asks the detector, instead of reading Inspect's findings, at which
// severities rule fired on an example's messages; the detector runs them in
// order through a fresh instance of itself and of its stages.
type ExampleChecker interface {
	ExampleFired(rule *Rule, msgs []*event.Message) ([]Severity, error)
}

// CheckExamples runs every example of every running rule (mode live or
// shadow) through a fresh instance of its detector, with all of that
// detector's rules loaded, and reports each example that does not behave as
// stated, with its file and line. Both `go test` and `goshawk rules test`
// call it, so a rule with a failing example never ships.
func CheckExamples(factories []Factory, set *RuleSet) error {
	var errs []error
	for _, f := range factories {
		rules := set.For(f.Name)
		if _, err := f.New(rules); err != nil {
			// The detector refuses its rules: report that once, not per example.
			errs = append(errs, fmt.Errorf("detector %s: %w", f.Name, err))
			continue
		}
		for _, rule := range rules {
			for _, ex := range rule.Examples {
				if err := checkExample(f, rules, rule, ex); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

func checkExample(f Factory, rules []*Rule, rule *Rule, ex Example) error {
	d, err := f.New(rules)
	if err != nil {
		return &RuleError{Source: rule.Source, Rule: rule.ID, Msg: fmt.Sprintf("detector %s: %v", f.Name, err)}
	}
	var fired []Finding
	if c, ok := d.(ExampleChecker); ok {
		sevs, err := c.ExampleFired(rule, ExampleMessages(rule, ex))
		if err != nil {
			return &RuleError{Source: ex.Source, Rule: rule.ID, Field: "examples", Msg: err.Error()}
		}
		for _, sev := range sevs {
			fired = append(fired, Finding{Rule: rule.ID, Severity: sev})
		}
	} else {
		var findings []Finding
		for _, m := range ExampleMessages(rule, ex) {
			findings = d.Inspect(m, findings[:0])
			for _, fd := range findings {
				if fd.Rule == rule.ID {
					fired = append(fired, fd)
				}
			}
		}
	}
	text := ex.Messages[len(ex.Messages)-1].Text
	switch {
	case ex.Match && len(fired) == 0:
		return &RuleError{Source: ex.Source, Rule: rule.ID, Field: "examples", Msg: fmt.Sprintf("expected a match, got none (%.60q)", text)}
	case !ex.Match && len(fired) > 0:
		return &RuleError{Source: ex.Source, Rule: rule.ID, Field: "examples", Msg: fmt.Sprintf("expected no match, got one at %s (%.60q)", fired[0].Severity, text)}
	case ex.Match && ex.Severity != "":
		for _, fd := range fired {
			if fd.Severity == ex.Severity {
				return nil
			}
		}
		return &RuleError{Source: ex.Source, Rule: rule.ID, Field: "examples", Msg: fmt.Sprintf("expected severity %s, got %s (%.60q)", ex.Severity, fired[0].Severity, text)}
	}
	return nil
}
