package pipeline

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// processor is what a worker runs on its records: the detection engine on
// message events, or one detector stage on an internal stream.
type processor interface {
	// process handles rec and fills r's flags, forwards, states or dead
	// letter. applied holds, per "detector:key", the source partition and
	// offset the durable state includes.
	process(rec Record, r *result, applied map[string]statePos)
	restore(detector, key string, state []byte) error
	durable() bool
	rules() *detectors.RuleSet
	reload(set *detectors.RuleSet) error
	stateEntries(fn func(detector string, entries int))
}

func (p *Pipeline) newProcessor() (processor, error) {
	if p.cfg.Stage != nil {
		return newStageProcessor(p, *p.cfg.Stage, p.rules.Load())
	}
	if p.cfg.Reports {
		return &reportProcessor{p: p, set: p.rules.Load()}, nil
	}
	e, err := detectors.NewEngine(p.cfg.Detectors, p.rules.Load(), p.cfg.Engine)
	if err != nil {
		return nil, err
	}
	m := p.deps.Metrics
	// The histogram of each detector, looked up once: WithLabelValues
	// hashes its labels on every call, for every detector and message.
	observers := map[string]prometheus.Observer{}
	return &messageProcessor{p: p, engine: e, observe: func(detector string, d time.Duration) {
		o := observers[detector]
		if o == nil {
			o = m.DetectorTime.WithLabelValues(detector)
			observers[detector] = o
		}
		o.Observe(d.Seconds())
	}}, nil
}

// stream names what the pipeline consumes, for logs.
func (p *Pipeline) stream() string {
	if p.cfg.Stage != nil {
		return p.cfg.Stage.Factory.Stream
	}
	if p.cfg.Reports {
		return "reports"
	}
	return "messages"
}

type messageProcessor struct {
	p         *Pipeline
	engine    *detectors.Engine
	observe   detectors.Observer
	watermark watermark
}

func (mp *messageProcessor) process(rec Record, r *result, applied map[string]statePos) {
	msg, err := event.DecodeRecord(rec.Key, rec.Value, rec.Time)
	if err != nil {
		r.dead = deadLetterFor(rec, event.ReasonOf(err), err)
		return
	}
	mp.p.deps.Metrics.Decoded.Inc()
	r.sentAt = msg.SentAt
	mp.engine.SetWatermark(mp.watermark.observe(rec.Partition, msg.SentAt, time.Now()))
	if len(applied) > 0 {
		seen := func(d string) bool {
			at, ok := applied[d+":"+msg.ConversationID]
			return ok && at.offset >= rec.Offset
		}
		r.flags = mp.engine.InspectRedelivered(msg, nil, mp.observe, seen)
	} else {
		r.flags = mp.engine.Inspect(msg, nil, mp.observe)
	}
	r.forwards = mp.engine.TakeForwards(nil)
	mp.engine.TakeChanged(func(d, key string, state []byte) {
		s := StateRecord{Detector: d, Key: key, Partition: rec.Partition, Offset: rec.Offset, State: state}
		if key != msg.ConversationID {
			// A conversation the detector reclaimed while reading this
			// message: its tombstone goes where its state was written, with
			// the offset that state included, never to this record's
			// partition, whose restore would delete a live state of the
			// same key. One this worker never wrote or restored has
			// nothing to delete.
			at, ok := applied[d+":"+key]
			if !ok {
				return
			}
			s.Partition, s.Offset = at.partition, at.offset
		}
		r.states = append(r.states, s)
	})
}

func (mp *messageProcessor) restore(d, key string, state []byte) error {
	return mp.engine.Restore(d, key, state)
}
func (mp *messageProcessor) durable() bool                       { return mp.engine.Durable() }
func (mp *messageProcessor) rules() *detectors.RuleSet           { return mp.engine.Rules() }
func (mp *messageProcessor) reload(set *detectors.RuleSet) error { return mp.engine.Reload(set) }
func (mp *messageProcessor) stateEntries(fn func(string, int))   { mp.engine.StateEntries(fn) }

// ReasonInvalidStageRecord is the dead-letter reason of an internal stream
// record a stage cannot decode (written by an incompatible version).
const ReasonInvalidStageRecord event.Reason = "invalid_stage_record"

