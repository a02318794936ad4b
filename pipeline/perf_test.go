package pipeline_test

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/generator"
	"github.com/goshawk-safety/goshawk/pipeline"
)

// perfMaxRatio is how many times the cost of encoding/json decoding the
// same events the detectors may cost, all of builtin.Registry() together.
// The yardstick is encoding/json (into event.Message), not event.Decode:
// it does not change with this repository's code, so the ratio moves only
// when detection does, and it scales with the machine (and with -race)
// roughly as detection does.
//
// Measured on the project's 2-core machine with keyword, contactshare and
// harassment, under load averages up to 20: 0.84 to 0.93, and 0.81 to 0.86
// with -race (encoding/json about 2.5 µs a message, detection 2.1 to 2.4
// µs). The limit follows from issue 10's floor of 100,000 messages a second
// per core, 10 µs a message: 3 × 2.5 µs of detection, plus decoding (under
// 1 µs) and the pipeline's own work, is about that budget. It leaves room
// for the grooming and spam detectors, and it is far enough above the
// measured ratio that noise cannot reach it; a detector that adds 10 µs a
// message fails it (checked by hand with a busy loop in contactshare:
// ratio 6.06).
const perfMaxRatio = 3.0

// perfTraffic returns n valid generated events, raw and decoded.
func perfTraffic(t testing.TB, n int) ([][]byte, []*event.Message) {
	t.Helper()
	gen := generator.New(7, generator.Options{})
	values := make([][]byte, n)
	msgs := make([]*event.Message, n)
	for i := range values {
		values[i] = gen.Next().Value
		m, err := event.Decode(values[i])
		if err != nil {
			t.Fatalf("generated event %d: %v", i, err)
		}
		msgs[i] = m
	}
	return values, msgs
}

// perfDetectors returns every built-in detector with the built-in rules.
func perfDetectors(t testing.TB) ([]detectors.Factory, *detectors.RuleSet) {
	t.Helper()
	registry, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	factories, err := registry.Factories(nil)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := detectors.LoadCheckedRules(factories, nil)
	if err != nil {
		t.Fatal(err)
	}
	return factories, rules
}

// TestPerfDetectionCostGuard fails when detection (every built-in
// detector, through the engine) costs more than perfMaxRatio times what
// encoding/json takes to decode the same events. Both are timed in the same
// test, interleaved, in this process's CPU time on one P (other processes'
// time is not counted), and each keeps the least of several passes over the
// same 5,000 generated events: load from other processes only ever adds
// time, so the minimum is what the code costs. A burst of load that lasts
// the whole measurement (other test packages run beside this one) still
// moves the ratio, because it slows the cache-hungry detectors more than
// the decoder; so a ratio over the limit is measured again, up to
// perfAttempts times, and the lowest counts. A regression fails every
// attempt. CI (scripts/test.sh) runs it as a step of its own, alone: beside
// the -race builds of the Kafka, ClickHouse and Chromium tests it read 3.14
// to 3.17 in a loaded run, against 2.05 to 2.10 alone under the same
// stress.
func TestPerfDetectionCostGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("timing guard; skipped with -short")
	}
	values, msgs := perfTraffic(t, 5000)
	factories, rules := perfDetectors(t)
	ratio := math.Inf(1)
	for attempt := 1; attempt <= perfAttempts && ratio > perfMaxRatio; attempt++ {
		r := measureDetectionCost(t, values, msgs, factories, rules)
		t.Logf("attempt %d: detection / encoding/json = %.2f (limit %.1f)", attempt, r, perfMaxRatio)
		ratio = min(ratio, r)
	}
	breakdown := perDetector(t, factories, rules, msgs)
	t.Logf("detection / encoding/json = %.2f (limit %.1f); per detector: %s", ratio, perfMaxRatio, breakdown)
	if ratio > perfMaxRatio {
		t.Errorf("detection costs %.2f times encoding/json's decoding of the same events in each of %d attempts, more than the %.1f allowed (issue 10); per detector: %s",
			ratio, perfAttempts, perfMaxRatio, breakdown)
	}
}

// perfAttempts bounds the measurements of the cost guard.
const perfAttempts = 3

