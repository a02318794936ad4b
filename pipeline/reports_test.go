package pipeline_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
	"github.com/goshawk-safety/goshawk/internal/kafkatest"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks"
)

// recordingReports is an in-memory report store that fails while blocked
// and its first failures writes.
type recordingReports struct {
	mu       sync.Mutex
	failures int
	attempts int
	blocked  atomic.Bool
	reports  map[string]event.Report
	writes   int
}

func (s *recordingReports) WriteReports(_ context.Context, reports []event.Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.attempts <= s.failures || s.blocked.Load() {
		return errors.New("report store unavailable (test)")
	}
	if s.reports == nil {
		s.reports = map[string]event.Report{}
	}
	for _, r := range reports {
		s.reports[r.ReportID] = r
		s.writes++
	}
	return nil
}

func (s *recordingReports) snapshot() map[string]event.Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]event.Report, len(s.reports))
	for k, v := range s.reports {
		out[k] = v
	}
	return out
}

// reportTraffic is generated messages with reports about them in between,
// some of the reports deliberately bad, one valid report delivered twice.
type reportTraffic struct {
	messages, reports []kafka.Message
	valid             map[string]event.Report // by report id
	bad               map[string]event.Reason // value -> reason
	nBad, nRecords    int
}

func generateReports(messages, every int, seed int64) *reportTraffic {
	tr := &reportTraffic{valid: map[string]event.Report{}, bad: map[string]event.Reason{}}
	g := generator.New(seed, generator.Options{BadRatio: 0.1})
	for i := range messages {
		e := g.Next()
		if !e.Bad { // bad messages are the messages tests' business (some are huge)
			tr.messages = append(tr.messages, kafka.Message{Key: e.Key, Value: e.Value})
		}
		if i%every != every-1 {
			continue
		}
		r := g.Report()
		tr.reports = append(tr.reports, kafka.Message{Key: r.Key, Value: r.Value})
		if r.Bad {
			tr.bad[string(r.Value)] = r.Reason
			tr.nBad++
			continue
		}
		rep, err := event.DecodeReport(r.Value)
		if err != nil {
			panic(err)
		}
		if len(tr.valid) == 0 { // delivered twice: stored once
			tr.reports = append(tr.reports, kafka.Message{Key: r.Key, Value: r.Value})
			tr.nRecords++
		}
		tr.valid[rep.ReportID] = *rep
	}
	tr.nRecords += len(tr.valid)
	return tr
}

type reportsHarness struct {
	cancel   context.CancelFunc
	done     chan error
	metrics  *pipeline.Metrics
	registry *prometheus.Registry
}

