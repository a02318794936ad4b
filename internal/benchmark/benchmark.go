// Package benchmark measures Goshawk against real Kafka and ClickHouse, in
// one run and side by side (issue 10): a bare kafka-go group consumer, the
// real pipeline of goshawk run over the same topic, the end-to-end latency
// of flags at a steady produce rate, and replay on one core over the same
// generated messages. goshawk bench drives it; see Run for the method.
package benchmark

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
)

// PipelineSpec says what one pipeline phase consumes and where it writes.
type PipelineSpec struct {
	Topic    string
	Group    string
	Database string // ClickHouse database, fresh for the phase
	// WrapSource and WrapStore must wrap the pipeline's Kafka source and
	// its flag store: the probes that time the phase live there.
	WrapSource func(pipeline.Source) pipeline.Source
	WrapStore  func(sinks.Writer) sinks.Writer
}

// PipelineFunc runs the real pipeline (goshawk run's wiring) as spec says
// until ctx ends, then shuts it down as goshawk run does on SIGTERM.
type PipelineFunc func(ctx context.Context, spec PipelineSpec) error

// Config configures a run. Zero fields take the defaults in parentheses.
type Config struct {
	Brokers []string
	// ClickHouse says where the server is; Database is ignored: every
	// phase writes to a database of its own, dropped at the end.
	ClickHouse  clickhouse.Config
	Messages    int     // generated messages for the throughput phases (200,000)
	Partitions  int     // of the benchmark topics (4)
	Seed        int64   // generator seed
	BadRatio    float64 // share of deliberately invalid records (0)
	CommitEvery int     // the bare consumer commits every this many records (1,000)
	// Rate (5,000 msg/s) and LatencyFor (45s, 0 skips the phase) shape
	// the latency phase; its first Warmup (5s) is not sampled.
	Rate       float64
	LatencyFor time.Duration
	Warmup     time.Duration
	// PhaseTimeout bounds each consuming phase (5m).
	PhaseTimeout time.Duration
	Pipeline     PipelineFunc // required
	// Detectors and Rules are what replay runs: the same as the pipeline's.
	Detectors []detectors.Factory
	Rules     *detectors.RuleSet
	// ProfileDir, when set, receives CPU profiles of the pipeline phase
	// (pipeline.pprof) and of the replay phase (replay.pprof).
	ProfileDir string
	Keep       bool         // keep the topics and databases
	Log        *slog.Logger // the bare consumer's Kafka reader logs here
	Progress   io.Writer    // a line per step (io.Discard when nil)
}

func (c *Config) defaults() error {
	if c.Messages <= 0 {
		c.Messages = 200_000
	}
	if c.Partitions <= 0 {
		c.Partitions = 4
	}
	if c.CommitEvery <= 0 {
		c.CommitEvery = 1000
	}
	if c.Rate <= 0 {
		c.Rate = 5000
	}
	if c.Warmup <= 0 {
		c.Warmup = 5 * time.Second
	}
	if c.PhaseTimeout <= 0 {
		c.PhaseTimeout = 5 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	switch {
	case len(c.Brokers) == 0:
		return errors.New("benchmark: no Kafka brokers")
	case c.Pipeline == nil:
		return errors.New("benchmark: no Pipeline")
	case len(c.Detectors) == 0:
		return errors.New("benchmark: no Detectors")
	case c.LatencyFor < 0:
		return errors.New("benchmark: negative LatencyFor")
	}
	return nil
}

// Run generates Messages events, produces them into a fresh topic, and in
// the same run measures, one phase at a time:
//
//  1. bare: a kafka-go group consumer (pipeline.KafkaSource, the
//     pipeline's own reader settings) that fetches every record and
//     commits every CommitEvery records, nothing else;
//  2. run: the real pipeline, with a fresh group, into a fresh
//     ClickHouse database;
//  3. latency: the pipeline on a second topic while events are produced
//     at Rate for LatencyFor (skipped when LatencyFor is 0);
//  4. replay: pipeline.Replay of the same events on one core
//     (GOMAXPROCS=1), flags encoded and discarded.
//
// A consuming phase lasts from the first record fetched until the commit
// of the last record returned; the time from the phase's start (group
// join included) is reported too. CPU time and peak resident memory are
// the process's own over the phase, which runs alone in the process.
//
// Latency is, for each flag, the time from its message's Kafka record
// timestamp (CreateTime, set by the producer just before it sends the
// record) to the moment ClickHouse acknowledged the INSERT that carried the
// flag: ClickHouse answers a synchronous INSERT only once the new part is
// committed and visible to queries.
//
// Everything Run creates (topics, consumer groups, databases, a temporary
// file) is removed at the end unless Keep is set.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, admin: newAdmin(cfg.Brokers)}
	b.servers = localServers(cfg)
	id := time.Now().UTC().Format("20060102t150405") + fmt.Sprintf("%03d", time.Now().Nanosecond()/1e6)
	b.name = "goshawk-bench-" + id
	b.db = "goshawk_bench_" + id
	rep := &Report{Messages: cfg.Messages, Partitions: cfg.Partitions, Seed: cfg.Seed, BadRatio: cfg.BadRatio, CommitEvery: cfg.CommitEvery, Name: b.name}
	rep.Env = describeEnvironment(ctx, b.admin, cfg)
	defer func() { rep.Env.LoadEnd = loadAverage() }()
	defer b.cleanup(ctx, rep)
	err := b.run(ctx, rep)
	return rep, err
}

