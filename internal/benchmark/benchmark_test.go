package benchmark

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/generator"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
)

// fakeSource delivers scripted records and remembers commits.
type fakeSource struct {
	mu      sync.Mutex
	records []pipeline.Record
	commits [][]pipeline.Position
	failOn  int // Commit call number (1-based) that fails, 0 for none
	calls   int
}

func (f *fakeSource) Fetch(ctx context.Context) (pipeline.Record, error) {
	f.mu.Lock()
	if len(f.records) > 0 {
		r := f.records[0]
		f.records = f.records[1:]
		f.mu.Unlock()
		return r, nil
	}
	f.mu.Unlock()
	<-ctx.Done()
	return pipeline.Record{}, ctx.Err()
}

func (f *fakeSource) Commit(_ context.Context, positions []pipeline.Position) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == f.failOn {
		return errors.New("commit failed (test)")
	}
	f.commits = append(f.commits, append([]pipeline.Position(nil), positions...))
	return nil
}

func (f *fakeSource) Close() error { return nil }

func (f *fakeSource) Rebalances() int64 { return 3 }

func tp(p int) pipeline.TopicPartition { return pipeline.TopicPartition{Topic: "t", Partition: p} }

// records makes n records per partition, with message ids p<partition>-<offset>.
func records(partitions, n int, at time.Time) []pipeline.Record {
	var out []pipeline.Record
	for off := range n {
		for p := range partitions {
			out = append(out, pipeline.Record{
				TopicPartition: tp(p), Offset: int64(off), Time: at,
				Value: fmt.Appendf(nil, `{"message_id":"p%d-%d","text":"x"}`, p, off),
			})
		}
	}
	return out
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestProbeIsDoneOnlyWhenEveryTargetIsCommitted(t *testing.T) {
	src := &fakeSource{records: records(2, 3, time.Now()), failOn: 2}
	pr := newProbe(src, nil)
	ctx := context.Background()
	if !pr.firstFetch().IsZero() {
		t.Fatal("first fetch set before any fetch")
	}
	if _, err := pr.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	first := pr.firstFetch()
	if first.IsZero() {
		t.Fatal("first fetch not noted")
	}
	pr.Fetch(ctx)
	if !pr.firstFetch().Equal(first) {
		t.Error("first fetch moved on the second fetch")
	}
	commit := func(offsets ...int64) error {
		var ps []pipeline.Position
		for p, off := range offsets {
			if off >= 0 {
				ps = append(ps, pipeline.Position{TopicPartition: tp(p), Offset: off})
			}
		}
		return pr.Commit(ctx, ps)
	}
	// Commits before the targets are known count once they are.
	if err := commit(2, 1); err != nil {
		t.Fatal(err)
	}
	if isClosed(pr.done) {
		t.Fatal("done before the targets were set")
	}
	pr.setTargets(map[pipeline.TopicPartition]int64{tp(0): 2, tp(1): 2})
	if isClosed(pr.done) || !pr.finished().IsZero() {
		t.Fatal("done while partition 1 is behind")
	}
	if err := commit(-1, 2); err == nil {
		t.Fatal("the source's commit failure was not returned")
	}
	if isClosed(pr.done) {
		t.Fatal("a failed commit counted")
	}
	if err := commit(-1, 2); err != nil {
		t.Fatal(err)
	}
	if !isClosed(pr.done) || pr.finished().IsZero() {
		t.Fatal("not done with every target committed")
	}
	if err := commit(2, 2); err != nil { // a later commit does not close twice
		t.Fatal(err)
	}
	if pr.Rebalances() != 3 {
		t.Error("Rebalances is not forwarded to the source")
	}
}

func TestConsumeBareCommitsEveryNAndAtTheEnd(t *testing.T) {
	src := &fakeSource{records: records(3, 5, time.Now())} // 15 records
	pr := newProbe(src, nil)
	targets := map[pipeline.TopicPartition]int64{tp(0): 4, tp(1): 4, tp(2): 4}
	pr.setTargets(targets)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := consumeBare(ctx, pr, targets, 4); err != nil {
		t.Fatal(err)
	}
	// Commits after records 4, 8, 12 and at the last record (15).
	if len(src.commits) != 4 {
		t.Fatalf("%d commits, want 4: %v", len(src.commits), src.commits)
	}
	last := map[pipeline.TopicPartition]int64{}
	for _, pos := range src.commits[3] {
		last[pos.TopicPartition] = pos.Offset
	}
	for p, want := range targets {
		if last[p] != want {
			t.Errorf("last commit of %v is %d, want %d", p, last[p], want)
		}
	}
	if !isClosed(pr.done) {
		t.Error("the probe is not done")
	}
}

func TestConsumeBareReturnsFetchErrors(t *testing.T) {
	src := &fakeSource{records: records(1, 2, time.Now())}
	pr := newProbe(src, nil)
	targets := map[pipeline.TopicPartition]int64{tp(0): 5} // never reached
	pr.setTargets(targets)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := consumeBare(ctx, pr, targets, 1000); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's deadline", err)
	}
}

