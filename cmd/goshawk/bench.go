package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/internal/benchmark"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
)

// benchSettings are the settings of goshawk bench.
type benchSettings struct {
	Brokers            []string
	ClickHouseAddr     []string
	ClickHouseUser     string
	ClickHousePassword string
	Count              int
	Partitions         int
	Seed               int
	BadRatio           float64
	CommitEvery        int
	Rate               float64
	LatencyDuration    time.Duration
	Warmup             time.Duration
	PhaseTimeout       time.Duration
	CPUProfileDir      string
	Keep               bool
	LogLevel           string
}

func (s *benchSettings) register(f *flags) {
	f.List(&s.Brokers, "brokers", "localhost:9092", "Kafka bootstrap brokers")
	f.List(&s.ClickHouseAddr, "clickhouse-addr", "localhost:9000", "ClickHouse native-protocol addresses")
	f.String(&s.ClickHouseUser, "clickhouse-user", "default", "ClickHouse user")
	f.String(&s.ClickHousePassword, "clickhouse-password", "", "ClickHouse password")
	f.Int(&s.Count, "count", 200_000, "generated messages for the throughput phases")
	f.Int(&s.Partitions, "partitions", 4, "partitions of the benchmark topics")
	f.Int(&s.Seed, "seed", 7, "generator seed")
	f.Float(&s.BadRatio, "bad-ratio", 0, "share of deliberately invalid records (0–1)")
	f.Int(&s.CommitEvery, "commit-every", 1000, "the bare consumer commits every this many records")
	f.Float(&s.Rate, "rate", 5000, "messages per second in the latency phase")
	f.Duration(&s.LatencyDuration, "latency-duration", 45*time.Second, "how long the latency phase produces (0 skips it)")
	f.Duration(&s.Warmup, "warmup", 5*time.Second, "start of the latency phase that is not sampled (group join, catching up)")
	f.Duration(&s.PhaseTimeout, "phase-timeout", 5*time.Minute, "give up on a consuming phase after this long")
	f.String(&s.CPUProfileDir, "cpuprofile-dir", "", "write CPU profiles of the run and replay phases here (pipeline.pprof, replay.pprof)")
	f.Bool(&s.Keep, "keep", false, "keep the topics, consumer groups and ClickHouse databases the run creates")
	f.String(&s.LogLevel, "log-level", "warn", "log level of the pipeline under test: debug, info, warn or error")
}

