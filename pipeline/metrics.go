package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// Metrics are the pipeline's Prometheus collectors. They are registered on
// the registry passed to NewMetrics (never the global default registry), so
// tests and several pipelines in one process do not collide.
type Metrics struct {
	Consumed       prometheus.Counter
	Decoded        prometheus.Counter
	Rejected       *prometheus.CounterVec // reason
	Flags          *prometheus.CounterVec // category, severity, detector, mode
	DetectorTime   *prometheus.HistogramVec
	BatchMessages  prometheus.Histogram
	BatchFlags     prometheus.Histogram
	SinkWriteTime  *prometheus.HistogramVec // sink
	SinkWrites     *prometheus.CounterVec   // sink
	SinkErrors     *prometheus.CounterVec   // sink
	DeadLetters    prometheus.Counter
	EndToEnd       *prometheus.HistogramVec // from
	ConsumerLag    *prometheus.GaugeVec     // partition
	Commits        prometheus.Counter
	CommitErrors   prometheus.Counter
	Rebalances     prometheus.Counter
	InFlight       prometheus.Gauge
	KafkaErrors    *prometheus.CounterVec // op
	ShutdownFlushS prometheus.Gauge
	RulesReloads   *prometheus.CounterVec // result
	RulesInfo      *prometheus.GaugeVec   // version
	RulesRunning   *prometheus.GaugeVec   // detector, mode
	StateEntries   *prometheus.GaugeVec   // detector
	StateRestores  prometheus.Counter
	StateRestored  prometheus.Counter
	StateErrors    prometheus.Counter
	StageRecords   *prometheus.CounterVec // stream
}

// Sink names used as label values.
const (
	SinkStore      = "store"
	SinkDeadLetter = "dead_letter"
	SinkFlagsTopic = "flags_topic"
	SinkChangelog  = "changelog"
	SinkForwards   = "internal_streams"
)