type bench struct {
	cfg   Config
	admin *admin
	name  string // topic and group prefix
	db    string // database prefix

	topics    []string
	groups    []string
	databases []string
	file      string
	servers   []server // local Kafka and ClickHouse processes, whose CPU time is taken too
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.cfg.Progress, "bench: "+format+"\n", args...)
}

func (b *bench) run(ctx context.Context, rep *Report) error {
	cfg := b.cfg
	topic := b.name
	topics := map[string]int{topic: cfg.Partitions, topic + ".dlq": 1}
	if cfg.LatencyFor > 0 {
		topics[topic+"-latency"] = cfg.Partitions
		topics[topic+"-latency.dlq"] = 1
	}
	for t := range topics {
		b.topics = append(b.topics, t)
	}
	if err := b.admin.createTopics(ctx, topics); err != nil {
		return err
	}
	b.progress("producing %d generated messages (seed %d) into %s (%d partitions)", cfg.Messages, cfg.Seed, topic, cfg.Partitions)
	start := time.Now()
	if err := b.produce(ctx, topic); err != nil {
		return err
	}
	targets, err := b.admin.lastOffsets(ctx, topic)
	if err != nil {
		return err
	}
	b.progress("produced in %s", time.Since(start).Round(time.Millisecond))

	b.progress("phase bare: kafka-go group consumer, commit every %d", cfg.CommitEvery)
	bare, err := b.bare(ctx, topic, targets)
	if err != nil {
		return fmt.Errorf("bare consumer: %w", err)
	}
	rep.Bare = bare

	b.progress("phase run: the goshawk run pipeline into ClickHouse")
	run, stored, err := b.pipelinePhase(ctx, topic, targets)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	rep.Run = run
	for d, n := range stored {
		if b.staged(d) {
			rep.StoredStageFlags += n
		} else {
			rep.StoredFlags += n
		}
	}

	if cfg.LatencyFor > 0 {
		b.progress("phase latency: %g msg/s for %s (first %s not sampled)", cfg.Rate, cfg.LatencyFor, cfg.Warmup)
		lat, err := b.latency(ctx, topic+"-latency")
		if err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		rep.Latency = lat
	}

	b.progress("phase replay: one core (GOMAXPROCS=1)")
	replay, flags, err := b.replay(ctx)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	rep.Replay = replay
	b.progress("phase decode: encoding/json only, one core (GOMAXPROCS=1)")
	if rep.Decode, err = b.decode(ctx); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	for d, n := range flags {
		if b.staged(d) {
			rep.ReplayStageFlags += n
		} else {
			rep.ReplayFlags += n
		}
	}
	return nil
}

// localServers finds the processes of the Kafka brokers and ClickHouse
// servers that listen on this machine, by their ports.
func localServers(cfg Config) []server {
	var out []server
	seen := map[int]bool{}
	add := func(name string, addrs []string) {
		for _, a := range addrs {
			_, port, err := net.SplitHostPort(a)
			if err != nil || !allLoopback([]string{a}) {
				continue
			}
			n, err := strconv.Atoi(port)
			if err != nil {
				continue
			}
			if pid := listeningPID(n); pid != 0 && !seen[pid] {
				seen[pid] = true
				out = append(out, server{name: name, pid: pid})
			}
		}
	}
	add("Kafka", cfg.Brokers)
	add("ClickHouse", cfg.ClickHouse.Addr)
	return out
}

