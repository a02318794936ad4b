package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goshawk-safety/goshawk/generator"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/sinks/sqlite"
	"github.com/goshawk-safety/goshawk/triage"
)

// reportSettings configure the topic of user reports (run, demo, produce).
type reportSettings struct {
	Topic    string
	DLQTopic string
}

func (r *reportSettings) register(f *flags) {
	f.String(&r.Topic, "reports-topic", "reports", "topic of user report events (record key = conversation_id), consumed in group <group>.reports; empty: no reports")
	f.String(&r.DLQTopic, "reports-dlq-topic", "", "dead-letter topic for rejected report events (default <reports-topic>.dlq)")
}

// resolve fills the default dead-letter topic and checks that the report
// topics differ from the messages pipeline's.
func (r *reportSettings) resolve(f *flags, k kafkaSettings, p pipelineSettings) {
	if r.Topic == "" {
		return
	}
	if r.DLQTopic == "" {
		r.DLQTopic = r.Topic + ".dlq"
	}
	taken := map[string]string{k.Topic: "--topic", p.DLQTopic: "--dlq-topic", p.StateTopic: "--state-topic", p.FlagsTopic: "--flags-topic"}
	for _, t := range []struct{ name, topic string }{{"reports-topic", r.Topic}, {"reports-dlq-topic", r.DLQTopic}} {
		if other, ok := taken[t.topic]; ok && t.topic != "" {
			f.check(true, t.name, "%q is also %s", t.topic, other)
		}
	}
	f.check(r.DLQTopic == r.Topic, "reports-dlq-topic", "must differ from --reports-topic")
}

// reportWriter is the store's report writer, when it keeps reports (both
// built-in stores do).
func reportWriter(store sinks.Writer) (pipeline.ReportWriter, error) {
	w, ok := store.(pipeline.ReportWriter)
	if !ok {
		return nil, fmt.Errorf("the %T store keeps no reports: set --reports-topic to empty (%s=)", store, envName("reports-topic"))
	}
	return w, nil
}

// addReports sets the report store and the reports' dead-letter writer in
// deps when a reports topic is set; close closes the writer.
func addReports(c *runConfig, store sinks.Writer, deps *pipeline.InstanceDeps) (close func(), err error) {
	if c.pipeline.Reports.Topic == "" {
		return func() {}, nil
	}
	if deps.Reports, err = reportWriter(store); err != nil {
		return nil, usageError(err)
	}
	// TLS and SASL as for every Kafka connection (privacy.go); the report
	// consumer takes them from the Instance's KafkaConfig.Dialer.
	dead := pipeline.NewKafkaDeadLettersWith(c.kafka.Brokers, c.pipeline.Reports.DLQTopic, c.kafka.Security.built.Transport())
	deps.ReportsDeadLetter = dead
	return func() { dead.Close() }, nil
}

// commentExpirer is a store that clears the comments of old user reports
// (both built-in stores do).
type commentExpirer interface {
	ExpireReportComments(ctx context.Context, cutoff time.Time) (int64, error)
}

// expireReportComments clears the comments of reports made before cutoff,
// when the store keeps reports; it is part of evidence retention
// (privacy.go): a comment is as sensitive as message text.
func expireReportComments(ctx context.Context, store any, cutoff time.Time) (int64, error) {
	ce, ok := store.(commentExpirer)
	if !ok {
		return 0, nil
	}
	return ce.ExpireReportComments(ctx, cutoff)
}

// reportProduceSettings are produce's and demo's report settings.
type reportProduceSettings struct {
	Count  int
	Topic  string
	Output string
}

func (r *reportProduceSettings) register(f *flags, def int) {
	f.Int(&r.Count, "reports", def, "user reports to produce about the generated conversations, spread over the messages (with --count 0: this many per 10,000 messages)")
	f.String(&r.Topic, "reports-topic", "reports", "topic of the reports (record key = conversation_id)")
	f.String(&r.Output, "reports-output", "", "with --output: write the reports as JSON lines to this file (default <output> with .reports before its extension)")
}

