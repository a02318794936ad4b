package harassment_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors/detectortest"
	"github.com/goshawk-safety/goshawk/detectors/harassment"
	"github.com/goshawk-safety/goshawk/event"
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

// A run of unanswered messages made only of stray UTF-8 continuation bytes
// reaches the unwanted-contact escalation, whose evidence span is cut back
// to a character boundary: there is none, and the cut must stop at 0
// (found by FuzzInspect).
func TestEscalationOnTextWithoutCharacterBoundary(t *testing.T) {
	d := newDetector(t)
	text := strings.Repeat("\xb3", 81)
	start := time.Date(2026, 3, 2, 16, 0, 0, 0, time.UTC)
	for i := range 12 {
		m := &event.Message{MessageID: fmt.Sprintf("m%d", i), ConversationID: "c", SentAt: start.Add(time.Duration(i) * time.Minute),
			Sender: event.Participant{ID: "a"}, Recipients: []event.Participant{{ID: "b"}}, Text: text}
		for _, f := range d.Inspect(m, nil) {
			if f.Start < 0 || f.End > len(text) || f.Start > f.End {
				t.Fatalf("finding %s has span [%d, %d) in a %d-byte text", f.Rule, f.Start, f.End, len(text))
			}
		}
	}
}
