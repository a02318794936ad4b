// Package pipeline moves message events from Kafka through the detection
// engine to the flag stores: it fetches records of a consumer group, decodes
// and validates them, runs the detectors on workers sharded by conversation
// (so each conversation is seen in order), batches the results into the
// sinks, dead-letters what cannot be decoded, and commits an offset only
// once everything up to it is durably written. Replay drives the same engine
// from files.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/sinks"
)

// Config tunes the pipeline.
type Config struct {
	Workers         int           // detection workers; conversations are sharded over them
	BatchSize       int           // flush when this many messages are pending
	BatchInterval   time.Duration // flush at least this often
	ShutdownTimeout time.Duration // time allowed to flush and commit after stop
	Detectors       []detectors.Factory
	Rules           *detectors.RuleSet // the validated rules to start with; see SetRules
	Engine          detectors.EngineOptions
	// RetryInitial and RetryMax bound the exponential backoff between sink
	// attempts (defaults 100ms and 10s). Retries never give up on their own.
	RetryInitial, RetryMax time.Duration
	// StatsInterval is how often lag and rebalance figures are refreshed
	// (default 10s).
	StatsInterval time.Duration
	// Stage, when set, makes this pipeline consume one detector stage's
	// internal stream (records a detector forwarded, keyed by sender or
	// fingerprint) instead of message events.
	Stage *StageConfig
	// Reports, when set, makes this pipeline consume user report events
	// (reports.go) and write them to Deps.Reports.
	Reports bool
}

// StageConfig names the stage a pipeline runs and the detector whose rules
// it takes.
type StageConfig struct {
	Detector string
	Factory  detectors.StageFactory
}

// Deps are what the pipeline reads from and writes to.
type Deps struct {
	Source     Source
	Store      sinks.Writer     // required: the flag store
	FlagsTopic sinks.Writer     // optional: downstream flags topic
	DeadLetter DeadLetterWriter // required
	Changelog  Changelog        // required when a detector is durable
	Forwards   ForwardWriter    // required when a detector forwards to stages
	Reports    ReportWriter     // required with Config.Reports
	Lag        *LagMonitor      // optional
	Metrics    *Metrics
	Log        *slog.Logger
}

// Pipeline is one consumer instance. Run it once.
type Pipeline struct {
	cfg     Config
	deps    Deps
	tracker *Tracker
	seed    maphash.Seed
	ready   atomic.Bool
	failing atomic.Bool
	rules   atomic.Pointer[detectors.RuleSet]
	// state[w][detector] is worker w's latest count of detector state
	// entries; workers write it, the stats loop sums it.
	state []map[string]*atomic.Int64
}

// New validates the configuration.
func New(cfg Config, deps Deps) (*Pipeline, error) {
	switch {
	case cfg.Workers < 1:
		return nil, errors.New("pipeline: Workers must be at least 1")
	case cfg.BatchSize < 1:
		return nil, errors.New("pipeline: BatchSize must be at least 1")
	case cfg.BatchInterval <= 0:
		return nil, errors.New("pipeline: BatchInterval must be positive")
	case cfg.ShutdownTimeout <= 0:
		return nil, errors.New("pipeline: ShutdownTimeout must be positive")
	case deps.Source == nil || deps.Store == nil || deps.DeadLetter == nil || deps.Metrics == nil:
		return nil, errors.New("pipeline: Source, Store, DeadLetter and Metrics are required")
	case cfg.Reports && (deps.Reports == nil || cfg.Stage != nil):
		return nil, errors.New("pipeline: a reports pipeline needs a ReportWriter and no stage")
	}
	if cfg.RetryInitial <= 0 {
		cfg.RetryInitial = 100 * time.Millisecond
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 10 * time.Second
	}
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = 10 * time.Second
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{cfg: cfg, deps: deps, tracker: NewTracker(), seed: maphash.MakeSeed()}
	p.rules.Store(cfg.Rules)
	deps.Metrics.setRules(cfg.Rules)
	return p, nil
}

// SetRules makes every worker switch to set before its next message. The
// set must be loaded and checked already (detectors.LoadCheckedRules): a
// reload never drops or repeats a message, because each worker swaps its
// rules between two messages it processes.
func (p *Pipeline) SetRules(set *detectors.RuleSet) {
	p.rules.Store(set)
	p.deps.Metrics.setRules(set)
}

// Ready reports whether the pipeline is consuming and its sinks accept
// writes (for /readyz).
func (p *Pipeline) Ready() bool { return p.ready.Load() && !p.failing.Load() }

