package harassment_test

import (
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors/detectortest"
	"github.com/goshawk-safety/goshawk/detectors/harassment"
)

// A message delivered again (after a rebalance or a failed commit) to an
// instance that kept its state must not count twice towards escalation.
func TestRedeliveryDoesNotEscalate(t *testing.T) {
	conv := detectortest.Conversation("c",
		detectortest.Msg{From: "a", Text: "you are worthless"},
		detectortest.Msg{From: "a", Text: "you're a pathetic loser", After: time.Minute},
	)
	// Delivered, then both delivered again in order.
	flags := detectortest.Run(t, harassment.Factory(), nil, append(conv, conv...))
	for _, f := range flags {
		if f.Rule == "harassment.escalation" {
			t.Fatalf("two insulting messages, each delivered twice, escalated: %+v", f)
		}
	}
	// A genuinely new third message does escalate.
	third := detectortest.Conversation("c",
		detectortest.Msg{From: "a", Text: "you are worthless"},
		detectortest.Msg{From: "a", Text: "you're a pathetic loser", After: time.Minute},
		detectortest.Msg{From: "a", Text: "nobody likes you, idiot", After: time.Minute},
	)
	flags = detectortest.Run(t, harassment.Factory(), nil, append(append(conv, conv...), third[2]))
	escalated := false
	for _, f := range flags {
		escalated = escalated || f.Rule == "harassment.escalation"
	}
	if !escalated {
		t.Fatal("the third distinct insulting message did not escalate")
	}
}
