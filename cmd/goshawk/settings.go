package main

import (
	"crypto/tls"
	"runtime"
	"time"

	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/internal/secret"
	"github.com/goshawk-safety/goshawk/sinks"
)

// kafkaSettings are shared by every subcommand that talks to Kafka.
type kafkaSettings struct {
	Brokers  []string
	Topic    string
	Security kafkaSecurity // TLS and SASL (privacy.go)
}

func (k *kafkaSettings) register(f *flags) {
	f.List(&k.Brokers, "brokers", "localhost:9092", "Kafka bootstrap brokers")
	f.String(&k.Topic, "topic", "messages", "topic of message events (record key = conversation_id)")
	k.Security.register(f)
}

func (k *kafkaSettings) validate(f *flags) {
	f.check(len(k.Brokers) == 0, "brokers", "at least one broker address is required")
	f.check(k.Topic == "", "topic", "must not be empty")
	k.Security.validate(f)
}

// storeSettings choose and configure the flag store.
type storeSettings struct {
	Sink                   string
	ClickHouseAddr         []string
	ClickHouseDatabase     string
	ClickHouseUser         string
	ClickHousePassword     secret.Value
	ClickHousePasswordFile string
	ClickHouseTLS          bool
	ClickHouseTLSCAFile    string
	ClickHouseTLSInsecure  bool
	SQLitePath             string

	tls     *tls.Config      // from the ClickHouse TLS settings
	protect sinks.Protection // set by the commands that write flags
}

func (s *storeSettings) register(f *flags, defaultSink string) {
	f.String(&s.Sink, "sink", defaultSink, "flag store: clickhouse or sqlite")
	f.List(&s.ClickHouseAddr, "clickhouse-addr", "localhost:9000", "ClickHouse native-protocol addresses")
	f.String(&s.ClickHouseDatabase, "clickhouse-database", "goshawk", "ClickHouse database (created by migrate)")
	f.String(&s.ClickHouseUser, "clickhouse-user", "default", "ClickHouse user")
	f.Secret(&s.ClickHousePassword, "clickhouse-password", "ClickHouse password")
	f.String(&s.ClickHousePasswordFile, "clickhouse-password-file", "", "file holding the ClickHouse password")
	f.Bool(&s.ClickHouseTLS, "clickhouse-tls", false, "connect to ClickHouse with TLS (its secure native port, 9440 by default)")
	f.String(&s.ClickHouseTLSCAFile, "clickhouse-tls-ca-file", "", "PEM file of the CAs that sign ClickHouse's certificate (empty: the system's)")
	f.Bool(&s.ClickHouseTLSInsecure, "clickhouse-tls-insecure-skip-verify", false, "do not check ClickHouse's certificate (tests only)")
	f.String(&s.SQLitePath, "sqlite-path", "goshawk.db", "SQLite database file (sink sqlite)")
}

func (s *storeSettings) validate(f *flags) {
	switch s.Sink {
	case "clickhouse":
		f.check(len(s.ClickHouseAddr) == 0, "clickhouse-addr", "required when --sink=clickhouse")
		f.check(s.ClickHouseDatabase == "", "clickhouse-database", "required when --sink=clickhouse")
		s.ClickHousePassword = secretSetting(f, s.ClickHousePassword, s.ClickHousePasswordFile, "clickhouse-password")
		s.tls = clickhouseTLS(f, s.ClickHouseTLS, s.ClickHouseTLSCAFile, s.ClickHouseTLSInsecure)
	case "sqlite":
		f.check(s.SQLitePath == "", "sqlite-path", "required when --sink=sqlite")
	default:
		f.check(true, "sink", "%q is not one of clickhouse, sqlite", s.Sink)
	}
}

// pipelineSettings are the settings of `goshawk run` (and the demo).
type pipelineSettings struct {
	Group           string
	DLQTopic        string
	FlagsTopic      string
	Workers         int
	BatchSize       int
	BatchInterval   time.Duration
	ShutdownTimeout time.Duration
	MetricsAddr     string
	Detectors       []string
	RulesDir        string
	EvidenceContext int
	LogLevel        string
	StateTopic      string
	StreamPrefix    string
}

