package pipeline

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// ReportWriter durably stores user reports (the reports pipeline's store).
// WriteReports either stores the whole batch or returns an error; it makes
// one attempt (the batcher retries). Writing a report whose ReportID is
// stored already must not make it visible twice.
type ReportWriter interface {
	WriteReports(ctx context.Context, reports []event.Report) error
}

// SinkReports is the sink label of report writes.
const SinkReports = "reports"

// consumesMessages reports whether the pipeline consumes message events
// (not a detector stage's internal stream, not reports): the figures that
// describe the messages topic (consumed, in flight, end-to-end latency,
// shutdown flush) are this pipeline's alone.
func (p *Pipeline) consumesMessages() bool { return p.cfg.Stage == nil && !p.cfg.Reports }

// reportProcessor decodes and validates report events; each valid report
// is handed to the batcher, which writes it before the record is committed.
// Reports run no detector: they are an input for analysts, not for rules.
type reportProcessor struct {
	p   *Pipeline
	set *detectors.RuleSet
}

func (rp *reportProcessor) process(rec Record, r *result, _ map[string]statePos) {
	m := rp.p.deps.Metrics
	m.ReportsConsumed.Inc()
	rep, err := event.DecodeReportRecord(rec.Key, rec.Value, rec.Time)
	if err != nil {
		r.dead = deadLetterFor(rec, event.ReasonOf(err), err)
		return
	}
	r.reports = append(r.reports, *rep)
}

func (rp *reportProcessor) restore(string, string, []byte) error { return nil }
func (rp *reportProcessor) durable() bool                        { return false }
func (rp *reportProcessor) rules() *detectors.RuleSet            { return rp.set }
func (rp *reportProcessor) reload(set *detectors.RuleSet) error  { rp.set = set; return nil }
func (rp *reportProcessor) stateEntries(func(string, int))       {}

// writeReports stores the batch's reports, retried until it succeeds or
// ctx ends, and counts them by reason once they are stored.
func (p *Pipeline) writeReports(ctx context.Context, reports []event.Report) error {
	if len(reports) == 0 {
		return nil
	}
	if err := p.retry(ctx, SinkReports, func(ctx context.Context) error {
		return p.deps.Reports.WriteReports(ctx, reports)
	}); err != nil {
		return err
	}
	m := p.deps.Metrics
	for i := range reports {
		m.Reports.WithLabelValues(string(reports[i].Reason)).Inc()
		if reports[i].ByMinor() {
			m.ReportsByMinor.Inc()
		}
	}
	return nil
}

// registerReports creates and registers the report metrics, with a zero
// series for every reason.
func (m *Metrics) registerReports(reg prometheus.Registerer) {
	m.ReportsConsumed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "goshawk_reports_consumed_total", Help: "Kafka records fetched from the reports topic."})
	m.Reports = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "goshawk_reports_total", Help: "User reports durably written, by reason."}, []string{"reason"})
	m.ReportsByMinor = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "goshawk_reports_by_minor_total", Help: "User reports durably written whose reporter declared an age under 18."})
	m.ReportsRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "goshawk_reports_rejected_total", Help: "Report records rejected by decoding or validation (dead-lettered), by reason."}, []string{"reason"})
	reg.MustRegister(m.ReportsConsumed, m.Reports, m.ReportsByMinor, m.ReportsRejected)
	for _, r := range event.ReportReasons {
		m.Reports.WithLabelValues(string(r))
	}
	for _, r := range event.Reasons {
		if r != event.ReasonTooManyRecipients { // a report has no recipients
			m.ReportsRejected.WithLabelValues(string(r))
		}
	}
}

// newReportsPipeline is the Instance's pipeline over the reports topic: its
// own consumer group (<group>.reports), the report processor, and the
// reports' dead-letter writer.
func newReportsPipeline(cfg InstanceConfig, deps InstanceDeps, base Deps) (*Pipeline, error) {
	if deps.Reports == nil {
		return nil, errors.New("pipeline: a reports topic is set but no report store")
	}
	kc := cfg.Kafka
	kc.Topic = cfg.ReportsTopic
	kc.Group = cfg.Kafka.Group + ".reports"
	d := base
	d.Reports = deps.Reports
	if deps.ReportsDeadLetter != nil {
		d.DeadLetter = deps.ReportsDeadLetter
	}
	d.Log = deps.Log.With("stream", "reports")
	d.Source = NewKafkaSource(kc, d.Log)
	pc := cfg.Pipeline
	pc.Stage, pc.Reports = nil, true
	return New(pc, d)
}
