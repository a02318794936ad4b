package console

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goshawk-safety/goshawk/triage"
)

// Report metric names, exported by the Collector when its store keeps
// reports (triage.ReportStore).
const (
	MetricReportMissRatio       = "goshawk_report_miss_ratio"
	MetricReportConfirmed       = "goshawk_report_confirmed_conversations"
	MetricReportFirstVerdict    = "goshawk_report_first_verdict_seconds"
	MetricReportsAwaitingAnswer = "goshawk_reports_awaiting_verdict"
)

// reportMetrics are the Collector's report figures:
//
//	goshawk_report_miss_ratio{category}               reported conversations analysts confirmed that no detector had flagged / all confirmed ones
//	goshawk_report_confirmed_conversations{category}  reported conversations analysts confirmed
//	goshawk_report_first_verdict_seconds              histogram: time from a report to the first verdict on its conversation
//	goshawk_reports_awaiting_verdict                  reports without a verdict on their conversation since
//
// category is grooming, harassment, spam or other (bounded); a category
// appears once one of its reported conversations is confirmed.
type reportMetrics struct {
	ratio, confirmed, first, awaiting *prometheus.Desc

	mu    sync.Mutex
	stats *triage.ReportStats // nil until a refresh read it
}

func newReportMetrics() *reportMetrics {
	return &reportMetrics{
		ratio: prometheus.NewDesc(MetricReportMissRatio,
			"Share of the reported conversations analysts confirmed that no live flag of the report's category had caught (the detectors' miss rate as analysts see it).",
			[]string{"category"}, nil),
		confirmed: prometheus.NewDesc(MetricReportConfirmed,
			"Reported conversations with a confirmed or escalated verdict on the report or on a flag of its category.",
			[]string{"category"}, nil),
		first: prometheus.NewDesc(MetricReportFirstVerdict,
			"Time from a user report to the first verdict recorded on its conversation, over the reports that have one.", nil, nil),
		awaiting: prometheus.NewDesc(MetricReportsAwaitingAnswer,
			"User reports without a verdict on their conversation since they came in.", nil, nil),
	}
}

func (m *reportMetrics) describe(ch chan<- *prometheus.Desc) {
	ch <- m.ratio
	ch <- m.confirmed
	ch <- m.first
	ch <- m.awaiting
}

func (m *reportMetrics) collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	st := m.stats
	m.mu.Unlock()
	if st == nil {
		return
	}
	for _, c := range st.Misses {
		ch <- prometheus.MustNewConstMetric(m.confirmed, prometheus.GaugeValue, float64(c.Confirmed), c.Category)
		if r, ok := c.MissRate(); ok {
			ch <- prometheus.MustNewConstMetric(m.ratio, prometheus.GaugeValue, r, c.Category)
		}
	}
	h := st.FirstVerdict
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			buckets[b] = h.Counts[i]
		}
	}
	ch <- prometheus.MustNewConstHistogram(m.first, h.Count, h.Sum, buckets)
	ch <- prometheus.MustNewConstMetric(m.awaiting, prometheus.GaugeValue, float64(st.Awaiting))
}

// refresh reads the store's report figures; a store without reports has
// none.
func (m *reportMetrics) refresh(ctx context.Context, store triage.Store) error {
	rs, ok := store.(triage.ReportStore)
	if !ok {
		return nil
	}
	st, err := rs.ReportStats(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.stats = &st
	m.mu.Unlock()
	return nil
}
