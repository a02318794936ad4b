package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
	flagstopic "github.com/goshawk-safety/goshawk/sinks/kafka"
	"github.com/goshawk-safety/goshawk/sinks/sqlite"
)

type runConfig struct {
	kafka    kafkaSettings
	store    storeSettings
	pipeline pipelineSettings
	console  consoleSettings // triage console (console.go)
	privacy  privacySettings // evidence encryption, retention, pseudonyms (privacy.go)
	proxy    proxySettings   // the console's trusted reverse proxy (privacy.go)
	tune     detectorSettings

	consoleOpts consoleExtras
	// wrapSource, when set, wraps the Kafka source: goshawk bench times
	// the consumer through it (bench.go). Not a setting.
	wrapSource func(pipeline.Source) pipeline.Source
}

// register declares every setting of goshawk run.
func (c *runConfig) register(f *flags) {
	c.kafka.register(f)
	c.store.register(f, "clickhouse")
	c.pipeline.register(f)
	c.console.register(f, "file of triage console accounts, lines role:sha256hex:name; serves /console/ on --metrics-addr (empty: no console)")
	c.privacy.register(f)
	c.proxy.register(f)
	c.tune.register(f)
}

func parseRun(args []string, stderr io.Writer) (*runConfig, error) {
	c := &runConfig{}
	f := newFlags("run", "Consume message events from Kafka, run the detectors, write flags to the store.", stderr)
	c.register(f)
	if err := f.Parse(args); err != nil {
		return nil, usageError(err)
	}
	c.kafka.validate(f)
	c.store.validate(f)
	c.pipeline.validate(f)
	c.tune.validate(f)
	c.privacy.validate(f, true)
	c.store.protect = c.privacy.protection()
	c.consoleOpts = consoleExtras{Keys: c.privacy.keys, Pseudonyms: c.privacy.pseudo, Proxy: c.proxy.build(f)}
	if c.pipeline.DLQTopic == "" {
		c.pipeline.DLQTopic = c.kafka.Topic + ".dlq"
	}
	if c.pipeline.StateTopic == "" {
		c.pipeline.StateTopic = c.kafka.Topic + ".goshawk-state"
	}
	if c.pipeline.StreamPrefix == "" {
		c.pipeline.StreamPrefix = c.kafka.Topic + ".goshawk-"
	}
	f.check(c.pipeline.DLQTopic == c.kafka.Topic, "dlq-topic", "must differ from --topic")
	f.check(c.pipeline.StateTopic == c.kafka.Topic || c.pipeline.StateTopic == c.pipeline.DLQTopic, "state-topic", "must differ from --topic and --dlq-topic")
	f.check(c.pipeline.FlagsTopic != "" && c.pipeline.FlagsTopic == c.kafka.Topic, "flags-topic", "must differ from --topic")
	c.pipeline.Reports.resolve(f, c.kafka, c.pipeline)
	return c, usageError(f.validated())
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseRun(args, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, c.pipeline.LogLevel)
	// The console's accounts are configuration: a bad tokens file is
	// reported before anything connects.
	var accounts *console.Accounts
	if c.console.TokensFile != "" {
		if accounts, err = loadConsoleAccounts(c.console); err != nil {
			return err
		}
	}
	store, err := openStore(ctx, c.store, log)
	if err != nil {
		return err
	}
	defer store.Close()
	// Triage console (console.go): on the metrics server when accounts are configured.
	reg := prometheus.NewRegistry()
	var consoleHandler http.Handler
	if c.console.TokensFile != "" || c.consoleOpts.Proxy != nil {
		if consoleHandler, _, err = newConsole(ctx, store, accounts, reg, log, c.pipeline.EvidenceContext, c.consoleOpts); err != nil {
			return err
		}
	}
	return runPipeline(ctx, c, store, log, reg, consoleHandler)
}

