package builtin_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
)

func TestRegistryBuildsEveryDetector(t *testing.T) {
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"keyword", "harassment", "contactshare", "grooming", "spam"} {
		if !slices.Contains(reg.Names(), name) {
			t.Fatalf("Names() = %v, want %s among them", reg.Names(), name)
		}
	}
	factories, set := registryRules(t)
	eng, err := detectors.NewEngine(factories, set, detectors.EngineOptions{Clock: detectors.EventTime})
	if err != nil {
		t.Fatalf("building every built-in detector: %v", err)
	}
	if got := eng.DetectorNames(); !slices.Equal(got, reg.Names()) {
		t.Fatalf("engine runs %v, registry lists %v", got, reg.Names())
	}
	if !eng.Durable() {
		t.Fatal("no built-in detector keeps durable state; the grooming detector does")
	}
	m := &event.Message{
		MessageID: "m1", ConversationID: "c1", SentAt: time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC),
		Sender: event.Participant{ID: "u1"}, Recipients: []event.Participant{{ID: "u2"}},
		Text: "this is our little secret, ok?",
	}
	flags := eng.Inspect(m, nil, nil)
	if len(flags) == 0 {
		t.Fatal("no flag for a grooming secrecy phrase through the built-in registry")
	}
}

// TestEngineFlagsWhatEachDetectorFlagsAlone: the detectors of one engine
// share the text layer (one normal form and one automaton over all their
// lexicons a message); each still flags exactly what it flags on its own,
// in an engine of its own, over the same generated traffic.
func TestEngineFlagsWhatEachDetectorFlagsAlone(t *testing.T) {
	factories, set := registryRules(t)
	opts := detectors.EngineOptions{Clock: detectors.EventTime}
	all, err := detectors.NewEngine(factories, set, opts)
	if err != nil {
		t.Fatal(err)
	}
	alone := make([]*detectors.Engine, len(factories))
	for i, f := range factories {
		if alone[i], err = detectors.NewEngine([]detectors.Factory{f}, set, opts); err != nil {
			t.Fatal(err)
		}
	}
	gen := generator.New(11, generator.Options{})
	flags := 0
	for i := range 20000 {
		m, err := event.Decode(gen.Next().Value)
		if err != nil {
			t.Fatalf("generated event %d: %v", i, err)
		}
		got := all.Inspect(m, nil, nil)
		var want []detectors.Flag
		for _, e := range alone {
			want = e.Inspect(m, want, nil)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("message %d (%s): together %d flags %v, alone %d flags %v", i, m.MessageID, len(got), got, len(want), want)
		}
		flags += len(got)
	}
	if flags == 0 {
		t.Fatal("no flag in 20,000 generated events: the comparison compared nothing")
	}
	t.Logf("%d flags, the same together and alone", flags)
}

// registryRules returns every built-in detector and its built-in rules,
// each rule's examples checked.
func registryRules(t *testing.T) ([]detectors.Factory, *detectors.RuleSet) {
	t.Helper()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	factories, err := reg.Factories(nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := detectors.LoadCheckedRules(factories, nil)
	if err != nil {
		t.Fatalf("built-in rules (every rule's examples run here): %v", err)
	}
	return factories, set
}