// produce writes the generated events into topic, and the same events as
// JSON lines into a temporary file for the replay phase.
func (b *bench) produce(ctx context.Context, topic string) error {
	f, err := os.CreateTemp("", "goshawk-bench-*.jsonl")
	if err != nil {
		return fmt.Errorf("temporary file: %w", err)
	}
	b.file = f.Name()
	defer f.Close()
	lines := bufio.NewWriterSize(f, 1<<20)
	w := newWriter(b.cfg.Brokers, topic, 10*time.Millisecond)
	defer w.Close()
	gen := generator.New(b.cfg.Seed, generator.Options{BadRatio: b.cfg.BadRatio})
	batch := make([]kafka.Message, 0, 1000)
	for sent := 0; sent < b.cfg.Messages; {
		batch = batch[:0]
		for len(batch) < cap(batch) && sent+len(batch) < b.cfg.Messages {
			e := gen.Next()
			batch = append(batch, kafka.Message{Key: e.Key, Value: e.Value})
			// A record with a line break cannot be a line; such records
			// are bad ones, which have no flags either way.
			if !strings.ContainsAny(string(e.Value), "\r\n") {
				lines.Write(e.Value)
				lines.WriteByte('\n')
			}
		}
		if err := write(ctx, w, batch); err != nil {
			return err
		}
		sent += len(batch)
	}
	if err := lines.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", b.file, err)
	}
	return f.Close()
}

// Phase is the measurement of one phase.
type Phase struct {
	Messages    int
	Elapsed     time.Duration // first record fetched → last record committed (replay: the whole replay)
	FromStart   time.Duration // phase start → last record committed (0 for replay)
	Writes      Writes        // to the flag store (the run phase)
	DeadLetters int64         // records the run phase dead-lettered
	usage
}

// Rate is messages per second over Elapsed.
func (p Phase) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Messages) / p.Elapsed.Seconds()
}

// bare runs the baseline consumer.
func (b *bench) bare(ctx context.Context, topic string, targets map[pipeline.TopicPartition]int64) (Phase, error) {
	group := b.name + "-bare"
	b.groups = append(b.groups, group)
	ctx, cancel := context.WithTimeout(ctx, b.cfg.PhaseTimeout)
	defer cancel()
	m := startMeter(b.servers...)
	start := time.Now()
	pr := newProbe(pipeline.NewKafkaSource(pipeline.KafkaConfig{Brokers: b.cfg.Brokers, Topic: topic, Group: group}, b.cfg.Log), nil)
	pr.setTargets(targets)
	err := consumeBare(ctx, pr, targets, b.cfg.CommitEvery)
	u := m.stop()
	if cerr := pr.Close(); cerr != nil {
		b.cfg.Log.Warn("closing the bare consumer", "error", cerr)
	}
	if err != nil {
		return Phase{}, err
	}
	return b.phase(start, pr, u)
}

// consumeBare fetches every record and commits the highest fetched offset
// of each partition every commitEvery records, and once more when every
// partition's last record is fetched.
func consumeBare(ctx context.Context, src *probe, targets map[pipeline.TopicPartition]int64, commitEvery int) error {
	fetched := map[pipeline.TopicPartition]int64{}
	reached := 0 // partitions whose last record was fetched
	pending := 0
	for {
		select {
		case <-src.done:
			return nil
		default:
		}
		rec, err := src.Fetch(ctx)
		if err != nil {
			return err
		}
		if last, ok := targets[rec.TopicPartition]; ok && rec.Offset >= last && fetched[rec.TopicPartition] < last {
			reached++
		}
		fetched[rec.TopicPartition] = rec.Offset
		pending++
		if pending < commitEvery && reached < len(targets) {
			continue
		}
		positions := make([]pipeline.Position, 0, len(fetched))
		for tp, off := range fetched {
			positions = append(positions, pipeline.Position{TopicPartition: tp, Offset: off})
		}
		if err := src.Commit(ctx, positions); err != nil {
			return err
		}
		pending = 0
	}
}

