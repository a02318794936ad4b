package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/sinks"
)

// InstanceConfig configures one Goshawk process's share of the work: the
// pipeline over the messages topic, plus one pipeline per detector stage
// over that stage's internal topic, all in consumer groups shared with the
// other instances.
type InstanceConfig struct {
	Pipeline Config
	Kafka    KafkaConfig // its Dialer (TLS, SASL) serves the internal topics too
	// StateTopic is the compacted changelog of durable detector state
	// (created with as many partitions as the messages topic).
	StateTopic string
	// StreamPrefix prefixes the internal topic of every stage stream; each
	// stage consumes in group <Kafka.Group>.<stream>.
	StreamPrefix string
	// StreamPartitions is the partition count of new internal stream
	// topics; 0 means as many as the messages topic.
	StreamPartitions int
	// WrapSource, when set, wraps the messages source (goshawk bench times
	// the consumer through it).
	WrapSource func(Source) Source
}

// InstanceDeps are the stores shared by the instance's pipelines.
type InstanceDeps struct {
	Store      sinks.Writer
	FlagsTopic sinks.Writer // optional
	DeadLetter DeadLetterWriter
	Lag        *LagMonitor // optional, for the messages topic
	Metrics    *Metrics
	Log        *slog.Logger
}

// Instance runs the pipelines of one process.
type Instance struct {
	cfg       InstanceConfig
	deps      InstanceDeps
	pipelines []*Pipeline
	closers   []func() error
}

// NewInstance creates the internal topics the detectors need (the state
// changelog if a detector is durable, a topic per stage stream) and the
// pipelines. It contacts the brokers.
func NewInstance(ctx context.Context, cfg InstanceConfig, deps InstanceDeps) (*Instance, error) {
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	in := &Instance{cfg: cfg, deps: deps}
	probe, err := detectors.NewEngine(cfg.Pipeline.Detectors, cfg.Pipeline.Rules, cfg.Pipeline.Engine)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	var stages []StageConfig
	for _, f := range cfg.Pipeline.Detectors {
		for _, sf := range f.Stages {
			stages = append(stages, StageConfig{Detector: f.Name, Factory: sf})
		}
	}
	partitions := 0
	if probe.Durable() || len(stages) > 0 {
		if partitions, err = TopicPartitions(ctx, cfg.Kafka.Brokers, cfg.Kafka.Dialer, cfg.Kafka.Topic); err != nil {
			return nil, fmt.Errorf("pipeline: internal topics follow the partitions of the messages topic: %w", err)
		}
	}
	base := Deps{Store: deps.Store, FlagsTopic: deps.FlagsTopic, DeadLetter: deps.DeadLetter, Metrics: deps.Metrics}
	if probe.Durable() {
		if cfg.StateTopic == "" {
			return nil, errors.New("pipeline: a detector keeps durable state but no state topic is set")
		}
		// Compacted: the latest state of each conversation is kept, and
		// the tombstone of an expired one removes it.
		if err := EnsureTopic(ctx, cfg.Kafka.Brokers, cfg.Kafka.Dialer, cfg.StateTopic, partitions, map[string]string{
			"cleanup.policy": "compact", "min.compaction.lag.ms": "60000",
		}); err != nil {
			return nil, fmt.Errorf("pipeline: state changelog: %w", err)
		}
		cl := NewKafkaChangelog(cfg.Kafka.Brokers, cfg.StateTopic, cfg.Kafka.Dialer)
		in.closers = append(in.closers, cl.Close)
		base.Changelog = cl
	}
	if len(stages) > 0 {
		n := cfg.StreamPartitions
		if n <= 0 {
			n = partitions
		}
		for _, s := range stages {
			if err := EnsureTopic(ctx, cfg.Kafka.Brokers, cfg.Kafka.Dialer, StreamTopic(cfg.StreamPrefix, s.Factory.Stream), n, nil); err != nil {
				return nil, fmt.Errorf("pipeline: stage stream: %w", err)
			}
		}
		fw := NewKafkaForwards(cfg.Kafka.Brokers, cfg.StreamPrefix, cfg.Kafka.Dialer)
		in.closers = append(in.closers, fw.Close)
		base.Forwards = fw
	}

	main := base
	main.Source = NewKafkaSource(cfg.Kafka, deps.Log)
	if cfg.WrapSource != nil {
		main.Source = cfg.WrapSource(main.Source)
	}
	main.Lag = deps.Lag
	main.Log = deps.Log.With("stream", "messages")
	p, err := New(cfg.Pipeline, main)
	if err != nil {
		return nil, err
	}
	in.pipelines = append(in.pipelines, p)
	for _, s := range stages {
		kc := cfg.Kafka
		kc.Topic = StreamTopic(cfg.StreamPrefix, s.Factory.Stream)
		kc.Group = cfg.Kafka.Group + "." + s.Factory.Stream
		d := base
		d.Log = deps.Log.With("stream", s.Factory.Stream)
		d.Source = NewKafkaSource(kc, d.Log)
		pc := cfg.Pipeline
		pc.Stage = &s
		sp, err := New(pc, d)
		if err != nil {
			return nil, err
		}
		in.pipelines = append(in.pipelines, sp)
	}
	return in, nil
}

// SetRules switches every pipeline to set (see Pipeline.SetRules).
func (in *Instance) SetRules(set *detectors.RuleSet) {
	for _, p := range in.pipelines {
		p.SetRules(set)
	}
}

// Ready reports whether every pipeline is ready.
func (in *Instance) Ready() bool {
	for _, p := range in.pipelines {
		if !p.Ready() {
			return false
		}
	}
	return true
}

// Run runs every pipeline until ctx ends and they have flushed and
// committed, or until one fails, which stops the others.
func (in *Instance) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(in.pipelines))
	var wg sync.WaitGroup
	for i, p := range in.pipelines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = p.Run(ctx); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, c := range in.closers {
		if err := c(); err != nil {
			in.deps.Log.Warn("closing an internal topic writer", "error", err)
		}
	}
	return errors.Join(errs...)
}
