package pipeline

import (
	"fmt"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// detection is the engine together with in-process detector stages: how
// replay and backtest run the detectors as one instance would, with the
// records detectors forward to their stages handled at once, in order.
type detection struct {
	engine *detectors.Engine
	router *Router
	fwd    []detectors.Forward
	stamp  func(*detectors.Flag)
}

func newDetection(factories []detectors.Factory, set *detectors.RuleSet, opts detectors.EngineOptions) (*detection, error) {
	engine, err := detectors.NewEngine(factories, set, opts)
	if err != nil {
		return nil, err
	}
	stages, err := Stages(factories, set)
	if err != nil {
		return nil, err
	}
	eventTime := opts.Clock == nil || isEventTime(opts.Clock)
	if opts.Clock == nil {
		eventTime = false // the engine's default is the wall clock
	}
	return &detection{engine: engine, router: &Router{Stages: stages}, stamp: func(f *detectors.Flag) {
		if f.DetectedAt.IsZero() {
			if eventTime {
				f.DetectedAt = f.SentAt
			} else {
				f.DetectedAt = time.Now().UTC()
			}
		}
	}}, nil
}

// inspect appends the flags of m, and the flags stages raise on m or on
// earlier messages because of it, to out.
func (d *detection) inspect(m *event.Message, out []detectors.Flag) ([]detectors.Flag, error) {
	out = d.engine.Inspect(m, out, nil)
	if d.fwd = d.engine.TakeForwards(d.fwd[:0]); len(d.fwd) == 0 {
		return out, nil
	}
	out, err := d.router.Route(d.fwd, out, d.stamp)
	if err != nil {
		return out, fmt.Errorf("message %s: %w", m.MessageID, err)
	}
	return out, nil
}

// isEventTime reports whether clock stamps flags with their sent_at.
func isEventTime(clock detectors.Clock) bool {
	m := &event.Message{SentAt: time.Unix(1, 0)}
	return clock(m).Equal(m.SentAt)
}
