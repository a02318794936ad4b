package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// pending is what the batcher holds between flushes.
type pending struct {
	tickets []Ticket
	flags   []detectors.Flag
	fwd     []detectors.Forward
	states  []StateRecord
	dead    []DeadLetter
	reports []event.Report
	sentAt  []time.Time // of decoded messages, for end-to-end latency
	recTime []time.Time
}

func (b *pending) add(r result) {
	b.tickets = append(b.tickets, r.ticket)
	b.flags = append(b.flags, r.flags...)
	b.fwd = append(b.fwd, r.forwards...)
	b.states = append(b.states, r.states...)
	b.reports = append(b.reports, r.reports...)
	if r.dead != nil {
		b.dead = append(b.dead, *r.dead)
	} else if !r.sentAt.IsZero() {
		b.sentAt = append(b.sentAt, r.sentAt)
	}
	if !r.recordTime.IsZero() {
		b.recTime = append(b.recTime, r.recordTime)
	}
}

func (b *pending) reset() {
	b.tickets, b.flags, b.dead = b.tickets[:0], b.flags[:0], b.dead[:0]
	clear(b.fwd) // drop references to the forwarded values
	b.fwd, b.states = b.fwd[:0], b.states[:0]
	clear(b.reports) // drop references to the comments
	b.reports = b.reports[:0]
	b.sentAt, b.recTime = b.sentAt[:0], b.recTime[:0]
}

// batch collects results into batches, by size and by time, and hands
// each to the flusher, which writes one batch while the next one fills:
// the sinks' latency then overlaps detection instead of stalling it. At
// most two batches are pending (one filling, one being written); a full
// batch waits for the flusher, and the bounded channels behind it fill. It
// returns when results is closed (after a final flush and commit) or when a
// flush fails for good (ctx ended).
func (p *Pipeline) batch(ctx context.Context, results <-chan result) error {
	full := make(chan *pending)     // a batch for the flusher
	spare := make(chan *pending, 2) // written batches; there are two in all, so a send never blocks
	flushed := make(chan error, 1)  // the flusher's end
	spare <- &pending{}
	go func() { flushed <- p.flusher(ctx, full, spare) }()
	b := &pending{}
	due := false // by time; a full batch is always due
	timer := time.NewTimer(p.cfg.BatchInterval)
	defer timer.Stop()
	for {
		in, out := results, chan<- *pending(nil)
		if len(b.tickets) >= p.cfg.BatchSize {
			in, due = nil, true
		}
		if due {
			out = full
		}
		select {
		case r, ok := <-in:
			if !ok {
				return p.finish(ctx, b, full, flushed)
			}
			b.add(r)
		case out <- b:
			// The flusher returned its previous batch before it took this one.
			b, due = <-spare, false
		case <-timer.C:
			due = len(b.tickets) > 0
			timer.Reset(p.cfg.BatchInterval)
		case err := <-flushed:
			return err
		}
	}
}

// flusher writes each batch it receives, commits what is committable, and
// hands the emptied batch back.
func (p *Pipeline) flusher(ctx context.Context, full <-chan *pending, spare chan<- *pending) error {
	for b := range full {
		if err := p.flush(ctx, b); err != nil {
			return err
		}
		p.commitSoon(ctx)
		spare <- b
	}
	return nil
}

// finish flushes the last batch, waits for the flusher, and makes the final
// commit.
func (p *Pipeline) finish(ctx context.Context, b *pending, full chan<- *pending, flushed <-chan error) error {
	if len(b.tickets) > 0 {
		select {
		case full <- b:
		case err := <-flushed:
			return err
		}
	}
	close(full)
	if err := <-flushed; err != nil {
		return err
	}
	return p.commit(ctx)
}

// flush writes dead letters, then reports, then flags, then the records
// forwarded to detector stages, then durable detector state, each retried
// until it succeeds or ctx ends, and only then marks the batch's records
// done. State is written last: a state in the changelog implies its
// message's flags and forwards are written, so a re-delivered message that
// the restored state already covers can skip its durable detectors without
// losing either.
func (p *Pipeline) flush(ctx context.Context, b *pending) error {
	if len(b.tickets) == 0 {
		return nil
	}
	m := p.deps.Metrics
	if len(b.dead) > 0 {
		if err := p.retry(ctx, SinkDeadLetter, func(ctx context.Context) error {
			return p.deps.DeadLetter.WriteDeadLetters(ctx, b.dead)
		}); err != nil {
			return err
		}
		m.DeadLetters.Add(float64(len(b.dead)))
		rejected := m.Rejected
		if p.cfg.Reports {
			rejected = m.ReportsRejected
		}
		for _, d := range b.dead {
			rejected.WithLabelValues(string(d.Reason)).Inc()
		}
	}
	if err := p.writeReports(ctx, b.reports); err != nil {
		return err
	}
	if len(b.flags) > 0 {
		if err := p.retry(ctx, SinkStore, func(ctx context.Context) error {
			return p.deps.Store.Write(ctx, b.flags)
		}); err != nil {
			return err
		}
		if p.deps.FlagsTopic != nil {
			if err := p.retry(ctx, SinkFlagsTopic, func(ctx context.Context) error {
				return p.deps.FlagsTopic.Write(ctx, b.flags)
			}); err != nil {
				return err
			}
		}
		for _, f := range b.flags {
			m.Flags.WithLabelValues(string(f.Category), string(f.Severity), f.Detector, string(f.Mode)).Inc()
		}
	}
	if len(b.fwd) > 0 {
		if p.deps.Forwards == nil {
			return fmt.Errorf("pipeline: a detector forwards to stage %q but no internal stream writer is configured", b.fwd[0].Stream)
		}
		if err := p.retry(ctx, SinkForwards, func(ctx context.Context) error {
			return p.deps.Forwards.WriteForwards(ctx, b.fwd)
		}); err != nil {
			return err
		}
	}
	if len(b.states) > 0 {
		if err := p.retry(ctx, SinkChangelog, func(ctx context.Context) error {
			return p.deps.Changelog.Write(ctx, b.states)
		}); err != nil {
			return err
		}
	}
	p.tracker.Done(b.tickets...)
	now := time.Now()
	for _, t := range b.sentAt {
		m.EndToEnd.WithLabelValues("sent_at").Observe(now.Sub(t).Seconds())
	}
	for _, t := range b.recTime {
		if !t.IsZero() {
			m.EndToEnd.WithLabelValues("record").Observe(now.Sub(t).Seconds())
		}
	}
	m.BatchMessages.Observe(float64(len(b.tickets)))
	m.BatchFlags.Observe(float64(len(b.flags)))
	if p.consumesMessages() {
		m.InFlight.Set(float64(p.tracker.InFlight()))
	}
	b.reset()
	return nil
}