// result is what a worker hands the batcher for one record.
type result struct {
	ticket     Ticket
	flags      []detectors.Flag
	forwards   []detectors.Forward
	states     []StateRecord
	dead       *DeadLetter
	reports    []event.Report
	sentAt     time.Time
	recordTime time.Time
}

// item is what the fetch loop hands a worker: a record, or a state read
// back from the changelog that must be restored before the records after it.
type item struct {
	rec   Record
	state *StateRecord
}

// Run consumes until ctx is cancelled, then stops fetching, flushes what it
// holds, commits, and returns nil. It returns an error if a component fails
// for good or the shutdown does not finish within ShutdownTimeout.
func (p *Pipeline) Run(ctx context.Context) error {
	engines := make([]processor, p.cfg.Workers)
	for i := range engines {
		e, err := p.newProcessor()
		if err != nil {
			return fmt.Errorf("pipeline: %w", err)
		}
		engines[i] = e
	}
	durable := engines[0].durable()
	if durable && p.deps.Changelog == nil {
		return errors.New("pipeline: a detector keeps durable state but no changelog is configured")
	}
	// Work continues after ctx ends, until everything fetched is flushed;
	// workCtx ends only when the shutdown deadline passes.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	p.state = make([]map[string]*atomic.Int64, len(engines))
	for i, e := range engines {
		p.state[i] = map[string]*atomic.Int64{}
		e.stateEntries(func(d string, n int) {
			p.state[i][d] = new(atomic.Int64)
			p.state[i][d].Store(int64(n))
		})
	}
	results := make(chan result, 1024)
	inputs := make([]chan item, p.cfg.Workers)
	var workers sync.WaitGroup
	for i := range inputs {
		inputs[i] = make(chan item, 256)
		workers.Add(1)
		go func() {
			defer workers.Done()
			p.work(workCtx, engines[i], p.state[i], inputs[i], results)
		}()
	}
	go func() {
		workers.Wait()
		close(results)
	}()
	batcherDone := make(chan error, 1)
	go func() { batcherDone <- p.batch(workCtx, results) }()

	statsCtx, stopStats := context.WithCancel(ctx)
	defer stopStats()
	go p.stats(statsCtx)

	p.ready.Store(true)
	p.deps.Log.Info("pipeline started", "workers", p.cfg.Workers, "detectors", len(p.cfg.Detectors), "stream", p.stream(), "durable", durable)
	fetchErr := p.fetch(ctx, inputs, durable)
	p.ready.Store(false)
	for _, in := range inputs {
		close(in)
	}
	stopping := time.Now()
	p.deps.Log.Info("pipeline stopping: flushing and committing", "in_flight", p.tracker.InFlight())
	deadline := time.AfterFunc(p.cfg.ShutdownTimeout, cancelWork)
	batchErr := <-batcherDone
	deadline.Stop()
	if p.consumesMessages() {
		p.deps.Metrics.ShutdownFlushS.Set(time.Since(stopping).Seconds())
	}
	closeErr := p.deps.Source.Close()
	if closeErr != nil {
		p.deps.Log.Warn("closing the consumer", "error", closeErr)
	}
	if workCtx.Err() != nil {
		return fmt.Errorf("pipeline: shutdown did not finish within %s; uncommitted records will be re-delivered", p.cfg.ShutdownTimeout)
	}
	p.deps.Log.Info("pipeline stopped", "flush_seconds", time.Since(stopping).Seconds())
	return errors.Join(fetchErr, batchErr)
}

// fetch reads records and hands each to the worker that owns its
// conversation, until ctx ends.
func (p *Pipeline) fetch(ctx context.Context, inputs []chan item, durable bool) error {
	retry := p.newBackOff(ctx)
	// next is the offset expected next from each partition. Any other
	// offset means the partition was (re)assigned to this instance, so its
	// durable state is read back from the changelog first.
	next := map[TopicPartition]int64{}
	for {
		rec, err := p.deps.Source.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.deps.Metrics.KafkaErrors.WithLabelValues("fetch").Inc()
			wait := retry.NextBackOff()
			p.deps.Log.Warn("fetch failed; retrying", "error", err, "retry_in", wait)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			continue
		}
		retry.Reset()
		if durable {
			if want, ok := next[rec.TopicPartition]; !ok || want != rec.Offset {
				if err := p.restore(ctx, rec.Partition, inputs); err != nil {
					return nil // ctx ended; the record is not tracked and is re-delivered
				}
			}
			next[rec.TopicPartition] = rec.Offset + 1
		}
		if p.consumesMessages() {
			p.deps.Metrics.Consumed.Inc()
		}
		rec.ticket = p.tracker.Track(rec.TopicPartition, rec.Offset)
		select {
		case inputs[p.shard(rec.Key, rec.Partition)] <- item{rec: rec}:
		case <-ctx.Done():
			return nil // tracked but never done: it is not committed, and is re-delivered
		}
	}
}