func TestLatencyProbe(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	lat := newLatencyProbe(time.Time{})
	lat.sampleFrom(t0.Add(time.Second))
	src := &fakeSource{}
	// Partition 0: two warm-up records; partition 1: two records after it.
	for off, at := range []time.Time{t0, t0.Add(500 * time.Millisecond)} {
		src.records = append(src.records, pipeline.Record{TopicPartition: tp(0), Offset: int64(off), Time: at,
			Value: fmt.Appendf(nil, `{"message_id":"w%d"}`, off)})
	}
	for off, at := range []time.Time{t0.Add(2 * time.Second), t0.Add(3 * time.Second)} {
		src.records = append(src.records, pipeline.Record{TopicPartition: tp(1), Offset: int64(off), Time: at,
			Value: fmt.Appendf(nil, `{"message_id":"m%d"}`, off)})
	}
	src.records = append(src.records, pipeline.Record{TopicPartition: tp(1), Offset: 2, Time: t0, Value: []byte("not json")})
	pr := newProbe(src, lat)
	ctx := context.Background()
	for range 5 {
		if _, err := pr.Fetch(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := lat.inFlight(); n != 4 {
		t.Fatalf("%d records held, want 4 (the bad record has no id)", n)
	}
	store := &timedStore{Writer: nopWriter{}, lat: lat}
	flag := func(id string) detectors.Flag { return detectors.Flag{MessageID: id} }
	before := time.Now()
	if err := store.Write(ctx, []detectors.Flag{flag("w0"), flag("m0"), flag("m1"), flag("m1"), flag("stranger")}); err != nil {
		t.Fatal(err)
	}
	samples, flags, unmatched, _ := lat.result()
	if flags != 5 || unmatched != 1 || len(samples) != 3 {
		t.Fatalf("flags %d unmatched %d samples %d, want 5, 1, 3 (warm-up w0 not sampled)", flags, unmatched, len(samples))
	}
	// m0's record is 2 s after t0: its latency is the write's time minus that.
	if want := before.Sub(t0.Add(2 * time.Second)); samples[0] < want {
		t.Errorf("sample %v is shorter than the time since the record (%v)", samples[0], want)
	}
	if w := store.stats(); w.Count != 1 || w.Flags != 5 || w.Max <= 0 || w.Total < w.Max {
		t.Errorf("write stats %+v", w)
	}
	// A commit forgets what it covers; the probe holds only what is in flight.
	if err := pr.Commit(ctx, []pipeline.Position{{TopicPartition: tp(0), Offset: 1}, {TopicPartition: tp(1), Offset: 0}}); err != nil {
		t.Fatal(err)
	}
	if n := lat.inFlight(); n != 1 {
		t.Fatalf("%d records held after the commit, want 1 (m1)", n)
	}
	if err := store.Write(ctx, []detectors.Flag{flag("m0")}); err != nil {
		t.Fatal(err)
	}
	if _, _, unmatched, _ := lat.result(); unmatched != 2 {
		t.Errorf("a flag of a committed record matched (unmatched %d, want 2)", unmatched)
	}
	// A failed write tells the probe nothing.
	failing := &timedStore{Writer: nopWriter{err: errors.New("down")}, lat: lat}
	if err := failing.Write(ctx, []detectors.Flag{flag("m1")}); err == nil {
		t.Fatal("the store's error was not returned")
	}
	if _, flags, _, _ := lat.result(); flags != 6 {
		t.Errorf("%d flags after a failed write, want 6", flags)
	}
}

type nopWriter struct{ err error }

func (w nopWriter) Write(context.Context, []detectors.Flag) error { return w.err }
func (w nopWriter) Close() error                                  { return nil }

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 95, 95 * time.Millisecond},
		{ms(hundred...), 0.1, 1 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := Percentile(tc.samples, tc.p); got != tc.want {
			t.Errorf("Percentile(%d samples, %g) = %v, want %v", len(tc.samples), tc.p, got, tc.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 200000: "200,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReportWrite(t *testing.T) {
	rep := &Report{
		Name: "goshawk-bench-x", Messages: 200000, Partitions: 4, Seed: 7, CommitEvery: 1000,
		Env:  Environment{Cores: 2, GOMAXPROCS: 2, Platform: "linux/amd64", GoVersion: "go1.26", Goshawk: "abc", Kafka: "Apache Kafka 4.1.1", ClickHouse: "ClickHouse 18.16.1"},
		Bare: Phase{Messages: 200000, Elapsed: time.Second, FromStart: 1200 * time.Millisecond, usage: usage{CPU: 2 * time.Second, PeakRSS: 30 << 20, MachineBusy: 0.4}},
		Run: Phase{Messages: 200000, Elapsed: 2 * time.Second, FromStart: 2300 * time.Millisecond, usage: usage{CPU: 3 * time.Second, PeakRSS: 50 << 20, MachineBusy: 0.9},
			Writes: Writes{Count: 40, Flags: 22000, Total: time.Second, Max: 70 * time.Millisecond}},
		Replay:      Phase{Messages: 200000, Elapsed: time.Second, usage: usage{CPU: time.Second, MachineBusy: -1}},
		Decode:      Phase{Messages: 200000, Elapsed: 400 * time.Millisecond, usage: usage{CPU: 400 * time.Millisecond, MachineBusy: -1}},
		ReplayFlags: 22000, StoredFlags: 22000,
		Latency: &Latency{Rate: 5000, Produced: 225000, Producing: 45 * time.Second, Warmup: 5 * time.Second, Flags: 3, Stored: 3,
			Samples: []time.Duration{300 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}, usage: usage{MachineBusy: -1}},
	}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"200,000 generated messages (seed 7",
		"Apache Kafka 4.1.1", "ClickHouse 18.16.1",
		"bare kafka-go consumer", "200,000", "1.00", // 200,000 msg/s, the baseline
		"goshawk run → ClickHouse", "100,000", "0.50", "2.30", "15.00", // msg/s, × bare, from start, CPU s/M
		"replay, 1 core", "5.00",
		"encoding/json decode only, 1 core", "500,000",
		"replay / decode only: 2.50", "run / bare consumer: 0.50",
		"latency at 5,000 msg/s", "5,000", "0.200", "0.300", // achieved rate, p50, p99
		"40 ClickHouse inserts of 22,000 flags, 25.0 ms each on average, 70.0 ms the longest",
		"replay gives 22,000, ClickHouse shows 22,000 after the run phase (the same)",
		"90%", "40%",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "!") || len(rep.Problems()) != 0 {
		t.Errorf("problems reported for a consistent run: %v\n%s", rep.Problems(), text)
	}

	rep.StoredFlags = 21999
	rep.Latency.Unmatched = 1
	rep.Latency.DeadLetters = 5
	problems := rep.Problems()
	if len(problems) != 3 {
		t.Fatalf("problems %v, want the flag mismatch, the unmatched flag and the dead letters", problems)
	}
	out.Reset()
	rep.Write(&out)
	if !strings.Contains(out.String(), "(DIFFERENT)") || !strings.Contains(out.String(), "! replay gives 22000 flags but ClickHouse shows 21999") {
		t.Errorf("the report does not show the problems:\n%s", out.String())
	}
}

func TestMeter(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU time and peak RSS are measured on Linux only")
	}
	m := startMeter()
	big := make([]byte, 96<<20)
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
	u := m.stop()
	runtime.KeepAlive(big)
	if u.Err != nil {
		t.Fatal(u.Err)
	}
	if u.CPU < 30*time.Millisecond {
		t.Errorf("CPU %v after 50ms of spinning", u.CPU)
	}
	if u.PeakRSS < 96<<20 {
		t.Errorf("peak RSS %d MiB with 96 MiB touched", u.PeakRSS>>20)
	}
	if u.MachineBusy <= 0 || u.MachineBusy > 1 {
		t.Errorf("machine busy %v, want in (0, 1]", u.MachineBusy)
	}
	big = nil
	// The next phase's peak starts afresh.
	m = startMeter()
	u2 := m.stop()
	if u2.PeakRSS >= u.PeakRSS {
		t.Errorf("peak RSS %d MiB after the reset, %d MiB before: the peak was not reset", u2.PeakRSS>>20, u.PeakRSS>>20)
	}
}

func TestKafkaJarRelease(t *testing.T) {
	for name, want := range map[string]string{
		"kafka_2.13-4.1.1.jar":         "4.1.1",
		"kafka_2.12-3.7.0.jar":         "3.7.0",
		"kafka_2.13-4.1.1-test.jar":    "", // excluded below by "test"
		"kafka-clients-4.1.1.jar":      "",
		"kafka_2.13-4.1.1.jar.asc.txt": "",
	} {
		m := kafkaJar.FindStringSubmatch(name)
		got := ""
		if m != nil && !strings.Contains(m[1], "test") {
			got = m[1]
		}
		if got != want {
			t.Errorf("%s: release %q, want %q", name, got, want)
		}
	}
}

func TestAllLoopback(t *testing.T) {
	tests := []struct {
		brokers []string
		want    bool
	}{
		{[]string{"127.0.0.1:9092"}, true},
		{[]string{"localhost:9092", "[::1]:9093"}, true},
		{[]string{"127.0.0.1:9092", "kafka-1:9092"}, false},
		{[]string{"10.0.0.5:9092"}, false},
		{nil, false},
	}
	for _, tc := range tests {
		if got := allLoopback(tc.brokers); got != tc.want {
			t.Errorf("allLoopback(%v) = %v, want %v", tc.brokers, got, tc.want)
		}
	}
}

func TestConfigDefaultsAndChecks(t *testing.T) {
	ok := Config{Brokers: []string{"b:9092"}, Pipeline: func(context.Context, PipelineSpec) error { return nil }, Detectors: []detectors.Factory{{Name: "d"}}}
	c := ok
	if err := c.defaults(); err != nil {
		t.Fatal(err)
	}
	if c.Messages != 200_000 || c.Partitions != 4 || c.CommitEvery != 1000 || c.Rate != 5000 || c.Warmup != 5*time.Second || c.LatencyFor != 0 {
		t.Errorf("defaults %+v", c)
	}
	for name, mutate := range map[string]func(*Config){
		"no brokers":   func(c *Config) { c.Brokers = nil },
		"no pipeline":  func(c *Config) { c.Pipeline = nil },
		"no detectors": func(c *Config) { c.Detectors = nil },
		"negative":     func(c *Config) { c.LatencyFor = -time.Second },
	} {
		c := ok
		mutate(&c)
		if err := c.defaults(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLocalServerCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if pid := listeningPID(port); pid != os.Getpid() {
		t.Fatalf("listeningPID(%d) = %d, want this process (%d)", port, pid, os.Getpid())
	}
	servers := localServers(Config{Brokers: []string{ln.Addr().String()}, ClickHouse: clickhouse.Config{Addr: []string{"10.1.2.3:9000"}}})
	if len(servers) != 1 || servers[0].name != "Kafka" || servers[0].pid != os.Getpid() {
		t.Fatalf("localServers = %+v, want this process as Kafka only", servers)
	}
	m := startMeter(servers...)
	// Spin until this process has used 50ms of CPU (not 50ms of wall
	// time: on a loaded machine that can be a few ms of CPU), at most 20s.
	spun, deadline := selfCPU(t), time.Now().Add(20*time.Second)
	for selfCPU(t)-spun < 50*time.Millisecond && time.Now().Before(deadline) {
		for i := 0; i < 1e5; i++ {
		}
	}
	u := m.stop()
	if len(u.Servers) != 1 || u.Servers[0].CPU < 20*time.Millisecond {
		t.Fatalf("server CPU %+v after 50ms of spinning (%v of CPU by the test's own clock)", u.Servers, selfCPU(t)-spun)
	}
	line := coresInUse(u, 2)
	if !regexp.MustCompile(`^goshawk [0-9.]+, Kafka [0-9.]+, the rest [0-9.]+$`).MatchString(line) {
		t.Errorf("coresInUse = %q", line)
	}
}

// The latency phase's events end at the time it starts producing: generated
// time runs far ahead of the wall clock, and the pipeline dead-letters
// events more than a day ahead of their record.
func TestGeneratedSpan(t *testing.T) {
	opts := generator.Options{BadRatio: 0.1}
	const n = 60000
	span := generatedSpan(8, opts, n)
	if span < 24*time.Hour {
		t.Fatalf("span of %d events is %v; the test assumes generated time outruns a day", n, span)
	}
	end := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	opts.Start = end.Add(-span)
	gen := generator.New(8, opts)
	var last time.Time
	for range n {
		if e := gen.Next(); !e.Bad {
			last = e.Time
		}
	}
	if d := last.Sub(end); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("last event at %v, want %v", last, end)
	}
}

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