// NewMetrics creates and registers the collectors, and initialises every
// series whose label values are known up front to zero.
func NewMetrics(reg prometheus.Registerer, detectorNames []string) *Metrics {
	latency := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}
	m := &Metrics{
		Consumed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goshawk_messages_consumed_total", Help: "Kafka records fetched from the messages topic."}),
		Decoded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goshawk_messages_decoded_total", Help: "Records that decoded and validated as message events."}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goshawk_messages_rejected_total", Help: "Records rejected by decoding or validation, by reason."}, []string{"reason"}),
		Flags: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goshawk_flags_total", Help: "Flags durably written, by category, severity, detector and rule mode (live or shadow)."}, []string{"category", "severity", "detector", "mode"}),
		DetectorTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "goshawk_detector_duration_seconds", Help: "Time a detector spent on one message.",
			Buckets: []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2}}, []string{"detector"}),
		BatchMessages: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "goshawk_sink_batch_messages", Help: "Messages settled by one batch flush.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		BatchFlags: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "goshawk_sink_batch_flags", Help: "Flags written by one batch flush.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		SinkWriteTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "goshawk_sink_write_duration_seconds", Help: "Duration of one successful sink write attempt.",
			Buckets: latency}, []string{"sink"}),
		SinkWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goshawk_sink_write_attempts_total", Help: "Sink write attempts, successful or not."}, []string{"sink"}),
		SinkErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goshawk_sink_write_errors_total", Help: "Sink write attempts that failed (each is retried)."}, []string{"sink"}),
		DeadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goshawk_dead_letters_total", Help: "Rejected records acknowledged by the dead-letter topic."}),
		EndToEnd: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "goshawk_end_to_end_latency_seconds", Help: "Time from the message's sent_at (from=sent_at) or the Kafka record timestamp (from=record) to its flags being written.",
			Buckets: latency}, []string{"from"}),
		ConsumerLag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "goshawk_consumer_lag_messages", Help: "High-water mark minus the group's committed offset, per partition of the messages topic."}, []string{"partition"}),
		Commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goshawk_offset_commits_total", Help: "Offset commit attempts."}),
		CommitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goshawk_offset_commit_errors_total", Help: "Offset commit attempts that failed (the offsets are committed later or re-delivered)."}),
		Rebalances: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goshawk_consumer_rebalances_total", Help: "Consumer group rebalances this instance took part in."}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "goshawk_messages_in_flight", Help: "Messages fetched whose results are not yet durably written."}),
		KafkaErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goshawk_kafka_errors_total", Help: "Kafka client errors, by operation (each is retried)."}, []string{"op"}),
		ShutdownFlushS: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "goshawk_shutdown_flush_seconds", Help: "Duration of the last shutdown flush and commit (0 until shutdown)."}),
		RulesReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goshawk_rules_reloads_total", Help: "Rule reloads, by result: ok, or invalid (refused; the old rules keep running), or error."}, []string{"result"}),
		RulesInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "goshawk_rules_info", Help: "1 for the version of the active rule set."}, []string{"version"}),
		StateEntries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "goshawk_detector_state_entries", Help: "Entries (for example conversation and sender pairs) a detector's state holds, over all workers; refreshed every 1024 messages per worker."}, []string{"detector"}),
		RulesRunning: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "goshawk_rules", Help: "Rules of the active rule set, by detector and mode."}, []string{"detector", "mode"}),
		StateRestores: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goshawk_state_restores_total", Help: "Partitions whose durable detector state was read back from the changelog (on assignment or re-delivery)."}),
		StateRestored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goshawk_state_restored_records_total", Help: "Changelog records read back by state restores."}),
		StateErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "goshawk_state_restore_errors_total", Help: "Changelog records a detector could not decode (that conversation starts afresh)."}),
		StageRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goshawk_stage_records_total", Help: "Records consumed from a detector stage's internal stream, by stream."}, []string{"stream"}),
	}
	reg.MustRegister(m.Consumed, m.Decoded, m.Rejected, m.Flags, m.DetectorTime, m.BatchMessages, m.BatchFlags,
		m.SinkWriteTime, m.SinkWrites, m.SinkErrors, m.DeadLetters, m.EndToEnd, m.ConsumerLag, m.Commits,
		m.CommitErrors, m.Rebalances, m.InFlight, m.KafkaErrors, m.ShutdownFlushS, m.RulesReloads, m.RulesInfo, m.RulesRunning, m.StateEntries,
		m.StateRestores, m.StateRestored, m.StateErrors, m.StageRecords)
	for _, r := range []string{"ok", "invalid", "error"} {
		m.RulesReloads.WithLabelValues(r)
	}
	for _, r := range event.Reasons {
		m.Rejected.WithLabelValues(string(r))
	}
	for _, d := range detectorNames {
		m.DetectorTime.WithLabelValues(d)
		m.StateEntries.WithLabelValues(d)
		for _, c := range detectors.Categories {
			for _, s := range detectors.Severities {
				for _, mode := range []detectors.Mode{detectors.Live, detectors.Shadow} {
					m.Flags.WithLabelValues(string(c), string(s), d, string(mode))
				}
			}
		}
	}
	for _, s := range []string{SinkStore, SinkDeadLetter, SinkFlagsTopic, SinkChangelog, SinkForwards} {
		m.SinkWrites.WithLabelValues(s)
		m.SinkErrors.WithLabelValues(s)
		m.SinkWriteTime.WithLabelValues(s)
	}
	for _, from := range []string{"sent_at", "record"} {
		m.EndToEnd.WithLabelValues(from)
	}
	for _, op := range []string{"fetch", "commit", "lag", "changelog_load"} {
		m.KafkaErrors.WithLabelValues(op)
	}
	return m
}

// setRules exports the active rule set's version and size.
func (m *Metrics) setRules(set *detectors.RuleSet) {
	m.RulesInfo.Reset()
	m.RulesRunning.Reset()
	if set == nil {
		return
	}
	m.RulesInfo.WithLabelValues(set.Version()).Set(1)
	for _, r := range set.All() {
		m.RulesRunning.WithLabelValues(r.Detector, string(r.Mode)).Inc()
	}
}
