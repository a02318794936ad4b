package builtin_test

import (
	"slices"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/event"
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
	factories, err := reg.Factories(nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := detectors.LoadCheckedRules(factories, nil)
	if err != nil {
		t.Fatalf("built-in rules (every rule's examples run here): %v", err)
	}
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
