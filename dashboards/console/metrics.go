package console

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goshawk-safety/goshawk/triage"
)

// Metric names. The alert on a critical flag waiting too long uses the
// second; keep both names stable.
const (
	MetricRulePrecision            = "goshawk_rule_precision_ratio"
	MetricOldestUnreviewedCritical = "goshawk_review_oldest_unreviewed_critical_seconds"
	MetricRefreshErrors            = "goshawk_review_refresh_errors_total"
)

// DefaultRefresh is how often the collector asks the store.
const DefaultRefresh = 30 * time.Second

// Collector exports review metrics from a triage.Store:
//
//	goshawk_rule_precision_ratio{rule}                   confirmed / (confirmed + dismissed) of the rule's live flags
//	goshawk_review_oldest_unreviewed_critical_seconds    age of the oldest live critical flag without a verdict (0: none)
//	goshawk_review_refresh_errors_total                  failed refreshes from the store
//
// Refresh (run by Run every interval) reads the store; a scrape computes
// the age from the last refresh's oldest detected_at, so it grows between
// refreshes. rule is bounded by the rule set: only rules with verdicts
// appear, once they have a confirmed or dismissed flag. After a failed refresh the last values stay and the error
// counter grows.
type Collector struct {
	store triage.Store
	log   *slog.Logger
	now   func() time.Time

	precision *prometheus.Desc
	oldest    *prometheus.Desc
	errors    prometheus.Counter
	reports   *reportMetrics // reports_metrics.go

	mu        sync.Mutex
	rules     []triage.RuleStats
	oldestAt  time.Time
	hasOldest bool
	healthy   bool
}

// NewCollector returns a collector of store's metrics, registered on reg.
// now may be nil (time.Now).
func NewCollector(reg prometheus.Registerer, store triage.Store, log *slog.Logger, now func() time.Time) (*Collector, error) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Collector{
		store: store, log: log, now: now,
		precision: prometheus.NewDesc(MetricRulePrecision,
			"Precision of a rule from analysts' latest verdicts on its live flags: confirmed / (confirmed + dismissed).",
			[]string{"rule"}, nil),
		oldest: prometheus.NewDesc(MetricOldestUnreviewedCritical,
			"Seconds since the oldest live critical flag without a verdict was detected; 0 when there is none.", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: MetricRefreshErrors,
			Help: "Refreshes of the review metrics that failed to read the flag store.",
		}),
		reports: newReportMetrics(),
	}
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.precision
	ch <- c.oldest
	c.errors.Describe(ch)
	c.reports.describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	rules, at, ok := c.rules, c.oldestAt, c.hasOldest
	c.mu.Unlock()
	for _, r := range rules {
		if p, ok := r.Precision(); ok {
			ch <- prometheus.MustNewConstMetric(c.precision, prometheus.GaugeValue, p, r.Rule)
		}
	}
	age := 0.0
	if ok {
		age = max(0, c.now().Sub(at).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
	c.errors.Collect(ch)
	c.reports.collect(ch)
}

// Refresh reads the store once.
func (c *Collector) Refresh(ctx context.Context) error {
	rules, err := c.store.RulePrecision(ctx)
	var at time.Time
	var ok bool
	if err == nil {
		at, ok, err = c.store.OldestUnreviewedCritical(ctx)
	}
	if err == nil {
		err = c.reports.refresh(ctx, c.store)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.healthy = err == nil
	if err != nil {
		c.errors.Inc()
		return err
	}
	c.rules, c.oldestAt, c.hasOldest = rules, at, ok
	return nil
}

// Healthy reports whether the last refresh read the store.
func (c *Collector) Healthy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.healthy
}

// Run refreshes now and then every interval (DefaultRefresh when zero)
// until ctx ends. Failures are logged and counted, never fatal.
func (c *Collector) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultRefresh
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, interval)
		if err := c.Refresh(rctx); err != nil && ctx.Err() == nil {
			c.log.Warn("review metrics refresh failed", "error", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