// shard picks the worker for a record: by key (the conversation id), so one
// conversation always goes to one worker, in order.
func (p *Pipeline) shard(key []byte, partition int) int {
	n := uint64(p.cfg.Workers)
	if len(key) == 0 {
		return partition % int(n)
	}
	return int(maphash.Bytes(p.seed, key) % n)
}

// restore reads the changelog of partition and hands each state to the
// worker that owns its key, ahead of the partition's next record. It
// retries until it succeeds or ctx ends.
func (p *Pipeline) restore(ctx context.Context, partition int, inputs []chan item) error {
	retry := p.newBackOff(ctx)
	for {
		start := time.Now()
		n := 0
		err := p.deps.Changelog.Load(ctx, partition, func(s StateRecord) {
			n++
			select {
			case inputs[p.shard([]byte(s.Key), partition)] <- item{state: &s}:
			case <-ctx.Done():
			}
		})
		if err == nil && ctx.Err() == nil {
			p.deps.Metrics.StateRestores.Inc()
			p.deps.Metrics.StateRestored.Add(float64(n))
			p.deps.Log.Info("durable state restored", "partition", partition, "records", n, "seconds", time.Since(start).Seconds())
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.deps.Metrics.KafkaErrors.WithLabelValues("changelog_load").Inc()
		wait := retry.NextBackOff()
		p.deps.Log.Warn("changelog load failed; retrying", "partition", partition, "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// statePos is where the durable state of one key stands: the partition
// its records come from (and its changelog partition), and the source
// offset the state includes.
type statePos struct {
	partition int
	offset    int64
}

// stateEvery is how often (in messages) a worker publishes the size of its
// detectors' state.
const stateEvery = 1024

// work decodes and inspects records in order, and restores the states the
// fetch loop hands it.
func (p *Pipeline) work(ctx context.Context, proc processor, state map[string]*atomic.Int64, in <-chan item, out chan<- result) {
	m := p.deps.Metrics
	publish := func(d string, n int) {
		if c := state[d]; c != nil {
			c.Store(int64(n))
		}
	}
	// applied is, per durable detector and key, the source partition and
	// offset its state includes: a re-delivered record at or below it is
	// not shown to that detector again.
	applied := map[string]statePos{}
	handled := 0
	for it := range in {
		if it.state != nil {
			s := it.state
			k := s.Detector + ":" + s.Key
			if have, ok := applied[k]; ok && (have.offset > s.Offset || have.offset == s.Offset && s.State != nil) {
				continue // this worker's state is newer than the changelog's
			}
			if err := proc.restore(s.Detector, s.Key, s.State); err != nil {
				m.StateErrors.Inc()
				p.deps.Log.Error("durable state could not be restored; the conversation starts afresh", "detector", s.Detector, "partition", s.Partition, "offset", s.Offset, "error", err)
				continue
			}
			if s.State == nil {
				delete(applied, k)
			} else {
				applied[k] = statePos{s.Partition, s.Offset}
			}
			continue
		}
		rec := it.rec
		if handled++; handled%stateEvery == 0 {
			proc.stateEntries(publish)
		}
		if set := p.rules.Load(); set != proc.rules() && set != nil {
			if err := proc.reload(set); err != nil {
				m.RulesReloads.WithLabelValues("error").Inc()
				p.deps.Log.Error("worker could not switch rules; keeps the old ones", "rules_version", set.Version(), "error", err)
			}
		}
		r := result{ticket: rec.ticket}
		if p.consumesMessages() {
			r.recordTime = rec.Time // end-to-end latency is measured on message records
		}
		proc.process(rec, &r, applied)
		if r.states != nil {
			for _, s := range r.states {
				k := s.Detector + ":" + s.Key
				if s.State == nil {
					delete(applied, k)
				} else {
					applied[k] = statePos{s.Partition, s.Offset}
				}
			}
		}
		select {
		case out <- r:
		case <-ctx.Done():
			return
		}
	}
}
