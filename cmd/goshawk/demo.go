package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/generator"
	"github.com/goshawk-safety/goshawk/internal/seal"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks/sqlite"
	"github.com/goshawk-safety/goshawk/triage"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("demo",
		"Run Goshawk on this machine with nothing installed: an embedded Kafka-protocol broker, the real\n"+
			"consumer pipeline against it, the SQLite store, generated mixed traffic (some of it deliberately\n"+
			"invalid, for the dead-letter topic) and /metrics. Stops when every generated event is processed\n"+
			"(--count 0: keeps producing until interrupted).\n\n"+
			"The triage console is served at /console/ on --metrics-addr, with a one-time analyst token printed\n"+
			"at start-up (or the accounts of --console-tokens-file); with --serve (the default) the demo keeps\n"+
			"serving it after the summary until interrupted.", stderr)
	c := &runConfig{}
	var p produceSettings
	c.pipeline.register(f)
	// A few thousand events at a visible pace, 2% of them invalid.
	p.register(f, produceSettings{Count: 5000, Rate: 2500, BadRatio: 0.02})
	var reports reportProduceSettings // reports.go; the topic is --reports-topic
	f.Int(&reports.Count, "reports", 25, "user reports to produce about the generated conversations (with --count 0: this many per 10,000 messages)")
	f.String(&c.store.SQLitePath, "sqlite-path", "", "SQLite file for the flags (default: a new file in a temporary directory)")
	// Triage console (console.go).
	c.console.register(f, "file of triage console accounts, lines role:sha256hex:name (default: one analyst, token printed at start-up)")
	// Evidence encryption is on as in production; without keys the demo
	// makes an ephemeral one (privacy.go).
	c.privacy.register(f)
	c.tune.register(f)
	serve := true
	f.Bool(&serve, "serve", true, "after the summary, keep serving the console and /metrics until interrupted")
	if err := f.Parse(args); err != nil {
		return usageError(err)
	}
	c.pipeline.validate(f)
	c.tune.validate(f)
	p.validate(f)
	c.privacy.validate(f, false)
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	ephemeralKey := false
	if c.privacy.Encryption == "on" && c.privacy.keys == nil {
		k, err := seal.NewKey("demo-ephemeral")
		if err == nil {
			c.privacy.keys, err = seal.NewKeyring(k)
		}
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		ephemeralKey = true
	}
	c.store.protect = c.privacy.protection()
	if c.store.SQLitePath == "" {
		dir, err := os.MkdirTemp("", "goshawk-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		c.store.SQLitePath = filepath.Join(dir, "flags.db")
	}
	c.store.Sink = "sqlite"
	c.kafka.Topic = "messages"
	c.pipeline.DLQTopic = "messages.dlq"
	c.pipeline.StateTopic = "messages.goshawk-state"
	c.pipeline.StreamPrefix = "messages.goshawk-"
	topics := demoReportTopics(f, c, &reports) // reports.go
	if err := f.validated(); err != nil {
		return usageError(err)
	}
	log := newLogger(stderr, c.pipeline.LogLevel)

	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, append([]string{c.kafka.Topic, c.pipeline.DLQTopic}, topics...)...), kfake.AllowAutoTopicCreation())
	if err != nil {
		return fmt.Errorf("demo: embedded broker: %w", err)
	}
	defer cluster.Close()
	c.kafka.Brokers = cluster.ListenAddrs()

	store, err := sqlite.OpenProtected(ctx, c.store.SQLitePath, c.store.protect)
	if err != nil {
		return fmt.Errorf("demo: sqlite %s: %w", c.store.SQLitePath, err)
	}
	defer store.Close()

	fmt.Fprintf(stdout, "Goshawk demo\n  embedded Kafka broker: %v (topics %s)\n  flags (SQLite):        %s\n",
		c.kafka.Brokers, strings.Join(append([]string{c.kafka.Topic, c.pipeline.DLQTopic}, topics...), ", "), c.store.SQLitePath)
	if c.pipeline.MetricsAddr != "" {
		fmt.Fprintf(stdout, "  metrics:               http://localhost%s/metrics  (also /healthz, /readyz)\n", portOf(c.pipeline.MetricsAddr))
	}
	fmt.Fprintf(stdout, "  traffic:               %d generated events at %g/s, %.0f%% invalid; %d user reports\n", p.Count, p.Rate, p.BadRatio*100, reports.Count)
	switch {
	case ephemeralKey:
		fmt.Fprintln(stdout, "  evidence:              sealed (AES-256-GCM) with an ephemeral key held only in memory: the file's evidence\n"+
			"                         cannot be read after the demo ends (--evidence-keys-file keeps a key)")
	case c.store.protect.Keys != nil:
		fmt.Fprintf(stdout, "  evidence:              sealed (AES-256-GCM), key %s\n", c.store.protect.Keys.Active())
	default:
		fmt.Fprintln(stdout, "  evidence:              stored as plain text (--evidence-encryption=off)")
	}

	reg := prometheus.NewRegistry()
	// Triage console (console.go): auth is on, as in production; without a
	// tokens file one analyst account is made and its token printed once.
	var consoleHandler http.Handler
	consoleURL := "http://localhost" + portOf(c.pipeline.MetricsAddr) + console.Prefix
	if c.pipeline.MetricsAddr != "" {
		var accounts *console.Accounts
		token := ""
		if c.console.TokensFile != "" {
			if accounts, err = loadConsoleAccounts(c.console); err != nil {
				return err
			}
		} else {
			token = console.NewToken()
			if accounts, err = console.NewAccounts(console.AccountWithToken("demo-analyst", console.Analyst, token)); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
		}
		consoleCtx, stopConsole := context.WithCancel(ctx)
		defer stopConsole() // before store.Close
		extras := consoleExtras{Keys: c.privacy.keys, Pseudonyms: c.privacy.pseudo}
		if consoleHandler, _, err = newConsole(consoleCtx, store, accounts, reg, log, c.pipeline.EvidenceContext, extras); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(stdout, "  triage console:        %s\n", consoleURL)
		if token != "" {
			fmt.Fprintf(stdout, "  console token:         %s  (analyst \"demo-analyst\"; shown once, valid until the demo stops)\n", token)
		}
	}
	fmt.Fprintln(stdout)

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- runPipeline(runCtx, c, store, log, reg, consoleHandler) }()

	gen := generator.New(int64(p.Seed), generator.Options{BadRatio: p.BadRatio})
	pacer := newReportPacer(gen, reports, p.Count)
	produced, err := produceKafka(ctx, gen, c.kafka, p, pacer)
	if err != nil {
		stopRun()
		<-runErr
		return fmt.Errorf("demo: %w", err)
	}
	if p.Count > 0 && ctx.Err() == nil {
		lag := pipeline.NewLagMonitor(c.kafka.Brokers, c.kafka.Topic, c.pipeline.Group, pipeline.NewMetrics(prometheus.NewRegistry(), nil), log)
		if err := waitCaughtUp(ctx, lag, runErr); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := waitReportsCaughtUp(ctx, c, log, runErr); err != nil { // reports.go
			return fmt.Errorf("demo: %w", err)
		}
	}
	// Triage console: print the summary, then keep serving until interrupted.
	if consoleHandler != nil && serve && ctx.Err() == nil {
		if err := printDemoSummary(ctx, stdout, store, c.privacy.keys, produced, reg); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nServing the triage console at %s until Ctrl-C (--serve=false exits here).\n", consoleURL)
		select {
		case <-ctx.Done():
		case err := <-runErr:
			runErr <- err
		}
		stopRun()
		if err := <-runErr; err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		return nil
	}
	stopRun()
	if err := <-runErr; err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return printDemoSummary(context.WithoutCancel(ctx), stdout, store, c.privacy.keys, produced, reg)
}