func (s *benchSettings) validate(f *flags) {
	f.check(len(s.Brokers) == 0, "brokers", "at least one broker address is required")
	f.check(len(s.ClickHouseAddr) == 0, "clickhouse-addr", "at least one address is required")
	f.check(s.Count < 1 || s.Count > 100_000_000, "count", "%d is not between 1 and 100000000", s.Count)
	f.check(s.Partitions < 1 || s.Partitions > 1000, "partitions", "%d is not between 1 and 1000", s.Partitions)
	f.check(s.BadRatio < 0 || s.BadRatio > 1, "bad-ratio", "%g is not between 0 and 1", s.BadRatio)
	f.check(s.CommitEvery < 1, "commit-every", "%d is not positive", s.CommitEvery)
	f.check(s.Rate <= 0 || s.Rate > 1_000_000, "rate", "%g is not between 0 (exclusive) and 1000000", s.Rate)
	f.check(s.LatencyDuration < 0, "latency-duration", "%s is negative", s.LatencyDuration)
	f.check(s.LatencyDuration > 0 && s.Warmup >= s.LatencyDuration, "warmup", "%s leaves nothing of --latency-duration %s to sample", s.Warmup, s.LatencyDuration)
	f.check(s.Warmup < 0, "warmup", "%s is negative", s.Warmup)
	f.check(s.PhaseTimeout < time.Second, "phase-timeout", "%s is shorter than 1s", s.PhaseTimeout)
	if _, err := parseLogLevel(s.LogLevel); err != nil {
		f.bad("log-level", err)
	}
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("bench",
		"Measure Goshawk against real Kafka and ClickHouse, in one run and side by side. Produces --count\n"+
			"generated messages into a fresh topic, then: a bare kafka-go group consumer reads it (fetch and\n"+
			"commit, nothing else); the goshawk run pipeline reads it with a fresh group into a fresh ClickHouse\n"+
			"database; the pipeline runs on a second topic while messages are produced at --rate, and every\n"+
			"flag's latency from its Kafka record timestamp to ClickHouse acknowledging it is taken; replay runs\n"+
			"over the same messages on one core. Prints one table: messages/s, ratio to the bare consumer, CPU\n"+
			"seconds per million messages, peak resident memory and latency percentiles, with the machine and\n"+
			"the versions. Removes the topics, groups and databases it created.\n\n"+
			"The pipeline phases take goshawk run's defaults; its other settings (GOSHAWK_WORKERS,\n"+
			"GOSHAWK_BATCH_SIZE, GOSHAWK_DETECTORS, ...) are read from the environment as goshawk run reads them.", stderr)
	var s benchSettings
	s.register(f)
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	s.validate(f)
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	if s.CPUProfileDir != "" {
		if err := os.MkdirAll(s.CPUProfileDir, 0o755); err != nil {
			return usageError(fmt.Errorf("setting --cpuprofile-dir (%s): %w", envName("cpuprofile-dir"), err))
		}
	}
	// The run settings the pipeline phases will use, checked now: replay
	// must run the same detectors and rules.
	probe, err := benchRunConfig(s, benchmark.PipelineSpec{Topic: "bench", Group: "bench", Database: "bench"}, stderr)
	if err != nil {
		return err
	}
	factories, err := selectDetectors(probe.pipeline.Detectors, probe.tune.options())
	if err != nil {
		return err
	}
	rules, err := loadRules(factories, "rules-dir", probe.pipeline.RulesDir)
	if err != nil {
		return err
	}
	log := newLogger(stderr, s.LogLevel)
	chCfg := clickhouse.Config{Addr: s.ClickHouseAddr, User: s.ClickHouseUser, Password: s.ClickHousePassword, DialTimeout: 10 * time.Second}
	rep, err := benchmark.Run(ctx, benchmark.Config{
		Brokers:      s.Brokers,
		ClickHouse:   chCfg,
		Messages:     s.Count,
		Partitions:   s.Partitions,
		Seed:         int64(s.Seed),
		BadRatio:     s.BadRatio,
		CommitEvery:  s.CommitEvery,
		Rate:         s.Rate,
		LatencyFor:   s.LatencyDuration,
		Warmup:       s.Warmup,
		PhaseTimeout: s.PhaseTimeout,
		Detectors:    factories,
		Rules:        rules,
		ProfileDir:   s.CPUProfileDir,
		Keep:         s.Keep,
		Log:          log,
		Progress:     stderr,
		Pipeline: func(ctx context.Context, spec benchmark.PipelineSpec) error {
			c, err := benchRunConfig(s, spec, stderr)
			if err != nil {
				return err
			}
			store, err := openStore(ctx, c.store, log)
			if err != nil {
				return err
			}
			defer store.Close()
			return runPipeline(ctx, c, spec.WrapStore(store), log, nil, nil)
		},
	})
	if rep != nil {
		fmt.Fprintln(stdout)
		if werr := rep.Write(stdout); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if problems := rep.Problems(); len(problems) > 0 {
		return errors.New("bench: the numbers are not trustworthy: " + strings.Join(problems, "; "))
	}
	return nil
}

// benchRunConfig is the configuration of goshawk run for one pipeline
// phase: run's own parser, so its defaults and its environment apply,
// with the phase's topic, group and database, and the metrics server off.
func benchRunConfig(s benchSettings, spec benchmark.PipelineSpec, stderr io.Writer) (*runConfig, error) {
	args := []string{
		"--brokers", strings.Join(s.Brokers, ","),
		"--topic", spec.Topic,
		"--group", spec.Group,
		"--dlq-topic", spec.Topic + ".dlq",
		"--flags-topic", "", // never into a real flags topic from the environment
		"--sink", "clickhouse",
		"--clickhouse-addr", strings.Join(s.ClickHouseAddr, ","),
		"--clickhouse-database", spec.Database,
		"--clickhouse-user", s.ClickHouseUser,
		"--clickhouse-password", s.ClickHousePassword,
		"--metrics-addr", "",
		"--console-tokens-file", "",
		"--log-level", s.LogLevel,
	}
	c, err := parseRun(args, stderr)
	if err != nil {
		return nil, err
	}
	c.wrapSource = spec.WrapSource
	return c, nil
}