func (b *bench) phase(start time.Time, pr *probe, u usage) (Phase, error) {
	first, done := pr.firstFetch(), pr.finished()
	if first.IsZero() || done.IsZero() {
		return Phase{}, errors.New("the consumer never finished")
	}
	return Phase{Messages: b.cfg.Messages, Elapsed: done.Sub(first), FromStart: done.Sub(start), usage: u}, nil
}

// runPipeline starts the pipeline and waits until pr is done, or the
// pipeline stops, or the phase times out. It returns the usage up to done,
// and stops the pipeline.
func (b *bench) runPipeline(ctx context.Context, spec PipelineSpec, pr *probe, during func(ctx context.Context) error) (usage, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.PhaseTimeout+b.cfg.LatencyFor)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	m := startMeter(b.servers...)
	stopped := make(chan error, 1)
	go func() { stopped <- b.cfg.Pipeline(runCtx, spec) }()
	if during != nil {
		if err := during(ctx); err != nil {
			stop()
			<-stopped
			return usage{}, err
		}
	}
	select {
	case <-pr.done:
	case err := <-stopped:
		m.stop()
		if err == nil {
			err = errors.New("stopped by itself")
		}
		return usage{}, fmt.Errorf("pipeline stopped before it had committed everything: %w", err)
	case <-ctx.Done():
		m.stop()
		stop()
		<-stopped
		return usage{}, fmt.Errorf("not done within %s: %w", b.cfg.PhaseTimeout, ctx.Err())
	}
	u := m.stop()
	// Detector stages (spam) consume internal topics behind the messages
	// topic: let them settle before the pipeline stops, or their last
	// flags are missing from the count. Not part of the measured time.
	b.settle(ctx, spec.Database)
	stop()
	if err := <-stopped; err != nil {
		return u, fmt.Errorf("pipeline shutdown: %w", err)
	}
	return u, nil
}