func (p *pipelineSettings) register(f *flags) {
	f.String(&p.Group, "group", "goshawk", "Kafka consumer group")
	f.String(&p.DLQTopic, "dlq-topic", "", "dead-letter topic for rejected events (default <topic>.dlq)")
	f.String(&p.FlagsTopic, "flags-topic", "", "also write flags to this Kafka topic (off when empty)")
	f.Int(&p.Workers, "workers", runtime.NumCPU(), "detection workers (conversations are sharded over them)")
	f.Int(&p.BatchSize, "batch-size", 20000, "flush the sink when this many messages are pending")
	f.Duration(&p.BatchInterval, "batch-interval", 500*time.Millisecond, "flush the sink at least this often")
	f.Duration(&p.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, flush and commit within this time")
	f.String(&p.MetricsAddr, "metrics-addr", ":9464", "address of /metrics, /healthz and /readyz (empty: off)")
	f.List(&p.Detectors, "detectors", "", "detectors to run (empty: all registered)")
	f.String(&p.RulesDir, "rules-dir", "", "directory of rule files overriding or extending the built-in rules; reloaded on SIGHUP and when its files change")
	f.Int(&p.EvidenceContext, "evidence-context", 40, "characters of context kept each side of a match in evidence")
	f.String(&p.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.String(&p.StateTopic, "state-topic", "", "compacted changelog of durable detector state, e.g. grooming conversations (default <topic>.goshawk-state)")
	f.String(&p.StreamPrefix, "stream-prefix", "", "prefix of the internal topics that re-key records by sender or fingerprint for detector stages (default <topic>.goshawk-)")
}

func (p *pipelineSettings) validate(f *flags) {
	f.check(p.Group == "", "group", "must not be empty")
	f.check(p.Workers < 1 || p.Workers > 1024, "workers", "%d is not between 1 and 1024", p.Workers)
	f.check(p.BatchSize < 1 || p.BatchSize > 1_000_000, "batch-size", "%d is not between 1 and 1000000", p.BatchSize)
	f.check(p.BatchInterval < time.Millisecond, "batch-interval", "%s is shorter than 1ms", p.BatchInterval)
	f.check(p.ShutdownTimeout < time.Second, "shutdown-timeout", "%s is shorter than 1s", p.ShutdownTimeout)
	f.check(p.EvidenceContext < 0 || p.EvidenceContext > 200, "evidence-context", "%d is not between 0 and 200", p.EvidenceContext)
	if _, err := parseLogLevel(p.LogLevel); err != nil {
		f.bad("log-level", err)
	}
}

// produceSettings are the settings of `goshawk produce`.
type produceSettings struct {
	Count    int
	Rate     float64
	Seed     int
	BadRatio float64
	Output   string
}

// register declares the settings with the defaults in def (Count, Rate and
// BadRatio are read from it; produce and demo differ).
func (p *produceSettings) register(f *flags, def produceSettings) {
	f.Int(&p.Count, "count", def.Count, "number of events to produce (0: until interrupted)")
	f.Float(&p.Rate, "rate", def.Rate, "events per second (0: as fast as possible)")
	f.Int(&p.Seed, "seed", 1, "generator seed; the same seed gives the same events")
	f.Float(&p.BadRatio, "bad-ratio", def.BadRatio, "share of deliberately invalid events (0–1), for testing the dead-letter path")
	f.String(&p.Output, "output", "", "write JSON lines to this file ('-' for stdout) instead of Kafka")
}

func (p *produceSettings) validate(f *flags) {
	f.check(p.Count < 0, "count", "%d is negative", p.Count)
	f.check(p.Rate < 0, "rate", "%g is negative", p.Rate)
	f.check(p.BadRatio < 0 || p.BadRatio > 1, "bad-ratio", "%g is not between 0 and 1", p.BadRatio)
}

// consoleSettings configure the triage console: its accounts (run, demo,
// console) and, for `goshawk console`, its address.
type consoleSettings struct {
	TokensFile string
	Addr       string
}

func (c *consoleSettings) register(f *flags, usage string) {
	f.String(&c.TokensFile, "console-tokens-file", "", usage)
}

// detectorSettings tune the built-in detectors beyond their rules. run and
// replay share them, so that a replay or backtest gives what the stream
// gives.
type detectorSettings struct {
	GroomingIdleExpiry       time.Duration
	GroomingMaxConversations int
}

func (d *detectorSettings) register(f *flags) {
	def := builtin.DefaultOptions()
	f.Duration(&d.GroomingIdleExpiry, "grooming-idle-expiry", def.Grooming.IdleExpiry, "grooming: a conversation's state is dropped after this long without a message (event time)")
	f.Int(&d.GroomingMaxConversations, "grooming-max-conversations", def.Grooming.MaxConversations, "grooming: conversations tracked per worker; the least recently active beyond it are dropped")
}

func (d *detectorSettings) validate(f *flags) {
	f.check(d.GroomingIdleExpiry < time.Hour, "grooming-idle-expiry", "%s is shorter than 1h", d.GroomingIdleExpiry)
	f.check(d.GroomingMaxConversations < 1, "grooming-max-conversations", "%d is not positive", d.GroomingMaxConversations)
}

func (d *detectorSettings) options() builtin.Options {
	o := builtin.DefaultOptions()
	o.Grooming.IdleExpiry = d.GroomingIdleExpiry
	o.Grooming.MaxConversations = d.GroomingMaxConversations
	return o
}