// measureDetectionCost returns detection's cost over encoding/json's, each
// the least CPU time of several interleaved passes.
func measureDetectionCost(t *testing.T, values [][]byte, msgs []*event.Message, factories []detectors.Factory, rules *detectors.RuleSet) float64 {
	t.Helper()
	const passes = 9
	best := map[string]time.Duration{"json": 1 << 62, "decode": 1 << 62, "detect": 1 << 62}
	// Each pass is timed in the CPU time of this process (on one P, so its
	// garbage collection is in it too), not the wall clock: time the
	// machine gives to other processes is not the code's.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	since := func(start time.Duration) time.Duration { return processCPU(t) - start }
	keep := func(name string, d time.Duration) { best[name] = min(best[name], d) }
	var flags []detectors.Flag
	nflags := 0
	for range passes {
		start := processCPU(t)
		for _, v := range values {
			var m event.Message
			if err := json.Unmarshal(v, &m); err != nil {
				t.Fatal(err)
			}
		}
		keep("json", since(start))

		start = processCPU(t)
		for _, v := range values {
			if _, err := event.Decode(v); err != nil {
				t.Fatal(err)
			}
		}
		keep("decode", since(start))

		engine, err := detectors.NewEngine(factories, rules, detectors.EngineOptions{Clock: detectors.EventTime})
		if err != nil {
			t.Fatal(err)
		}
		nflags = 0
		start = processCPU(t)
		for _, m := range msgs {
			flags = engine.Inspect(m, flags[:0], nil)
			nflags += len(flags)
		}
		keep("detect", since(start))
	}
	if nflags == 0 {
		t.Fatal("the detectors flagged nothing in 5,000 generated events: the guard would time nothing useful")
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(len(values)) }
	t.Logf("CPU time per message, least of %d passes over %d events: encoding/json %.0f ns, event.Decode %.0f ns, detection %.0f ns (%d detectors, %d flags)",
		passes, len(values), per(best["json"]), per(best["decode"]), per(best["detect"]), len(factories), nflags)
	return float64(best["detect"]) / float64(best["json"])
}

// perDetector times each detector on its own, least CPU time of three
// passes, for the log: which one a regression is in.
func perDetector(t testing.TB, factories []detectors.Factory, rules *detectors.RuleSet, msgs []*event.Message) string {
	t.Helper()
	type cost struct {
		name string
		ns   float64
	}
	var costs []cost
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // CPU time, as measureDetectionCost
	for _, f := range factories {
		best := time.Duration(1 << 62)
		for range 3 {
			engine, err := detectors.NewEngine([]detectors.Factory{f}, rules, detectors.EngineOptions{Clock: detectors.EventTime})
			if err != nil {
				t.Fatal(err)
			}
			var flags []detectors.Flag
			start := processCPU(t)
			for _, m := range msgs {
				flags = engine.Inspect(m, flags[:0], nil)
			}
			best = min(best, processCPU(t)-start)
		}
		costs = append(costs, cost{f.Name, float64(best.Nanoseconds()) / float64(len(msgs))})
	}
	sort.Slice(costs, func(i, j int) bool { return costs[i].ns > costs[j].ns })
	parts := make([]string, len(costs))
	for i, c := range costs {
		parts[i] = fmt.Sprintf("%s %.0f ns", c.name, c.ns)
	}
	return strings.Join(parts, ", ")
}

// BenchmarkPerfWorker is what a pipeline worker does for one record, over
// generated traffic: decode and validate (event.DecodeRecord), then every
// built-in detector through the engine, with the per-detector latency
// histogram the pipeline keeps. decode and detect are the two halves;
// detector=NAME is one detector alone.
func BenchmarkPerfWorker(b *testing.B) {
	values, msgs := perfTraffic(b, 5000)
	factories, rules := perfDetectors(b)
	names := make([]string, len(factories))
	for i, f := range factories {
		names[i] = f.Name
	}
	metrics := pipeline.NewMetrics(prometheus.NewRegistry(), names)
	observers := map[string]prometheus.Observer{} // as the worker keeps them
	observe := func(detector string, d time.Duration) {
		o := observers[detector]
		if o == nil {
			o = metrics.DetectorTime.WithLabelValues(detector)
			observers[detector] = o
		}
		o.Observe(d.Seconds())
	}
	key := []byte("c")
	recordTime := time.Date(2026, 3, 2, 17, 0, 0, 0, time.UTC)
	newEngine := func(b *testing.B, fs []detectors.Factory) *detectors.Engine {
		e, err := detectors.NewEngine(fs, rules, detectors.EngineOptions{Clock: detectors.WallClock})
		if err != nil {
			b.Fatal(err)
		}
		return e
	}
	var bytes int64
	for _, v := range values {
		bytes += int64(len(v))
	}
	avg := bytes / int64(len(values))

	b.Run("decode+detect", func(b *testing.B) {
		e := newEngine(b, factories)
		var flags []detectors.Flag
		b.SetBytes(avg)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m, err := event.DecodeRecord(key, values[i%len(values)], recordTime)
			if err != nil {
				b.Fatal(err)
			}
			flags = e.Inspect(m, flags[:0], observe)
			i++
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(avg)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := event.DecodeRecord(key, values[i%len(values)], recordTime); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("detect", func(b *testing.B) {
		e := newEngine(b, factories)
		var flags []detectors.Flag
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			flags = e.Inspect(msgs[i%len(msgs)], flags[:0], nil)
			i++
		}
	})
	for _, f := range factories {
		b.Run("detector="+f.Name, func(b *testing.B) {
			e := newEngine(b, []detectors.Factory{f})
			var flags []detectors.Flag
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				flags = e.Inspect(msgs[i%len(msgs)], flags[:0], nil)
				i++
			}
		})
	}
}