// retry calls write until it succeeds, with exponential backoff and jitter
// and no limit on elapsed time: a sink outage pauses the pipeline (the
// bounded channels behind the batcher fill up and fetching stops) instead
// of dropping anything. Only the end of ctx stops it.
func (p *Pipeline) retry(ctx context.Context, sink string, write func(context.Context) error) error {
	m := p.deps.Metrics
	attempt := 0
	op := func() error {
		attempt++
		m.SinkWrites.WithLabelValues(sink).Inc()
		start := time.Now()
		err := write(ctx)
		if err != nil {
			m.SinkErrors.WithLabelValues(sink).Inc()
			p.failing.Store(true)
			return err
		}
		m.SinkWriteTime.WithLabelValues(sink).Observe(time.Since(start).Seconds())
		return nil
	}
	notify := func(err error, wait time.Duration) {
		p.deps.Log.Warn("sink write failed; retrying", "sink", sink, "attempt", attempt, "retry_in", wait, "error", err)
	}
	err := backoff.RetryNotify(op, p.newBackOff(ctx), notify)
	if err != nil {
		return fmt.Errorf("write to %s: %w", sink, err)
	}
	if attempt > 1 {
		p.deps.Log.Info("sink recovered", "sink", sink, "attempts", attempt)
	}
	p.failing.Store(false)
	return nil
}

func (p *Pipeline) newBackOff(ctx context.Context) backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.cfg.RetryInitial
	b.MaxInterval = p.cfg.RetryMax
	b.RandomizationFactor = 0.5
	b.MaxElapsedTime = 0 // never stop by itself; see retry
	b.Reset()
	return backoff.WithContext(b, ctx)
}

// commitSoon commits what is committable; a failure is logged and the
// positions are kept for the next attempt (they are only an optimisation of
// re-delivery, never a reason to stop).
func (p *Pipeline) commitSoon(ctx context.Context) {
	positions := p.tracker.Committable()
	if len(positions) == 0 {
		return
	}
	p.deps.Metrics.Commits.Inc()
	if err := p.deps.Source.Commit(ctx, positions); err != nil {
		p.deps.Metrics.CommitErrors.Inc()
		p.deps.Metrics.KafkaErrors.WithLabelValues("commit").Inc()
		p.deps.Log.Warn("offset commit failed; will retry", "positions", len(positions), "error", err)
		p.tracker.Requeue(positions)
	}
}

// commit is the final commit at shutdown: it retries for a while, since the
// process is about to exit.
func (p *Pipeline) commit(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ShutdownTimeout)
	defer cancel()
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.cfg.RetryInitial
	b.MaxElapsedTime = 0
	return backoff.Retry(func() error {
		positions := p.tracker.Committable()
		if len(positions) == 0 {
			return nil
		}
		p.deps.Metrics.Commits.Inc()
		if err := p.deps.Source.Commit(ctx, positions); err != nil {
			p.deps.Metrics.CommitErrors.Inc()
			p.tracker.Requeue(positions)
			return err
		}
		return nil
	}, backoff.WithContext(b, ctx))
}

// stats refreshes lag, rebalance and in-flight figures until ctx ends.
func (p *Pipeline) stats(ctx context.Context) {
	if p.deps.Lag != nil {
		go p.deps.Lag.Run(ctx, p.cfg.StatsInterval)
	}
	rebalancer, _ := p.deps.Source.(interface{ Rebalances() int64 })
	t := time.NewTicker(min(p.cfg.StatsInterval, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if rebalancer != nil {
			p.deps.Metrics.Rebalances.Add(float64(rebalancer.Rebalances()))
		}
		entries := map[string]int64{}
		for _, w := range p.state {
			for d, n := range w {
				entries[d] += n.Load()
			}
		}
		for d, n := range entries {
			p.deps.Metrics.StateEntries.WithLabelValues(d).Set(float64(n))
		}
		if p.consumesMessages() {
			p.deps.Metrics.InFlight.Set(float64(p.tracker.InFlight()))
		}
	}
}
