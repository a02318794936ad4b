package spam_test

import (
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/spam"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

// TestGeneratedTraffic runs the generator's traffic (written for the whole
// project, not for this detector) through the chain in process, and
// measures "flagged at medium or above" against its labels: a message is
// spam when it is a spam conversation's harmful message. Everything else,
// the grooming and harassment conversations included, must stay unflagged.
//
//	go test ./detectors/spam -run GeneratedTraffic -v
func TestGeneratedTraffic(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	rules := builtinRules(t)
	d, err := spam.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	stages, err := spam.NewStages(rules)
	if err != nil {
		t.Fatal(err)
	}
	g := generator.New(7, generator.Options{})
	truth := map[string]bool{}
	label := map[string]generator.Label{}
	flagged := map[string]bool{}
	for range n {
		e := g.Next()
		m, err := event.Decode(e.Value)
		if err != nil {
			t.Fatal(err)
		}
		truth[m.MessageID] = e.Label == generator.LabelSpam && e.Harmful
		label[m.MessageID] = e.Label
		d.Inspect(m, nil)
		flags, err := spam.Route(d.(detectors.Forwarder).TakeForwards(nil), stages)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range flags {
			if f.Severity.Rank() >= detectors.Medium.Rank() {
				flagged[f.MessageID] = true
			}
		}
	}
	var c tally
	falseByLabel := map[generator.Label]int{}
	for id, isSpam := range truth {
		c.add(isSpam, flagged[id])
		if flagged[id] && !isSpam {
			falseByLabel[label[id]]++
		}
	}
	t.Logf("%d generated messages, %d spam: at medium+, precision %.3f (%d/%d), recall %.3f (%d/%d); false alarms by conversation label %v",
		n, c.tp+c.fn, c.precision(), c.tp, c.tp+c.fp, c.recall(), c.tp, c.tp+c.fn, falseByLabel)
}