// waitCaughtUp waits until the group has committed everything produced.
func waitCaughtUp(ctx context.Context, lag *pipeline.LagMonitor, runErr chan error) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-runErr:
			runErr <- err
			if err == nil {
				err = errors.New("pipeline stopped early")
			}
			return err
		case <-tick.C:
		}
		l, err := lag.Lag(ctx)
		if err != nil {
			continue
		}
		var total int64
		for _, n := range l {
			total += n
		}
		if total == 0 {
			return nil
		}
	}
}

// printDemoSummary prints counts and a few example flags. The examples'
// evidence is opened with keys, and each read is recorded in the evidence
// audit (actor "goshawk demo") like a console read.
func printDemoSummary(ctx context.Context, w io.Writer, store *sqlite.Writer, keys *seal.Keyring, produced int, reg *prometheus.Registry) error {
	byCat, err := store.CountsByCategory(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var total int64
	for _, n := range byCat {
		total += n
	}
	consumed, rejected := gatheredValue(reg, "goshawk_messages_consumed_total"), gatheredValue(reg, "goshawk_dead_letters_total")
	fmt.Fprintf(w, "Processed %d of %d produced events; %d rejected to the dead-letter topic.\n", int(consumed), produced, int(rejected))
	fmt.Fprintf(w, "Flags stored: %d\n", total)
	for _, c := range detectors.Categories {
		fmt.Fprintf(w, "  %-10s %d\n", c, byCat[c])
	}
	if err := printReportSummary(ctx, w, store); err != nil { // reports.go
		return fmt.Errorf("demo: %w", err)
	}
	recent, err := store.StoredFlags(ctx, 500)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var examples []sqlite.Stored
	shown := map[detectors.Category]int{}
	for _, s := range recent {
		// Shadow flags are for rule authors, not analysts (the console
		// leaves them out too).
		if f := s.Flag; f.Mode.OrLive() == detectors.Live && f.Severity.Rank() >= detectors.Medium.Rank() && shown[f.Category] < 3 {
			shown[f.Category]++
			examples = append(examples, s)
		}
	}
	var reads []triage.Access
	for _, s := range examples {
		reads = append(reads, triage.Access{At: time.Now().UTC(), Actor: "goshawk demo", Role: "cli",
			FlagID: s.Flag.FlagID, ConversationID: s.Flag.ConversationID, Purpose: "demo summary"})
	}
	if err := store.Console().RecordAccess(ctx, reads); err != nil {
		return fmt.Errorf("demo: evidence audit: %w", err)
	}
	fmt.Fprintln(w, "\nExamples (newest first, live rules, medium severity and above):")
	for _, s := range examples {
		f, text := s.Flag, s.Flag.Evidence
		if s.EvidenceKeyID != "" {
			if keys == nil {
				text = "(sealed with a key the demo does not have)"
			} else if text, err = keys.Open(s.EvidenceKeyID, f.FlagID, f.Evidence); err != nil {
				text = "(sealed with a key the demo does not have)"
			}
		}
		fmt.Fprintf(w, "  [%s/%s] %s rule=%s conversation=%s evidence=%q\n", f.Category, f.Severity, f.Detector, f.Rule, f.ConversationID, text)
	}
	return nil
}

func gatheredValue(reg *prometheus.Registry, name string) float64 {
	families, err := reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		var v float64
		for _, m := range mf.GetMetric() {
			v += m.GetCounter().GetValue()
		}
		return v
	}
	return 0
}

func portOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i:]
		}
	}
	return addr
}