// startReportsInstance runs an Instance with the messages pipeline and the
// reports pipeline (group <group>.reports) on the broker.
func startReportsInstance(t *testing.T, broker, topic, reportsTopic, group string, store sinks.Writer, reports pipeline.ReportWriter) *reportsHarness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	factories := allDetectors(t)
	reg := prometheus.NewRegistry()
	metrics := pipeline.NewMetrics(reg, nil)
	dead := pipeline.NewKafkaDeadLetters([]string{broker}, topic+".dlq")
	reportsDead := pipeline.NewKafkaDeadLetters([]string{broker}, reportsTopic+".dlq")
	t.Cleanup(func() { dead.Close(); reportsDead.Close() })
	in, err := pipeline.NewInstance(ctx, pipeline.InstanceConfig{
		Pipeline: pipeline.Config{Workers: 2, BatchSize: 200, BatchInterval: 50 * time.Millisecond, ShutdownTimeout: 30 * time.Second,
			Detectors: factories, Rules: builtinRules(t, factories), Engine: detectors.EngineOptions{Clock: detectors.WallClock},
			RetryInitial: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond},
		Kafka:        pipeline.KafkaConfig{Brokers: []string{broker}, Topic: topic, Group: group},
		StateTopic:   topic + ".state",
		StreamPrefix: topic + ".",
		ReportsTopic: reportsTopic,
	}, pipeline.InstanceDeps{Store: store, DeadLetter: dead, Reports: reports, ReportsDeadLetter: reportsDead,
		Metrics: metrics, Log: testLogger(t)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h := &reportsHarness{cancel: cancel, done: make(chan error, 1), metrics: metrics, registry: reg}
	go func() { h.done <- in.Run(ctx) }()
	t.Cleanup(cancel)
	return h
}

func (h *reportsHarness) stop(t *testing.T) {
	t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("instance stopped with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("instance did not stop within 60s")
	}
}

// checkReportDeadLetters: the reports' dead-letter topic holds exactly the
// bad reports, each with its reason and the reports topic as its source.
func checkReportDeadLetters(t *testing.T, broker, dlq, reportsTopic string, tr *reportTraffic) {
	t.Helper()
	letters := kafkatest.ReadAll(context.Background(), t, broker, dlq)
	if len(letters) != tr.nBad {
		t.Errorf("%d report dead letters, %d bad reports", len(letters), tr.nBad)
	}
	for _, m := range letters {
		h := map[string]string{}
		for _, hd := range m.Headers {
			h[hd.Key] = string(hd.Value)
		}
		want, ok := tr.bad[string(m.Value)]
		switch {
		case !ok:
			t.Errorf("dead letter %.80q is not a bad report", m.Value)
		case h[pipeline.HeaderReason] != string(want):
			t.Errorf("dead letter %.60q: reason %q, want %q (detail %q)", m.Value, h[pipeline.HeaderReason], want, h[pipeline.HeaderDetail])
		}
		if h[pipeline.HeaderTopic] != reportsTopic || h[pipeline.HeaderDetail] == "" || h[pipeline.HeaderRejectedAt] == "" {
			t.Errorf("dead letter headers %v", h)
		}
	}
}

// The reports pipeline of an Instance on the embedded broker: valid
// reports are stored once each (a report delivered twice too), failed
// writes are retried, bad reports go to the reports' dead-letter topic with
// their reasons, both groups commit to the end, and the metrics count
// reports by reason apart from messages.
func TestReportsPipelineOnEmbeddedBroker(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "messages", "messages.dlq", "reports", "reports.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]
	tr := generateReports(6000, 40, 21)
	if tr.nBad == 0 || len(tr.valid) < 50 {
		t.Fatalf("traffic has %d bad and %d valid reports", tr.nBad, len(tr.valid))
	}
	ctx := context.Background()
	kafkatest.Produce(ctx, t, broker, "messages", tr.messages)
	kafkatest.Produce(ctx, t, broker, "reports", tr.reports)

	store := &recordingSink{}
	reports := &recordingReports{failures: 2}
	h := startReportsInstance(t, broker, "messages", "reports", "goshawk-r", store, reports)
	waitGroupsCommitted(t, broker, map[string]string{"goshawk-r": "messages", "goshawk-r.reports": "reports"}, 60*time.Second)
	h.stop(t)

	got := reports.snapshot()
	if len(got) != len(tr.valid) {
		t.Errorf("%d reports stored, %d valid reports produced", len(got), len(tr.valid))
	}
	byReason := map[event.ReportReason]int{}
	minors := 0
	for id, want := range tr.valid {
		g, ok := got[id]
		if !ok {
			t.Errorf("report %s not stored", id)
			continue
		}
		if g.ConversationID != want.ConversationID || g.Reason != want.Reason || !g.ReportedAt.Equal(want.ReportedAt) || g.Comment != want.Comment {
			t.Errorf("report %s stored as %+v, want %+v", id, g, want)
		}
		byReason[want.Reason]++
		if want.ByMinor() {
			minors++
		}
	}
	if len(store.snapshot()) == 0 {
		t.Error("the messages pipeline stored no flag")
	}
	checkReportDeadLetters(t, broker, "reports.dlq", "reports", tr)

	m := h.metrics
	if got := testutil.ToFloat64(m.ReportsConsumed); got != float64(len(tr.reports)) {
		t.Errorf("goshawk_reports_consumed_total = %v, want %d", got, len(tr.reports))
	}
	if got := testutil.ToFloat64(m.Consumed); got != float64(len(tr.messages)) {
		t.Errorf("goshawk_messages_consumed_total = %v, want the %d messages only", got, len(tr.messages))
	}
	dup := float64(tr.nRecords - len(tr.valid)) // the report delivered twice is written twice
	var total float64
	for _, r := range event.ReportReasons {
		n := testutil.ToFloat64(m.Reports.WithLabelValues(string(r)))
		total += n
		if n < float64(byReason[r]) || n > float64(byReason[r])+dup {
			t.Errorf("goshawk_reports_total{reason=%q} = %v, want %d", r, n, byReason[r])
		}
	}
	if total != float64(tr.nRecords) {
		t.Errorf("goshawk_reports_total sums to %v, want %d written", total, tr.nRecords)
	}
	if n := testutil.ToFloat64(m.ReportsByMinor); n < float64(minors) || n > float64(minors)+dup {
		t.Errorf("goshawk_reports_by_minor_total = %v, want %d", n, minors)
	}
	var rejected float64
	for _, r := range event.Reasons {
		if c, err := m.ReportsRejected.GetMetricWithLabelValues(string(r)); err == nil {
			rejected += testutil.ToFloat64(c)
		}
	}
	if rejected != float64(tr.nBad) {
		t.Errorf("goshawk_reports_rejected_total sums to %v, want %d", rejected, tr.nBad)
	}
	if got := testutil.ToFloat64(m.SinkErrors.WithLabelValues(pipeline.SinkReports)); got != 2 {
		t.Errorf("report store errors = %v, want the 2 injected", got)
	}
	if problems, err := testutil.GatherAndLint(h.registry); err != nil || len(problems) > 0 {
		t.Errorf("metrics lint: %v %v", err, problems)
	}
	promtoolCheck(t, h.registry)
}

// A report is committed only once it is stored: while the report store
// fails, the reports group commits nothing (the messages group goes on),
// and once it recovers everything is stored and committed.
func TestReportsNotCommittedBeforeStored(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "messages", "messages.dlq", "reports", "reports.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]
	tr := generateReports(1500, 25, 5)
	ctx := context.Background()
	kafkatest.Produce(ctx, t, broker, "messages", tr.messages)
	kafkatest.Produce(ctx, t, broker, "reports", tr.reports)

	reports := &recordingReports{}
	reports.blocked.Store(true)
	h := startReportsInstance(t, broker, "messages", "reports", "goshawk-b", &recordingSink{}, reports)
	waitGroupsCommitted(t, broker, map[string]string{"goshawk-b": "messages"}, 60*time.Second)
	time.Sleep(time.Second) // several batch intervals and retries
	for p, off := range kafkatest.Committed(ctx, t, broker, "goshawk-b.reports", "reports", []int{0, 1}) {
		if off > 0 {
			t.Fatalf("reports partition %d committed to %d while the report store fails", p, off)
		}
	}
	if n := len(reports.snapshot()); n != 0 {
		t.Fatalf("%d reports stored while blocked", n)
	}
	reports.blocked.Store(false)
	waitGroupsCommitted(t, broker, map[string]string{"goshawk-b.reports": "reports"}, 60*time.Second)
	h.stop(t)
	if got := len(reports.snapshot()); got != len(tr.valid) {
		t.Errorf("%d reports stored after recovery, want %d", got, len(tr.valid))
	}
	if errs := testutil.ToFloat64(h.metrics.SinkErrors.WithLabelValues(pipeline.SinkReports)); errs == 0 {
		t.Error("no failed report write was counted")
	}
}

func TestReportsPipelineNeedsAWriter(t *testing.T) {
	_, err := pipeline.New(pipeline.Config{Workers: 1, BatchSize: 1, BatchInterval: time.Second, ShutdownTimeout: time.Second, Reports: true},
		pipeline.Deps{Source: pipeline.NewKafkaSource(pipeline.KafkaConfig{Brokers: []string{"127.0.0.1:1"}, Topic: "r", Group: "g"}, testLogger(t)),
			Store: &recordingSink{}, DeadLetter: &memDeadLetters{}, Metrics: pipeline.NewMetrics(prometheus.NewRegistry(), nil)})
	if err == nil {
		t.Fatal("a reports pipeline without a ReportWriter was accepted")
	}
}
