package spam

import (
	"fmt"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// ExampleFired implements detectors.ExampleChecker: it runs an example's
// messages through the detector and a fresh pair of stages, in process
// (Route), and says whether rule fired. A tier rule fires when it flags a
// message, at its severity; any other rule fires when it adds to the score
// of some message (content rules when their wording is found, the links
// rule when a link signal holds, the behaviour rule when a behaviour signal
// does), at the rule's own severity. An example is one conversation
// without account ages, so it can show content, links, first contact and
// bursts, not fan-out across conversations or new accounts: unit tests and
// the corpus cover those.
func (d *Detector) ExampleFired(rule *detectors.Rule, msgs []*event.Message) ([]detectors.Severity, error) {
	stages, err := NewStages(d.cfg.rules)
	if err != nil {
		return nil, err
	}
	contributed := false
	stages[StreamSender].(*SenderStage).trace = func(_ string, c []contrib) {
		for _, x := range c {
			if x.src.id == rule.ID {
				contributed = true
			}
		}
	}
	var sevs []detectors.Severity
	var fw []detectors.Forward
	for _, m := range msgs {
		d.Inspect(m, nil)
		fw = d.TakeForwards(fw[:0])
		flags, err := Route(fw, stages)
		if err != nil {
			return nil, fmt.Errorf("example message %s: %w", m.MessageID, err)
		}
		for _, f := range flags {
			if f.Rule == rule.ID {
				sevs = append(sevs, f.Severity)
			}
		}
	}
	if contributed {
		sevs = append(sevs, rule.Severity)
	}
	return sevs, nil
}
