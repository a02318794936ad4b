package benchmark

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks"
)

// probe wraps a consumer's pipeline.Source. It notes when the first record
// was fetched and when a commit that covers every target offset returned:
// the consumer is then done, everything it was given is processed and
// committed. It may also track latency (see latencyProbe).
type probe struct {
	pipeline.Source
	lat *latencyProbe // nil except in the latency phase

	first atomic.Int64 // unix nanoseconds of the first fetched record, 0 before
	done  chan struct{}

	mu        sync.Mutex
	targets   map[pipeline.TopicPartition]int64 // last offset to commit, per partition; nil until known
	committed map[pipeline.TopicPartition]int64
	doneAt    time.Time
}

func newProbe(src pipeline.Source, lat *latencyProbe) *probe {
	return &probe{
		Source:    src,
		lat:       lat,
		done:      make(chan struct{}),
		committed: map[pipeline.TopicPartition]int64{},
	}
}

// setTargets says which offsets the consumer must commit: the last offset
// of each partition. It may be called before or during the phase.
func (p *probe) setTargets(targets map[pipeline.TopicPartition]int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.targets = targets
	p.check(time.Now())
}

// check closes done when every target is committed. Call with mu held.
func (p *probe) check(now time.Time) {
	if p.targets == nil || !p.doneAt.IsZero() {
		return
	}
	for tp, last := range p.targets {
		if off, ok := p.committed[tp]; !ok || off < last {
			return
		}
	}
	p.doneAt = now
	close(p.done)
}

func (p *probe) Fetch(ctx context.Context) (pipeline.Record, error) {
	rec, err := p.Source.Fetch(ctx)
	if err != nil {
		return rec, err
	}
	if p.first.Load() == 0 {
		p.first.CompareAndSwap(0, time.Now().UnixNano())
	}
	if p.lat != nil {
		p.lat.fetched(rec)
	}
	return rec, nil
}

func (p *probe) Commit(ctx context.Context, positions []pipeline.Position) error {
	if err := p.Source.Commit(ctx, positions); err != nil {
		return err
	}
	now := time.Now()
	if p.lat != nil {
		p.lat.committed(positions)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pos := range positions {
		if off, ok := p.committed[pos.TopicPartition]; !ok || pos.Offset > off {
			p.committed[pos.TopicPartition] = pos.Offset
		}
	}
	p.check(now)
	return nil
}

// Rebalances forwards to the wrapped source, so that the pipeline's
// rebalance metric still works through the probe.
func (p *probe) Rebalances() int64 {
	if r, ok := p.Source.(interface{ Rebalances() int64 }); ok {
		return r.Rebalances()
	}
	return 0
}

// firstFetch returns when the first record was fetched (zero if none).
func (p *probe) firstFetch() time.Time {
	if n := p.first.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// finished returns when the last target was committed (zero if not yet).
func (p *probe) finished() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.doneAt
}

// latencyProbe measures, for every flag, the time from its message's Kafka
// record timestamp to the moment ClickHouse acknowledged the INSERT that
// carried the flag. It learns each message's record timestamp when the
// pipeline fetches the record (the message id is read from the value) and
// forgets it once the record's offset is committed, so it holds only the
// records in flight.
type latencyProbe struct {
	mu        sync.Mutex
	from      time.Time            // records with an earlier timestamp are warm-up: not sampled
	pending   map[string]time.Time // message id → record timestamp
	order     map[pipeline.TopicPartition][]fetchedID
	samples   []time.Duration
	flags     int // flags acknowledged by the store, warm-up included
	unmatched int // flags whose message was not seen by the probe
	// staged are flags of detectors with stages (spam): a stage raises
	// them when later records arrive, on messages long committed, so they
	// have no append → visible latency of their own and are not sampled.
	staged  int
	stageBy map[string]bool // detector names
}

type fetchedID struct {
	offset int64
	id     string
}

func newLatencyProbe(from time.Time) *latencyProbe {
	return &latencyProbe{from: from, pending: map[string]time.Time{}, order: map[pipeline.TopicPartition][]fetchedID{}}
}

// sampleFrom sets the end of the warm-up: flags of records with an
// earlier timestamp are counted but not sampled.
func (l *latencyProbe) sampleFrom(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.from = t
}

func (l *latencyProbe) fetched(rec pipeline.Record) {
	var v struct {
		MessageID string `json:"message_id"`
	}
	if json.Unmarshal(rec.Value, &v) != nil || v.MessageID == "" {
		return // a bad record: it has no flags
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending[v.MessageID] = rec.Time
	l.order[rec.TopicPartition] = append(l.order[rec.TopicPartition], fetchedID{rec.Offset, v.MessageID})
}

func (l *latencyProbe) committed(positions []pipeline.Position) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, pos := range positions {
		q := l.order[pos.TopicPartition]
		n := 0
		for n < len(q) && q[n].offset <= pos.Offset {
			delete(l.pending, q[n].id)
			n++
		}
		l.order[pos.TopicPartition] = append(q[:0], q[n:]...)
	}
}

// written records flags that the store acknowledged at time at.
func (l *latencyProbe) written(flags []detectors.Flag, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range flags {
		l.flags++
		if l.stageBy[flags[i].Detector] {
			l.staged++
			continue
		}
		t, ok := l.pending[flags[i].MessageID]
		switch {
		case !ok:
			l.unmatched++
		case !t.Before(l.from):
			l.samples = append(l.samples, at.Sub(t))
		}
	}
}

// inFlight is how many records the probe holds.
func (l *latencyProbe) inFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// result returns the samples and counts so far.
func (l *latencyProbe) result() (samples []time.Duration, flags, unmatched, staged int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.samples...), l.flags, l.unmatched, l.staged
}

// timedStore times the flag store's writes and, in the latency phase,
// tells the latency probe when the store acknowledged flags.
type timedStore struct {
	sinks.Writer
	lat *latencyProbe // may be nil

	mu     sync.Mutex
	writes Writes
}

// Writes sums up a phase's successful writes to the flag store.
type Writes struct {
	Count int
	Flags int
	Total time.Duration
	Max   time.Duration
}

func (s *timedStore) Write(ctx context.Context, flags []detectors.Flag) error {
	start := time.Now()
	if err := s.Writer.Write(ctx, flags); err != nil {
		return err
	}
	now := time.Now()
	if s.lat != nil {
		s.lat.written(flags, now)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := now.Sub(start)
	s.writes.Count++
	s.writes.Flags += len(flags)
	s.writes.Total += d
	s.writes.Max = max(s.writes.Max, d)
	return nil
}

func (s *timedStore) stats() Writes {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}