// settle waits, when a detector has stages, until the number of flags
// ClickHouse shows has not changed for 3 s (at most a minute).
func (b *bench) settle(ctx context.Context, database string) {
	if !slices.ContainsFunc(b.cfg.Detectors, func(f detectors.Factory) bool { return len(f.Stages) > 0 }) {
		return
	}
	last, stable := uint64(0), 0
	for range 60 {
		n, err := b.countFlags(ctx, database)
		if err != nil {
			return
		}
		if n == last {
			if stable++; stable >= 3 {
				return
			}
		} else {
			last, stable = n, 0
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// pipelinePhase runs the pipeline over the whole topic and returns the
// phase and the number of flags ClickHouse then shows.
func (b *bench) pipelinePhase(ctx context.Context, topic string, targets map[pipeline.TopicPartition]int64) (Phase, map[string]uint64, error) {
	spec, pr, store := b.spec(topic, "-run", nil)
	pr.setTargets(targets)
	stopProfile, err := b.profile("pipeline.pprof")
	if err != nil {
		return Phase{}, nil, err
	}
	start := time.Now()
	u, err := b.runPipeline(ctx, spec, pr, nil)
	stopProfile()
	if err != nil {
		return Phase{}, nil, err
	}
	p, err := b.phase(start, pr, u)
	if err != nil {
		return Phase{}, nil, err
	}
	p.Writes = store.stats()
	if p.DeadLetters, err = b.admin.records(ctx, topic+".dlq"); err != nil {
		return Phase{}, nil, err
	}
	stored, err := b.countFlagsByDetector(ctx, spec.Database)
	return p, stored, err
}

func (b *bench) countFlagsByDetector(ctx context.Context, database string) (map[string]uint64, error) {
	cfg := b.cfg.ClickHouse
	cfg.Database = database
	w, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return w.Reader().CountFlagsByDetector(ctx)
}

// staged reports whether detector has stages: its flags come from stage
// consumers, whose decisions hold within a lateness bound that a backlog
// read at full speed breaks (see docs/spam.md), so they are compared with
// replay apart from the others.
func (b *bench) staged(detector string) bool {
	return slices.ContainsFunc(b.cfg.Detectors, func(f detectors.Factory) bool { return f.Name == detector && len(f.Stages) > 0 })
}

// spec names a phase's group and database and installs its probes.
func (b *bench) spec(topic, suffix string, lat *latencyProbe) (PipelineSpec, *probe, *timedStore) {
	pr := newProbe(nil, lat)
	store := &timedStore{lat: lat}
	spec := PipelineSpec{
		Topic:    topic,
		Group:    b.name + suffix,
		Database: b.db + strings.ReplaceAll(suffix, "-", "_"),
		WrapSource: func(s pipeline.Source) pipeline.Source {
			pr.Source = s
			return pr
		},
		WrapStore: func(w sinks.Writer) sinks.Writer {
			store.Writer = w
			return store
		},
	}
	b.groups = append(b.groups, spec.Group)
	b.databases = append(b.databases, spec.Database)
	return spec, pr, store
}

func (b *bench) countFlags(ctx context.Context, database string) (uint64, error) {
	cfg := b.cfg.ClickHouse
	cfg.Database = database
	w, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	return w.Reader().CountFlags(ctx)
}

// Latency is the result of the latency phase.
type Latency struct {
	Rate        float64       // asked for, messages per second
	Produced    int           // messages produced
	Producing   time.Duration // how long producing took
	Warmup      time.Duration
	FirstFetch  time.Duration // from the first record produced to the first fetched
	Samples     []time.Duration
	Flags       int    // flags acknowledged by ClickHouse, warm-up included
	Unmatched   int    // flags whose record the probe had not seen (should be 0)
	Staged      int    // flags raised by detector stages (spam), not sampled
	Stored      uint64 // flags ClickHouse shows afterwards
	Drain       time.Duration
	Writes      Writes
	DeadLetters int64 // records the phase dead-lettered
	usage
}

func (b *bench) latency(ctx context.Context, topic string) (*Latency, error) {
	res := &Latency{Rate: b.cfg.Rate, Warmup: b.cfg.Warmup}
	var lat *latencyProbe
	var pr *probe
	var spec PipelineSpec
	var store *timedStore
	w := newWriter(b.cfg.Brokers, topic, time.Millisecond)
	defer w.Close()
	var produceStart, produceEnd time.Time
	// Generated time runs thousands of times faster than the wall clock
	// (about 2 s of sent_at a message), and the pipeline dead-letters an
	// event whose sent_at is more than a day after its record's timestamp.
	// So the phase's events are generated to end, not start, now.
	opts := generator.Options{BadRatio: b.cfg.BadRatio}
	opts.Start = time.Now().UTC().Add(-generatedSpan(b.cfg.Seed+1, opts, int(b.cfg.Rate*b.cfg.LatencyFor.Seconds())+1))
	during := func(ctx context.Context) error {
		gen := generator.New(b.cfg.Seed+1, opts)
		produceStart = time.Now()
		lat.sampleFrom(produceStart.Add(b.cfg.Warmup))
		n, err := produceAt(ctx, w, gen, b.cfg.Rate, b.cfg.LatencyFor)
		produceEnd = time.Now()
		res.Produced, res.Producing = n, produceEnd.Sub(produceStart)
		if err != nil {
			return err
		}
		targets, err := b.admin.lastOffsets(ctx, topic)
		if err != nil {
			return err
		}
		pr.setTargets(targets)
		return nil
	}
	lat = newLatencyProbe(time.Time{})
	lat.stageBy = map[string]bool{}
	for _, f := range b.cfg.Detectors {
		if len(f.Stages) > 0 {
			lat.stageBy[f.Name] = true
		}
	}
	spec, pr, store = b.spec(topic, "-latency", lat)
	u, err := b.runPipeline(ctx, spec, pr, during)
	if err != nil {
		return nil, err
	}
	res.usage = u
	res.Writes = store.stats()
	res.Drain = pr.finished().Sub(produceEnd)
	if first := pr.firstFetch(); !first.IsZero() {
		res.FirstFetch = first.Sub(produceStart)
	}
	res.Samples, res.Flags, res.Unmatched, res.Staged = lat.result()
	if res.DeadLetters, err = b.admin.records(ctx, topic+".dlq"); err != nil {
		return nil, err
	}
	res.Stored, err = b.countFlags(ctx, spec.Database)
	return res, err
}

// generatedSpan is how far the sent_at of the n-th event the generator
// gives lies after the first's.
func generatedSpan(seed int64, opts generator.Options, n int) time.Duration {
	gen := generator.New(seed, opts)
	var first, last time.Time
	for range n {
		e := gen.Next()
		if e.Bad {
			continue
		}
		if first.IsZero() {
			first = e.Time
		}
		last = e.Time
	}
	return last.Sub(first)
}

// replay runs pipeline.Replay over the generated file on one core.
func (b *bench) replay(ctx context.Context) (Phase, map[string]int, error) {
	f, err := os.Open(b.file)
	if err != nil {
		return Phase{}, nil, err
	}
	defer f.Close()
	stopProfile, err := b.profile("replay.pprof")
	if err != nil {
		return Phase{}, nil, err
	}
	m := startMeter(b.servers...)
	prev := runtime.GOMAXPROCS(1)
	start := time.Now()
	sum, err := pipeline.Replay(ctx, []pipeline.ReplayInput{{Name: b.file, R: f}}, b.cfg.Detectors, b.cfg.Rules,
		detectors.EngineOptions{Clock: detectors.EventTime}, io.Discard)
	elapsed := time.Since(start)
	runtime.GOMAXPROCS(prev)
	u := m.stop()
	stopProfile()
	if err != nil {
		return Phase{}, nil, err
	}
	return Phase{Messages: sum.Messages + len(sum.Rejected), Elapsed: elapsed, usage: u}, sum.ByDetector, nil
}

// decode decodes the generated file with encoding/json into event.Message
// on one core, and does nothing else with it: what replay's cost is
// measured against (the yardstick of pipeline's detection-cost guard, and
// of issue #16: replay at most 3× this).
func (b *bench) decode(ctx context.Context) (Phase, error) {
	data, err := os.ReadFile(b.file)
	if err != nil {
		return Phase{}, err
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	m := startMeter(b.servers...)
	start := time.Now()
	n := 0
	for line := range bytes.Lines(data) {
		if n%4096 == 0 && ctx.Err() != nil {
			return Phase{}, ctx.Err()
		}
		var m event.Message
		_ = json.Unmarshal(line, &m) // invalid records cost their attempt, as in replay
		n++
	}
	return Phase{Messages: n, Elapsed: time.Since(start), usage: m.stop()}, nil
}

// profile starts a CPU profile into ProfileDir/name, if ProfileDir is set.
func (b *bench) profile(name string) (stop func(), err error) {
	if b.cfg.ProfileDir == "" {
		return func() {}, nil
	}
	path := filepath.Join(b.cfg.ProfileDir, name)
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	b.progress("writing a CPU profile to %s", path)
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// cleanup removes what the run created, unless Keep is set. Failures are
// noted in the report, not returned: the numbers stand.
func (b *bench) cleanup(ctx context.Context, rep *Report) {
	if b.file != "" {
		os.Remove(b.file)
	}
	if b.cfg.Keep {
		rep.Notes = append(rep.Notes, fmt.Sprintf("kept topics %s, consumer groups %s and ClickHouse databases %s",
			strings.Join(b.topics, ", "), strings.Join(b.groups, ", "), strings.Join(b.databases, ", ")))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var errs []error
	if len(b.groups) > 0 {
		errs = append(errs, b.admin.deleteGroups(ctx, b.groups))
	}
	// The pipeline also made internal topics named after the run's topics
	// (<topic>.goshawk-state, <topic>.goshawk-<stream>): every topic that
	// starts with the run's unique name goes.
	topics := slices.Clone(b.topics)
	if more, err := b.admin.topicsWithPrefix(ctx, b.name); err != nil {
		errs = append(errs, err)
	} else {
		topics = append(topics, more...)
		slices.Sort(topics)
		topics = slices.Compact(topics)
	}
	if len(topics) > 0 {
		errs = append(errs, b.admin.deleteTopics(ctx, topics))
	}
	if len(b.databases) > 0 {
		errs = append(errs, b.dropDatabases(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		rep.Notes = append(rep.Notes, "cleanup incomplete: "+strings.ReplaceAll(err.Error(), "\n", "; "))
	}
}

func (b *bench) dropDatabases(ctx context.Context) error {
	conn, err := clickhouse.Dial(ctx, b.cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	var errs []error
	for _, db := range b.databases {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", db, err))
		}
	}
	return errors.Join(errs...)
}