// stageProcessor runs one detector stage.
type stageProcessor struct {
	p       *Pipeline
	cfg     StageConfig
	stage   detectors.Stage
	set     *detectors.RuleSet
	name    string // detector/stream: its metrics label and changelog name
	flags   []detectors.Flag
	observe func(time.Duration)
}

func newStageProcessor(p *Pipeline, cfg StageConfig, set *detectors.RuleSet) (*stageProcessor, error) {
	if set == nil {
		set = &detectors.RuleSet{}
	}
	s, err := cfg.Factory.New(set.For(cfg.Detector))
	if err != nil {
		return nil, fmt.Errorf("detector %s: stage %s: %w", cfg.Detector, cfg.Factory.Stream, err)
	}
	name := cfg.Detector + "/" + cfg.Factory.Stream
	h := p.deps.Metrics.DetectorTime.WithLabelValues(name)
	return &stageProcessor{p: p, cfg: cfg, stage: s, set: set, name: name,
		observe: func(d time.Duration) { h.Observe(d.Seconds()) }}, nil
}

func (sp *stageProcessor) process(rec Record, r *result, applied map[string]statePos) {
	m := sp.p.deps.Metrics
	m.StageRecords.WithLabelValues(sp.cfg.Factory.Stream).Inc()
	key := string(rec.Key)
	if at, ok := applied[sp.name+":"+key]; ok && at.offset >= rec.Offset {
		return // re-delivered, and already in the restored state
	}
	start := time.Now()
	flags, err := sp.stage.Handle(key, rec.Value, sp.flags[:0])
	sp.observe(time.Since(start))
	if err != nil {
		r.dead = deadLetterFor(rec, ReasonInvalidStageRecord, err)
		return
	}
	now := time.Now().UTC()
	if len(flags) > 0 {
		r.flags = make([]detectors.Flag, len(flags))
		copy(r.flags, flags)
		for i := range r.flags {
			if r.flags[i].DetectedAt.IsZero() {
				r.flags[i].DetectedAt = now
			}
		}
	}
	sp.flags = flags[:0]
	if fw, ok := sp.stage.(detectors.Forwarder); ok {
		r.forwards = fw.TakeForwards(nil)
	}
	if d, ok := sp.stage.(detectors.Durable); ok {
		d.TakeChanged(func(k string, state []byte) {
			s := StateRecord{Detector: sp.name, Key: k, Partition: rec.Partition, Offset: rec.Offset, State: state}
			if k != key { // reclaimed while handling this record: see messageProcessor
				at, ok := applied[sp.name+":"+k]
				if !ok {
					return
				}
				s.Partition, s.Offset = at.partition, at.offset
			}
			r.states = append(r.states, s)
		})
	}
}

func (sp *stageProcessor) restore(detector, key string, state []byte) error {
	d, ok := sp.stage.(detectors.Durable)
	if !ok || detector != sp.name {
		return nil
	}
	return d.Restore(key, state)
}

func (sp *stageProcessor) durable() bool {
	_, ok := sp.stage.(detectors.Durable)
	return ok
}

func (sp *stageProcessor) rules() *detectors.RuleSet { return sp.set }

func (sp *stageProcessor) reload(set *detectors.RuleSet) error {
	if r, ok := sp.stage.(detectors.Reloader); ok {
		if err := r.Reload(set.For(sp.cfg.Detector)); err != nil {
			return err
		}
	} else {
		s, err := sp.cfg.Factory.New(set.For(sp.cfg.Detector))
		if err != nil {
			return err
		}
		sp.stage = s
	}
	sp.set = set
	return nil
}

func (sp *stageProcessor) stateEntries(fn func(string, int)) {
	if s, ok := sp.stage.(detectors.StateSizer); ok {
		fn(sp.name, s.StateEntries())
	}
}

// deadLetterFor describes a rejected record; the detail never holds message
// text (decoder errors name the field, not its content).
func deadLetterFor(rec Record, reason event.Reason, err error) *DeadLetter {
	detail := err.Error()
	var e *event.Error
	if errors.As(err, &e) {
		detail = e.Error()
	}
	return &DeadLetter{Record: rec, Reason: reason, Detail: detail, RejectedAt: time.Now().UTC()}
}