// runPipeline wires and runs the pipeline with its HTTP endpoints. Metrics
// are registered on reg (a new registry when nil). consoleHandler, when not
// nil, is served at /console/ on the metrics server.
func runPipeline(ctx context.Context, c *runConfig, store sinks.Writer, log *slog.Logger, reg *prometheus.Registry, consoleHandler http.Handler) error {
	registry, err := builtin.RegistryWith(c.tune.options())
	if err != nil {
		return fmt.Errorf("detectors: %w", err)
	}
	factories, err := registry.Factories(c.pipeline.Detectors)
	if err != nil {
		return usageError(fmt.Errorf("setting --detectors (%s): %w", envName("detectors"), err))
	}
	names := make([]string, len(factories))
	for i, f := range factories {
		names[i] = f.Name
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := pipeline.NewMetrics(reg, names)
	watcher := &pipeline.RuleWatcher{Dir: c.pipeline.RulesDir, Factories: factories, Metrics: metrics, Log: log}
	rules, err := watcher.Load()
	if err != nil {
		return usageError(fmt.Errorf("setting --rules-dir (%s): %w", envName("rules-dir"), err))
	}

	sec := c.kafka.Security.built // TLS and SASL for every Kafka connection
	dead := pipeline.NewKafkaDeadLettersWith(c.kafka.Brokers, c.pipeline.DLQTopic, sec.Transport())
	defer dead.Close()
	lag := pipeline.NewLagMonitor(c.kafka.Brokers, c.kafka.Topic, c.pipeline.Group, metrics, log)
	lag.Client.Transport = sec.Transport()
	deps := pipeline.InstanceDeps{
		Store:      store,
		DeadLetter: dead,
		Lag:        lag,
		Metrics:    metrics,
		Log:        log,
	}
	if c.pipeline.FlagsTopic != "" {
		ft, err := flagstopic.NewWith(c.kafka.Brokers, c.pipeline.FlagsTopic, flagstopic.Options{
			Transport: sec.Transport(), Protection: c.store.protect, Evidence: c.privacy.FlagsTopicEv == "sealed"})
		if err != nil {
			return usageError(fmt.Errorf("setting --flags-topic-evidence (%s): %w", envName("flags-topic-evidence"), err))
		}
		defer ft.Close()
		deps.FlagsTopic = ft
	}
	closeReports, err := addReports(c, store, &deps) // reports.go
	if err != nil {
		return err
	}
	defer closeReports()
	if ex, ok := store.(evidenceExpirer); ok && c.privacy.RetentionDays > 0 {
		retCtx, stopRetention := context.WithCancel(ctx)
		defer stopRetention()
		go runRetention(retCtx, ex, c.privacy.RetentionDays, c.privacy.RetentionInterval, log)
	}
	p, err := pipeline.NewInstance(ctx, pipeline.InstanceConfig{
		Pipeline: pipeline.Config{
			Workers:         c.pipeline.Workers,
			BatchSize:       c.pipeline.BatchSize,
			BatchInterval:   c.pipeline.BatchInterval,
			ShutdownTimeout: c.pipeline.ShutdownTimeout,
			Detectors:       factories,
			Rules:           rules,
			Engine:          detectors.EngineOptions{Clock: detectors.WallClock, EvidenceContext: c.pipeline.EvidenceContext},
		},
		Kafka:        pipeline.KafkaConfig{Brokers: c.kafka.Brokers, Topic: c.kafka.Topic, Group: c.pipeline.Group, Dialer: sec.Dialer()},
		StateTopic:   c.pipeline.StateTopic,
		StreamPrefix: c.pipeline.StreamPrefix,
		ReportsTopic: c.pipeline.Reports.Topic,
		WrapSource:   c.wrapSource,
	}, deps)
	if err != nil {
		return err
	}
	watcher.Apply = p.SetRules
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go watcher.Run(watchCtx, rules, hup)
	if c.pipeline.MetricsAddr != "" {
		srv, err := serveHTTP(c.pipeline.MetricsAddr, reg, p.Ready, log, consoleHandler)
		if err != nil {
			return err
		}
		defer shutdownHTTP(srv)
	}
	log.Info("consuming", "topic", c.kafka.Topic, "group", c.pipeline.Group, "dlq_topic", c.pipeline.DLQTopic, "state_topic", c.pipeline.StateTopic,
		"reports_topic", c.pipeline.Reports.Topic,
		"sink", c.store.Sink, "detectors", names, "rules_version", rules.Version(), "rules", len(rules.All()),
		"kafka_tls", sec.TLS(), "kafka_sasl", sec.SASL(), "evidence_encryption", c.store.protect.Keys != nil,
		"pseudonyms", c.store.protect.Pseudonyms != nil, "evidence_retention_days", c.privacy.RetentionDays)
	return p.Run(ctx)
}

func openStore(ctx context.Context, s storeSettings, log *slog.Logger) (sinks.Writer, error) {
	switch s.Sink {
	case "clickhouse":
		cfg := clickhouseConfig(s)
		if err := clickhouse.Migrate(ctx, cfg); err != nil {
			return nil, fmt.Errorf("clickhouse at %v: %w", s.ClickHouseAddr, err)
		}
		w, err := clickhouse.Open(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("clickhouse at %v: %w", s.ClickHouseAddr, err)
		}
		log.Info("flag store ready", "sink", "clickhouse", "database", s.ClickHouseDatabase, "tls", s.tls != nil)
		return w, nil
	case "sqlite":
		w, err := sqlite.OpenProtected(ctx, s.SQLitePath, s.protect)
		if err != nil {
			return nil, fmt.Errorf("sqlite %s: %w", s.SQLitePath, err)
		}
		log.Info("flag store ready", "sink", "sqlite", "path", s.SQLitePath)
		return w, nil
	}
	return nil, fmt.Errorf("unknown sink %q", s.Sink)
}

func clickhouseConfig(s storeSettings) clickhouse.Config {
	return clickhouse.Config{
		Addr:        s.ClickHouseAddr,
		Database:    s.ClickHouseDatabase,
		User:        s.ClickHouseUser,
		Password:    s.ClickHousePassword.Reveal(),
		DialTimeout: 10 * time.Second,
		TLS:         s.tls,
		Protection:  s.protect,
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	l, _ := parseLogLevel(level) // validated with the settings
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// serveHTTP serves /metrics, /healthz (the process is alive) and /readyz
// (consuming, and the sinks accept writes), and the triage console at
// /console/ when consoleHandler is not nil.
func serveHTTP(addr string, reg *prometheus.Registry, ready func() bool, log *slog.Logger, consoleHandler http.Handler) (*http.Server, error) {
	mux := http.NewServeMux()
	if consoleHandler != nil {
		mux.Handle(console.Prefix, consoleHandler)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("setting --metrics-addr (%s): %w", envName("metrics-addr"), err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "error", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return srv, nil
}

func shutdownHTTP(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}
