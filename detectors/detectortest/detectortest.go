// Package detectortest runs a detector over a short conversation, exactly as
// the pipeline would (rules loaded and checked, the engine, event time), so
// that a detector's tests read as "this conversation raises these flags".
package detectortest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// Msg is one message of a test conversation.
type Msg struct {
	From  string
	Age   int // declared age; 0 means not declared
	Text  string
	After time.Duration // since the previous message; 0 means one minute
}

// Conversation turns messages into events of one conversation (see
// detectors.Conversation): each message goes to every other participant,
// ages come from the first message that declares them, the first message is
// sent at detectors.ExampleStart.
func Conversation(id string, msgs ...Msg) []*event.Message {
	in := make([]detectors.ExampleMessage, len(msgs))
	for i, m := range msgs {
		in[i] = detectors.ExampleMessage{From: m.From, Text: m.Text, After: m.After}
		if m.Age > 0 {
			age := m.Age
			in[i].Age = &age
		}
		if in[i].After == 0 {
			in[i].After = time.Minute
		}
	}
	return detectors.Conversation(id, in)
}

// Rules loads and checks the factory's built-in rules with extra rule files
// over them (file name → YAML; may be nil), failing the test on any error.
func Rules(t testing.TB, f detectors.Factory, extra map[string]string) *detectors.RuleSet {
	t.Helper()
	var override fstest.MapFS
	if len(extra) > 0 {
		override = fstest.MapFS{}
		for name, data := range extra {
			override[name] = &fstest.MapFile{Data: []byte(data)}
		}
	}
	var set *detectors.RuleSet
	var err error
	if override == nil {
		set, err = detectors.LoadCheckedRules([]detectors.Factory{f}, nil)
	} else {
		set, err = detectors.LoadCheckedRules([]detectors.Factory{f}, override)
	}
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	return set
}

// Run runs the detector (with set; nil loads its built-in rules) over the
// messages in order and returns every flag.
func Run(t testing.TB, f detectors.Factory, set *detectors.RuleSet, msgs []*event.Message) []detectors.Flag {
	t.Helper()
	if set == nil {
		set = Rules(t, f, nil)
	}
	e, err := detectors.NewEngine([]detectors.Factory{f}, set, detectors.EngineOptions{Clock: detectors.EventTime})
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	var flags []detectors.Flag
	for _, m := range msgs {
		flags = e.Inspect(m, flags, nil)
	}
	return flags
}

// Expect is an expected flag: the rule, and optionally the message number
// (1-based; 0 for any) and the minimum severity.
type Expect struct {
	Rule        string
	Message     int
	MinSeverity detectors.Severity
}

// AssertFlags fails the test unless flags are exactly the expected ones:
// every Expect matched by a flag, and no flag of a rule not expected.
func AssertFlags(t testing.TB, flags []detectors.Flag, want ...Expect) {
	t.Helper()
	var problems []string
	for _, w := range want {
		found := slices.ContainsFunc(flags, func(f detectors.Flag) bool {
			return f.Rule == w.Rule &&
				(w.Message == 0 || strings.HasSuffix(f.MessageID, "-m"+strconv.Itoa(w.Message))) &&
				(w.MinSeverity == "" || f.Severity.Rank() >= w.MinSeverity.Rank())
		})
		if !found {
			problems = append(problems, fmt.Sprintf("missing: %+v", w))
		}
	}
	for _, f := range flags {
		if !slices.ContainsFunc(want, func(w Expect) bool { return w.Rule == f.Rule }) {
			problems = append(problems, fmt.Sprintf("unexpected: %s at %s on %s (%q)", f.Rule, f.Severity, f.MessageID, f.Evidence))
		}
	}
	if len(problems) > 0 {
		t.Errorf("flags differ:\n  %s", strings.Join(problems, "\n  "))
	}
}