func (r *reportProduceSettings) validate(f *flags, k kafkaSettings, p produceSettings) {
	f.check(r.Count < 0, "reports", "%d is negative", r.Count)
	if r.Count == 0 {
		return
	}
	if p.Output == "" {
		f.check(r.Topic == "", "reports-topic", "required with --reports")
		f.check(r.Topic == k.Topic, "reports-topic", "must differ from --topic")
		return
	}
	if r.Output == "" && p.Output != "-" {
		ext := filepath.Ext(p.Output)
		r.Output = strings.TrimSuffix(p.Output, ext) + ".reports" + ext
	}
	f.check(r.Output == "", "reports-output", "required with --reports when --output is '-'")
	f.check(r.Output != "" && r.Output == p.Output, "reports-output", "must differ from --output")
}

// reportPacer interleaves reports with the messages: Count reports spread
// evenly over the messages, each batch of them right after the messages
// that bring the total due.
type reportPacer struct {
	gen      *generator.Generator
	n, count int
	sent     int
	topic    string
	output   string
}

// newReportPacer returns nil when no reports are asked for.
func newReportPacer(gen *generator.Generator, r reportProduceSettings, messages int) *reportPacer {
	if r.Count == 0 {
		return nil
	}
	return &reportPacer{gen: gen, n: r.Count, count: messages, topic: r.Topic, output: r.Output}
}

// due is the number of reports due after messages messages.
func (rp *reportPacer) due(messages int) int {
	if rp.count == 0 {
		return rp.n * messages / 10_000
	}
	return min(rp.n, rp.n*messages/rp.count)
}

// interleave returns a send for messages that also sends the reports due
// after each batch.
func (rp *reportPacer) interleave(messages, reports func([]generator.Event) error) func([]generator.Event) error {
	total := 0
	return func(batch []generator.Event) error {
		if err := messages(batch); err != nil {
			return err
		}
		total += len(batch)
		var due []generator.Event
		for rp.sent+len(due) < rp.due(total) {
			due = append(due, rp.gen.Report())
		}
		if len(due) == 0 {
			return nil
		}
		if err := reports(due); err != nil {
			return err
		}
		rp.sent += len(due)
		return nil
	}
}

// demoReportTopics resolves the demo's report topics and returns those the
// embedded broker must hold.
func demoReportTopics(f *flags, c *runConfig, r *reportProduceSettings) []string {
	c.pipeline.Reports.resolve(f, c.kafka, c.pipeline)
	r.Topic = c.pipeline.Reports.Topic
	f.check(r.Count < 0, "reports", "%d is negative", r.Count)
	if r.Topic == "" {
		r.Count = 0
		return nil
	}
	return []string{c.pipeline.Reports.Topic, c.pipeline.Reports.DLQTopic}
}

// waitReportsCaughtUp waits until the reports group has committed every
// report produced.
func waitReportsCaughtUp(ctx context.Context, c *runConfig, log *slog.Logger, runErr chan error) error {
	if c.pipeline.Reports.Topic == "" {
		return nil
	}
	lag := pipeline.NewLagMonitor(c.kafka.Brokers, c.pipeline.Reports.Topic, c.pipeline.Group+".reports",
		pipeline.NewMetrics(prometheus.NewRegistry(), nil), log)
	lag.Client.Transport = c.kafka.Security.built.Transport()
	return waitCaughtUp(ctx, lag, runErr)
}

// printReportSummary prints the demo's reports: how many, how many by
// minors, and how many no flag matched.
func printReportSummary(ctx context.Context, w io.Writer, store *sqlite.Writer) error {
	cs := store.Console()
	st, err := cs.ReportStats(ctx)
	if err != nil || st.Reports == 0 {
		return err
	}
	page, err := cs.Queue(ctx, triage.QueueFilter{Limit: 1})
	if err != nil {
		return err
	}
	var undetected int64
	for _, n := range page.Undetected {
		undetected += n
	}
	fmt.Fprintf(w, "User reports stored: %d (%d reported, not detected: in the console's queue on their own)\n", st.Reports, undetected)
	return nil
}
