package pipeline_test

// Fault tests (issue 7): real Apache Kafka and real ClickHouse, a known
// generated stream, and one fault each. Every test asserts exact outcomes:
// the flags ClickHouse shows (read with FINAL) against what replay gives,
// the dead-lettered source records against the bad ones, and the committed
// offsets at the end. Recovery times and memory figures are printed with
// t.Logf (go test -v shows them).
//
// A test that stops, kills or restarts a server starts a private instance
// (internal/services); the shared services of scripts/services.sh are used
// by other tests at the same time and are never stopped.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/kafkaadmin"
	"github.com/goshawk-safety/goshawk/internal/kafkatest"
	"github.com/goshawk-safety/goshawk/internal/services"
	"github.com/goshawk-safety/goshawk/internal/testenv"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
)

// statefulRules keep per-conversation state in memory (README, Known
// limits). After a restart the state starts afresh, so their flags may be
// missing; and a record delivered twice to an instance that kept its state
// (a rebalance, a broker restart) is counted twice, so they may fire early.
// Every other rule looks at one message only and must match replay exactly.
var statefulRules = map[string]bool{"harassment.escalation": true}

// ---------------------------------------------------------------- set-up

// faultTopic creates a fresh topic and its dead-letter topic on broker, and
// deletes both when the test ends.
func faultTopic(t *testing.T, broker string, partitions int) string {
	t.Helper()
	topic := fmt.Sprintf("goshawk-%s-%d", strings.ToLower(strings.TrimPrefix(t.Name(), "Test")), time.Now().UnixNano())
	kafkatest.CreateTopics(context.Background(), t, broker, partitions, topic, topic+".dlq")
	t.Cleanup(func() {
		tr := &kafka.Transport{}
		defer tr.CloseIdleConnections()
		client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second, Transport: tr}
		_, _ = client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic, topic + ".dlq"}})
	})
	return topic
}

// faultStore migrates a fresh database on chAddr, opens a writer on it, and
// drops the database when the test ends.
func faultStore(t *testing.T, chAddr string) (clickhouse.Config, *clickhouse.Writer) {
	t.Helper()
	ctx := context.Background()
	cfg := clickhouse.Config{Addr: []string{chAddr}, Database: fmt.Sprintf("goshawk_fault_%d", time.Now().UnixNano())}
	if err := clickhouse.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	store, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		store.Close()
		dropDatabase(t, cfg)
	})
	return cfg, store
}

type runOpts struct {
	workers, batchSize                    int
	batchInterval, retryInitial, retryMax time.Duration
}

// inFlightBound bounds the in-flight gauge of one pipeline: records
// fetched and not yet committable. They are in its worker inputs (256
// each) and results channel (1024), as sized in pipeline.Run, in two full
// batches (one filling while the flusher writes the other), one in each
// worker and one in the fetch loop; or they are
// written already but wait behind an earlier record of their partition that
// another worker still holds, which one input queue per worker bounds.
// (kafka-go's own queue of up to 1000 fetched records comes before the
// count.)
func (o runOpts) inFlightBound() int {
	return 2*256*o.workers + 1024 + 2*o.batchSize + o.workers + 1
}

// startWith is startPipeline with the knobs the fault tests turn.
func startWith(t *testing.T, broker, topic, group string, store sinks.Writer, o runOpts) *harness {
	t.Helper()
	h := &harness{broker: broker, topic: topic, dlq: topic + ".dlq", group: group, registry: prometheus.NewRegistry(), done: make(chan error, 1)}
	factories := allDetectors(t)
	names := make([]string, len(factories))
	for i, f := range factories {
		names[i] = f.Name
	}
	h.metrics = pipeline.NewMetrics(h.registry, names)
	log := testLogger(t)
	dead := pipeline.NewKafkaDeadLetters([]string{broker}, h.dlq)
	t.Cleanup(func() { dead.Close() })
	// Durable detector state (grooming) goes to a changelog beside the
	// topic, as `goshawk run` sets it up (pipeline.NewInstance).
	stateTopic := topic + ".goshawk-state"
	partitions, err := pipeline.TopicPartitions(context.Background(), []string{broker}, nil, topic)
	if err != nil {
		t.Fatal(err)
	}
	if err := pipeline.EnsureTopic(context.Background(), []string{broker}, nil, stateTopic, partitions, map[string]string{"cleanup.policy": "compact"}); err != nil {
		t.Fatal(err)
	}
	changelog := pipeline.NewKafkaChangelog([]string{broker}, stateTopic, nil)
	t.Cleanup(func() { changelog.Close() })
	p, err := pipeline.New(pipeline.Config{
		Workers: o.workers, BatchSize: o.batchSize, BatchInterval: o.batchInterval, ShutdownTimeout: 30 * time.Second,
		Detectors: factories, Rules: builtinRules(t, factories),
		RetryInitial: o.retryInitial, RetryMax: o.retryMax, StatsInterval: time.Second,
	}, pipeline.Deps{
		Source:     pipeline.NewKafkaSource(pipeline.KafkaConfig{Brokers: []string{broker}, Topic: topic, Group: group}, log),
		Store:      store,
		DeadLetter: dead,
		Changelog:  changelog,
		Lag:        pipeline.NewLagMonitor([]string{broker}, topic, group, h.metrics, log),
		Metrics:    h.metrics,
		Log:        log,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.pipeline = p
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	finished := make(chan struct{})
	go func() {
		h.done <- p.Run(ctx) // buffered: never blocks
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(60 * time.Second):
		}
	})
	return h
}

// ------------------------------------------------------------- producing

// steadyProducer writes records at a steady rate on its own goroutine, in
// order. A chunk that fails (the broker is restarting) is written again
// until it is acknowledged, so a record may land twice; the tests derive
// what they expect from what the topic holds.
type steadyProducer struct {
	done    chan struct{}
	written atomic.Int64
	retries atomic.Int64
	err     error // set before done is closed
}

func produceSteadily(broker, topic string, msgs []kafka.Message, perSecond int) *steadyProducer {
	p := &steadyProducer{done: make(chan struct{})}
	w := &kafka.Writer{
		Addr: kafka.TCP(broker), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll,
		BatchSize: 1000, BatchBytes: 32 << 20, BatchTimeout: 2 * time.Millisecond, MaxAttempts: 1,
		WriteTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
	}
	go func() {
		defer close(p.done)
		defer w.Close()
		chunk := max(1, perSecond/20)
		start := time.Now()
		for i := 0; i < len(msgs); i += chunk {
			due := start.Add(time.Duration(float64(i) / float64(perSecond) * float64(time.Second)))
			time.Sleep(time.Until(due))
			end := min(i+chunk, len(msgs))
			var failingSince time.Time
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				err := w.WriteMessages(ctx, slices.Clone(msgs[i:end])...)
				cancel()
				if err == nil {
					break
				}
				if failingSince.IsZero() {
					failingSince = time.Now()
				}
				if time.Since(failingSince) > 2*time.Minute {
					p.err = fmt.Errorf("produce to %s: failing for 2 minutes: %w", topic, err)
					return
				}
				p.retries.Add(1)
				time.Sleep(250 * time.Millisecond)
			}
			p.written.Add(int64(end - i))
		}
	}()
	return p
}

func (p *steadyProducer) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatal(p.err)
		}
	case <-time.After(timeout):
		t.Fatalf("the producer did not finish within %s (%d written)", timeout, p.written.Load())
	}
}

// ----------------------------------------------------------- Kafka state

// offsetsClient asks a broker for offsets with a transport of its own, and
// retries: it must work across a broker restart.
type offsetsClient struct {
	broker, topic string
	client        *kafka.Client
}

func newOffsetsClient(t *testing.T, broker, topic string) *offsetsClient {
	tr := &kafka.Transport{DialTimeout: 2 * time.Second, MetadataTTL: time.Second}
	t.Cleanup(tr.CloseIdleConnections)
	return &offsetsClient{broker: broker, topic: topic, client: &kafka.Client{Addr: kafka.TCP(broker), Timeout: 5 * time.Second, Transport: tr}}
}

func (c *offsetsClient) ends(ctx context.Context) (map[int]int64, error) {
	// Short: the caller polls, and the broker may be down on purpose.
	offsets, err := kafkaadmin.ListOffsets(ctx, c.client, 2*time.Second, c.topic)
	if err != nil {
		return nil, err
	}
	out := make(map[int]int64, len(offsets))
	for p, o := range offsets {
		out[p] = o.End
	}
	return out, nil
}

// committed returns the group's committed offsets (-1: none yet).
func (c *offsetsClient) committed(ctx context.Context, group string, partitions []int) (map[int]int64, error) {
	resp, err := c.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{c.topic: partitions}})
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, resp.Error
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[c.topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

func sumCommitted(c map[int]int64) int64 {
	var n int64
	for _, o := range c {
		n += max(o, 0)
	}
	return n
}

func partitionsOf(ends map[int]int64) []int {
	ps := make([]int, 0, len(ends))
	for p := range ends {
		ps = append(ps, p)
	}
	sort.Ints(ps)
	return ps
}

// waitCaughtUp waits until group has committed every partition to its end
// (the producer must have finished). It fails the test if any of the
// pipelines' done channels yields first, or after timeout.
func waitCaughtUp(t *testing.T, oc *offsetsClient, group string, timeout time.Duration, running ...*harness) time.Time {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	var ends, committed map[int]int64
	var err error
	for {
		if ends == nil {
			ends, err = oc.ends(ctx)
		}
		if ends != nil {
			committed, err = oc.committed(ctx, group, partitionsOf(ends))
			if err == nil {
				caughtUp := true
				for p, end := range ends {
					caughtUp = caughtUp && committed[p] == end
				}
				if caughtUp {
					return time.Now()
				}
			}
		}
		for _, h := range running {
			select {
			case err := <-h.done:
				t.Fatalf("a pipeline stopped before catching up: %v", err)
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up after %s: committed %v, end %v (last error %v)", timeout, committed, ends, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// topicRecord is one record of the source topic, read back.
type topicRecord struct {
	partition int
	offset    int64
	messageID string // "" for a record that does not decode
	bad       bool
	value     []byte
	time      time.Time // the record's timestamp (when it was produced)
}

// readBack reads the whole source topic and classifies its records.
func readBack(t *testing.T, broker, topic string, tr *traffic) []topicRecord {
	t.Helper()
	// kafkatest uses kafka-go's default transport, whose pooled connections
	// may belong to a broker that has restarted since.
	kafka.DefaultTransport.(*kafka.Transport).CloseIdleConnections()
	var out []topicRecord
	for _, m := range kafkatest.ReadAll(context.Background(), t, broker, topic) {
		r := topicRecord{partition: m.Partition, offset: m.Offset, bad: tr.bad[string(m.Value)], value: m.Value, time: m.Time}
		if !r.bad {
			var v struct {
				MessageID string `json:"message_id"`
			}
			if err := json.Unmarshal(m.Value, &v); err != nil || v.MessageID == "" {
				t.Fatalf("record %d/%d is neither bad nor a message: %.80q", m.Partition, m.Offset, m.Value)
			}
			r.messageID = v.MessageID
		}
		out = append(out, r)
	}
	return out
}

// replayTopic replays what the topic holds, in the order it was produced
// (record time; offset order within a partition), so that records a
// retrying producer wrote twice count as they do in the stream.
func replayTopic(t *testing.T, records []topicRecord) map[string]detectors.Flag {
	t.Helper()
	sorted := slices.Clone(records)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].time.Before(sorted[j].time) })
	var lines []byte
	for _, r := range sorted {
		if !bytes.ContainsAny(r.value, "\n\r") && len(r.value) > 0 {
			lines = append(append(lines, r.value...), '\n')
		}
	}
	out := map[string]detectors.Flag{}
	for id, cands := range replayDistinct(t, lines) {
		if len(cands) != 1 {
			t.Fatalf("replay of the topic gives flag %s with %d contents", id, len(cands))
		}
		out[id] = cands[0]
	}
	return out
}

// expectedFlags returns the flags the stream must give: what replay gives
// for the generated traffic when the topic holds exactly that, else what it
// gives for the topic's records (a chunk the producer wrote again after an
// error may have landed twice).
func expectedFlags(t *testing.T, tr *traffic, records []topicRecord, want map[string]detectors.Flag) map[string]detectors.Flag {
	t.Helper()
	if len(records) == len(tr.records) {
		return want
	}
	topicWant := replayTopic(t, records)
	t.Logf("the topic holds %d records for %d generated (producer retries wrote %d twice); replay of the topic gives %d flags, of the generated stream %d",
		len(records), len(tr.records), len(records)-len(tr.records), len(topicWant), len(want))
	return topicWant
}

// ------------------------------------------------------------- checking

// flagsByMessage indexes the expected flags by message id.
func flagsByMessage(want map[string]detectors.Flag) map[string][]string {
	out := map[string][]string{}
	for id, f := range want {
		out[f.MessageID] = append(out[f.MessageID], id)
	}
	return out
}

// committedSample is the group's committed offsets, read at a moment.
type committedSample struct {
	at        time.Time // when the answer had arrived
	committed map[int]int64
}

// sampleCommitted reads the committed offsets every interval until stop
// is closed.
func sampleCommitted(oc *offsetsClient, group string, partitions []int, interval time.Duration, stop <-chan struct{}) func() []committedSample {
	var mu sync.Mutex
	var samples []committedSample
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			c, err := oc.committed(ctx, group, partitions)
			cancel()
			if err == nil {
				mu.Lock()
				samples = append(samples, committedSample{at: time.Now(), committed: c})
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
		}
	}()
	return func() []committedSample {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return samples
	}
}

// checkCommitsFollowWrites asserts the at-least-once rule: at every sample,
// every expected flag of every record below a committed offset had been
// acknowledged by the store (written, by the time in written) before the
// sample's answer arrived. mayMiss rules are skipped (state lost in a
// restart).
func checkCommitsFollowWrites(t *testing.T, samples []committedSample, records []topicRecord, byMessage map[string][]string,
	want map[string]detectors.Flag, written func(flagID string) (time.Time, bool), mayMiss map[string]bool) {
	t.Helper()
	byPartition := map[int][]topicRecord{}
	for _, r := range records {
		byPartition[r.partition] = append(byPartition[r.partition], r)
	}
	checked, bad := 0, 0
	for _, s := range samples {
		for p, c := range s.committed {
			for _, r := range byPartition[p] {
				if r.offset >= c {
					break
				}
				for _, id := range byMessage[r.messageID] {
					if mayMiss[want[id].Rule] {
						continue
					}
					checked++
					at, ok := written(id)
					if !ok || at.After(s.at) {
						if bad++; bad <= 5 {
							t.Errorf("offset %d of partition %d was committed by %s, but its flag %s (%s) was not yet written",
								c, p, s.at.Format("15:04:05.000"), id, want[id].Rule)
						}
					}
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d flags of committed records were not written when the commit was seen", bad)
	}
	t.Logf("commits follow writes: %d samples of committed offsets, %d (sample, flag) pairs checked", len(samples), checked)
}

// storedFlags reads everything ClickHouse shows and asserts that no flag_id
// shows twice. It also returns the raw row count (duplicates not yet merged
// away included).
func storedFlags(t *testing.T, reader *clickhouse.Reader, limit int) (map[string]detectors.Flag, uint64) {
	t.Helper()
	ctx := context.Background()
	ids, err := reader.FlagIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Errorf("flag %s is visible twice", ids[i])
		}
	}
	n, err := reader.CountFlags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(ids)) {
		t.Errorf("CountFlags %d, FlagIDs %d", n, len(ids))
	}
	_, total, err := reader.CountDistinctAndTotal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := reader.Flags(ctx, clickhouse.Filter{Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]detectors.Flag{}
	for _, f := range rows {
		if _, dup := got[f.FlagID]; dup {
			t.Errorf("flag %s is read twice", f.FlagID)
		}
		got[f.FlagID] = f
	}
	if len(got) != len(ids) {
		t.Errorf("Flags returned %d flags, FlagIDs %d", len(got), len(ids))
	}
	return got, total
}

// checkStoredTolerant compares what ClickHouse shows with replay: every
// flag of a stateless rule exactly once and equal; flags of the stateful
// rules may be missing (mayMiss) or, where re-delivery reached an instance
// that kept its state, extra (mayAdd). It returns the counts of each.
func checkStoredTolerant(t *testing.T, reader *clickhouse.Reader, want map[string]detectors.Flag, mayMiss, mayAdd map[string]bool) (missing, extra int) {
	t.Helper()
	got, total := storedFlags(t, reader, len(want)+10000)
	shown := 0
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			if mayMiss[w.Rule] {
				missing++
				continue
			}
			if shown++; shown <= 5 {
				t.Errorf("flag %s (%s on %s) is missing from ClickHouse", id, w.Rule, w.MessageID)
			}
			continue
		}
		// 18.16 keeps whole seconds; detected_at is the wall clock.
		if d := g.SentAt.Sub(w.SentAt); d > time.Second || d < -time.Second {
			t.Errorf("flag %s: sent_at %v, want %v", id, g.SentAt, w.SentAt)
		}
		g.SentAt, g.DetectedAt, w.DetectedAt = w.SentAt, time.Time{}, time.Time{}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("flag %s differs:\nstored %+v\nreplay %+v", id, g, w)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; ok {
			continue
		}
		if mayAdd[g.Rule] {
			extra++
			continue
		}
		t.Errorf("ClickHouse shows flag %s (%s on %s) that replay does not give", id, g.Rule, g.MessageID)
	}
	if shown > 5 {
		t.Errorf("%d flags missing in all", shown)
	}
	t.Logf("ClickHouse shows %d flags (replay gives %d); %d rows stored before merges; stateful-rule flags missing %d, extra %d",
		len(got), len(want), total, missing, extra)
	return missing, extra
}

// checkDeadLetterSet asserts that the dead-letter topic holds every bad
// source record and nothing else, identified by the source partition and
// offset headers, with the value unchanged and a reason. A record handled
// again after a crash, a rebalance or a broker restart is dead-lettered
// again (at-least-once), so a source record may appear more than once;
// maxCopies bounds that (1: exactly once). It returns the number of
// letters.
func checkDeadLetterSet(t *testing.T, broker, topic string, records []topicRecord, tr *traffic, maxCopies int) int {
	t.Helper()
	kafka.DefaultTransport.(*kafka.Transport).CloseIdleConnections()
	type key struct {
		p int
		o int64
	}
	wantBad := map[key]bool{}
	for _, r := range records {
		if r.bad {
			wantBad[key{r.partition, r.offset}] = true
		}
	}
	letters := kafkatest.ReadAll(context.Background(), t, broker, topic+".dlq")
	copies := map[key]int{}
	for _, m := range letters {
		h := map[string]string{}
		for _, hd := range m.Headers {
			h[hd.Key] = string(hd.Value)
		}
		p, err1 := strconv.Atoi(h[pipeline.HeaderPartition])
		o, err2 := strconv.ParseInt(h[pipeline.HeaderOffset], 10, 64)
		if err1 != nil || err2 != nil || h[pipeline.HeaderTopic] != topic || h[pipeline.HeaderReason] == "" {
			t.Errorf("dead letter with bad headers: %v", h)
			continue
		}
		k := key{p, o}
		copies[k]++
		if !wantBad[k] {
			t.Errorf("dead letter for %d/%d, which is not a bad record (%.60q)", p, o, m.Value)
		}
		if !tr.bad[string(m.Value)] {
			t.Errorf("dead letter %d/%d: value %.60q is not one of the bad values", p, o, m.Value)
		}
	}
	dups := 0
	for k := range wantBad {
		switch n := copies[k]; {
		case n == 0:
			t.Errorf("bad record %d/%d is not in the dead-letter topic", k.p, k.o)
		case n > maxCopies:
			t.Errorf("bad record %d/%d is in the dead-letter topic %d times (at most %d expected)", k.p, k.o, n, maxCopies)
		case n > 1:
			dups += n - 1
		}
	}
	t.Logf("dead letters: %d for %d bad source records (%d repeated by re-delivery)", len(letters), len(wantBad), dups)
	return len(letters)
}

// -------------------------------------------------------------- watching

// watch samples figures of a running pipeline every interval and keeps
// their peaks.
type watch struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	// peaks since the last reset
	inFlight, heapInuse, rss float64
}

// watchPipeline samples the in-flight gauge, and the test process's heap in
// use and resident set.
func watchPipeline(m *pipeline.Metrics, interval time.Duration) *watch {
	w := &watch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			rss := vmRSS(os.Getpid())
			w.mu.Lock()
			w.inFlight = max(w.inFlight, testutil.ToFloat64(m.InFlight))
			w.heapInuse = max(w.heapInuse, float64(ms.HeapInuse))
			w.rss = max(w.rss, float64(rss))
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-time.After(interval):
			}
		}
	}()
	return w
}

func (w *watch) close() {
	close(w.stop)
	<-w.done
}

// peaks returns and resets the peaks.
func (w *watch) peaks() (inFlight, heapInuse, rss float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	inFlight, heapInuse, rss = w.inFlight, w.heapInuse, w.rss
	w.inFlight, w.heapInuse, w.rss = 0, 0, 0
	return
}

// vmRSS returns a process's resident set in bytes (0 if unknown).
func vmRSS(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

// ackingStore passes writes to the real store and remembers when each flag
// was first acknowledged, and every attempt.
type ackingStore struct {
	inner sinks.Writer
	delay time.Duration // added before every attempt (a slow sink)

	mu       sync.Mutex
	acked    map[string]time.Time
	attempts []attempt
}

type attempt struct {
	at time.Time
	ok bool
}

func (s *ackingStore) Write(ctx context.Context, flags []detectors.Flag) error {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := s.inner.Write(ctx, flags)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, attempt{now, err == nil})
	if err == nil {
		if s.acked == nil {
			s.acked = map[string]time.Time{}
		}
		for _, f := range flags {
			if _, ok := s.acked[f.FlagID]; !ok {
				s.acked[f.FlagID] = now
			}
		}
	}
	return err
}

func (s *ackingStore) Close() error { return nil }

func (s *ackingStore) written(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.acked[id]
	return at, ok
}

// attemptsBetween counts attempts in [from, to) and returns the first
// successful one at or after from.
func (s *ackingStore) attemptsBetween(from, to time.Time) (n, failed int, firstOK time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.attempts {
		if a.at.Before(from) {
			continue
		}
		if a.ok && firstOK.IsZero() {
			firstOK = a.at
		}
		if a.at.Before(to) {
			n++
			if !a.ok {
				failed++
			}
		}
	}
	return n, failed, firstOK
}

// waitFor polls cond every 50ms until it holds; it fails the test after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func committedAtLeast(oc *offsetsClient, group string, partitions []int, n int64) func() bool {
	return func() bool {
		c, err := oc.committed(context.Background(), group, partitions)
		return err == nil && sumCommitted(c) >= n
	}
}

func since(t0 time.Time) string { return time.Since(t0).Round(10 * time.Millisecond).String() }

// =================================================================== tests

// ClickHouse is killed in the middle of a stream and stays down for 30 s.
// The pipeline must pause (fetching stops once its bounded buffers are
// full), retry with backoff, commit nothing whose flags are not written,
// and afterwards show every flag exactly once.
func TestFaultClickHouseOutage(t *testing.T) {
	broker := testenv.Kafka(t)
	ch := services.StartClickHouse(t)
	ctx := context.Background()
	topic := faultTopic(t, broker, 4)
	_, writer := faultStore(t, ch.Addr())
	store := &ackingStore{inner: writer}

	tr := generate(15000, 71, 0.02)
	want := replayFlags(t, tr)
	opts := runOpts{workers: 2, batchSize: 1000, batchInterval: 200 * time.Millisecond, retryInitial: 100 * time.Millisecond, retryMax: 2 * time.Second}
	const group = "goshawk-fault-clickhouse"
	oc := newOffsetsClient(t, broker, topic)
	ends, err := oc.ends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	partitions := partitionsOf(ends)

	prod := produceSteadily(broker, topic, tr.records, 500) // 30 s of traffic
	h := startWith(t, broker, topic, group, store, opts)
	w := watchPipeline(h.metrics, 100*time.Millisecond)
	defer w.close()
	stopSampling := make(chan struct{})
	samples := sampleCommitted(oc, group, partitions, 200*time.Millisecond, stopSampling)

	waitFor(t, 60*time.Second, "2,000 records committed", committedAtLeast(oc, group, partitions, 2000))
	_, heapBefore, rssBefore := w.peaks()
	if err := ch.Kill(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	t.Logf("ClickHouse killed after %d records were consumed; down for 30 s", int(testutil.ToFloat64(h.metrics.Consumed)))
	time.Sleep(12 * time.Second)
	plateau := testutil.ToFloat64(h.metrics.Consumed)
	time.Sleep(30*time.Second - time.Since(down))
	consumedDown := testutil.ToFloat64(h.metrics.Consumed)
	inFlightDown, heapDown, rssDown := w.peaks()
	committedDown, err := oc.committed(ctx, group, partitions)
	if err != nil {
		t.Fatal(err)
	}

	if err := ch.Start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	t.Logf("ClickHouse answers again after %s down", up.Sub(down).Round(10*time.Millisecond))
	// Straight away: everything committed while ClickHouse was down has its
	// flags in the restarted ClickHouse (a write the pipeline makes
	// meanwhile only adds flags).
	stored, err := writer.Reader().FlagIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inStore := map[string]bool{}
	for _, id := range stored {
		inStore[id] = true
	}

	prod.wait(t, 2*time.Minute)
	caughtUp := waitCaughtUp(t, oc, group, 2*time.Minute, h)
	close(stopSampling)
	h.stop(t)

	attempts, failed, firstOK := store.attemptsBetween(down, up)
	_, _, resumed := store.attemptsBetween(up, time.Now())
	t.Logf("recovery: first successful write %s after ClickHouse answered again; caught up %s after",
		resumed.Sub(up).Round(10*time.Millisecond), caughtUp.Sub(up).Round(10*time.Millisecond))
	t.Logf("while down: %d write attempts (%d failed), consumed %v -> %v, peak in flight %.0f (bound %d), heap in use %s (before %s), RSS %s (before %s)",
		attempts, failed, plateau, consumedDown, inFlightDown, opts.inFlightBound(), mib(heapDown), mib(heapBefore), mib(rssDown), mib(rssBefore))

	// It paused: fetching stopped once the buffers were full.
	if consumedDown != plateau {
		t.Errorf("consumption went on while ClickHouse was down: %v records consumed 12 s into the outage, %v at its end", plateau, consumedDown)
	}
	if consumedDown >= float64(len(tr.records)) {
		t.Errorf("the whole stream was consumed during the outage; the test proves nothing")
	}
	if inFlightDown > float64(opts.inFlightBound()) {
		t.Errorf("%.0f records in flight during the outage, bound %d", inFlightDown, opts.inFlightBound())
	}
	// It retried with backoff: a few attempts, neither none nor a storm.
	// From 100ms growing by 1.5x to 2s (+-50% jitter), 30 s allow at most
	// about 8 + 28/1 attempts.
	// (A write acknowledged just as ClickHouse died may be counted after
	// the kill.)
	if failed < 5 || attempts > 40 || firstOK.Before(up) && firstOK.After(down.Add(time.Second)) {
		t.Errorf("write attempts during the outage: %d (%d failed, first success %v); want 5..40 failures, no success", attempts, failed, firstOK)
	}
	if got := testutil.ToFloat64(h.metrics.SinkErrors.WithLabelValues(pipeline.SinkStore)); got < float64(failed) {
		t.Errorf("store errors metric = %v, want at least %d", got, failed)
	}

	records := readBack(t, broker, topic, tr)
	want = expectedFlags(t, tr, records, want)
	byMessage := flagsByMessage(want)
	// The commits made before and during the outage are in the restarted
	// ClickHouse.
	checkCommitsFollowWrites(t, []committedSample{{at: up, committed: committedDown}}, records, byMessage, want,
		func(id string) (time.Time, bool) { return up, inStore[id] }, nil)
	// And at every sample of the whole run, against the acknowledgements.
	checkCommitsFollowWrites(t, samples(), records, byMessage, want, store.written, nil)
	checkStoredExactlyOnce(t, writer.Reader(), want)
	if n := checkDeadLetterSet(t, broker, topic, records, tr, 1); testutil.ToFloat64(h.metrics.DeadLetters) != float64(n) {
		t.Errorf("dead letters metric = %v, want %d", testutil.ToFloat64(h.metrics.DeadLetters), n)
	}
	if got := testutil.ToFloat64(h.metrics.Consumed); got != float64(len(records)) {
		t.Errorf("consumed %v records, want exactly the %d in the topic (nothing is delivered twice here)", got, len(records))
	}
}

// The pipeline process is killed with SIGKILL in the middle of the stream
// (records fetched and not yet committed), then started again with the same
// group: no flag is lost (except flags of stateful rules, whose state the
// kill lost) and none is visible twice.
func TestFaultPipelineSIGKILL(t *testing.T) {
	broker := testenv.Kafka(t)
	chAddr := testenv.ClickHouse(t)
	ctx := context.Background()
	bin := buildGoshawk(t)
	topic := faultTopic(t, broker, 6)
	cfg, writer := faultStore(t, chAddr)
	reader := writer.Reader()

	tr := generate(12000, 97, 0.02)
	want := replayFlags(t, tr)
	const group = "goshawk-fault-sigkill"
	oc := newOffsetsClient(t, broker, topic)
	ends, err := oc.ends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	partitions := partitionsOf(ends)
	args := []string{"run", "--brokers", broker, "--topic", topic, "--group", group,
		"--clickhouse-addr", chAddr, "--clickhouse-database", cfg.Database, "--evidence-encryption=off",
		"--workers", "2", "--batch-size", "5000", "--batch-interval", "2s", "--log-level", "warn",
		"--detectors", detectorNames(allDetectors(t))}

	prod := produceSteadily(broker, topic, tr.records, 1500) // 8 s of traffic
	first := startGoshawk(t, bin, "first", args)
	// Batches are flushed every 2 s: kill when a third of the stream is
	// committed and at least 1,000 more records are fetched and not yet.
	waitFor(t, 60*time.Second, "a third of the stream committed, 1,000 more in flight", func() bool {
		c, err := oc.committed(ctx, group, partitions)
		inFlight, _ := first.metric("goshawk_messages_in_flight")
		return err == nil && sumCommitted(c) >= int64(len(tr.records)/3) && inFlight >= 1000
	})
	inFlight, _ := first.metric("goshawk_messages_in_flight")
	consumed, _ := first.metric("goshawk_messages_consumed_total")
	rss := vmRSS(first.cmd.Process.Pid)
	first.kill(t)
	killed := time.Now()
	committedAtKill, err := oc.committed(ctx, group, partitions)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed -9 with %.0f records consumed, %.0f in flight, %d committed (RSS %s)", consumed, inFlight, sumCommitted(committedAtKill), mib(float64(rss)))

	// Nothing was committed whose flags ClickHouse does not hold.
	stored, err := reader.FlagIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inStore := map[string]bool{}
	for _, id := range stored {
		inStore[id] = true
	}
	prod.wait(t, time.Minute)
	records := readBack(t, broker, topic, tr)
	want = expectedFlags(t, tr, records, want)
	checkCommitsFollowWrites(t, []committedSample{{at: killed, committed: committedAtKill}}, records, flagsByMessage(want), want,
		func(id string) (time.Time, bool) { return killed, inStore[id] }, nil)

	second := startGoshawk(t, bin, "second", args)
	restarted := time.Now()
	waitFor(t, time.Minute, "the restarted pipeline to commit", committedAtLeast(oc, group, partitions, sumCommitted(committedAtKill)+1))
	progress := time.Since(restarted)
	caughtUp := waitCaughtUp(t, oc, group, 2*time.Minute)
	second.terminate(t)
	// The new member's join waits for the killed one's session to expire
	// (kafka-go's default session timeout is 30 s): that is most of it.
	t.Logf("recovery: the restarted process committed new progress %s after it was started, caught up after %s",
		progress.Round(10*time.Millisecond), caughtUp.Sub(restarted).Round(10*time.Millisecond))

	// Its fresh state may miss stateful flags; it can add none.
	checkStoredTolerant(t, reader, want, statefulRules, nil)
	// A bad record dead-lettered by the killed process but not committed
	// is dead-lettered again by the second.
	checkDeadLetterSet(t, broker, topic, records, tr, 2)
}

// The private Kafka broker is restarted while the pipeline works through a
// stream that is still being produced: the consumer reconnects and carries
// on, and the result is exact.
func TestFaultKafkaRestart(t *testing.T) {
	chAddr := testenv.ClickHouse(t)
	k := services.StartKafka(t)
	broker := k.Addr()
	ctx := context.Background()
	topic := faultTopic(t, broker, 4)
	_, writer := faultStore(t, chAddr)
	store := &ackingStore{inner: writer}

	tr := generate(12000, 131, 0.02)
	want := replayFlags(t, tr)
	const group = "goshawk-fault-kafka"
	oc := newOffsetsClient(t, broker, topic)
	ends, err := oc.ends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	partitions := partitionsOf(ends)
	opts := runOpts{workers: 2, batchSize: 1000, batchInterval: 200 * time.Millisecond, retryInitial: 100 * time.Millisecond, retryMax: 2 * time.Second}

	prod := produceSteadily(broker, topic, tr.records, 600) // 20 s of traffic
	h := startWith(t, broker, topic, group, store, opts)
	stopSampling := make(chan struct{})
	samples := sampleCommitted(oc, group, partitions, 200*time.Millisecond, stopSampling)
	waitFor(t, 60*time.Second, "3,000 records committed", committedAtLeast(oc, group, partitions, 3000))

	stopping := time.Now()
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	time.Sleep(3 * time.Second)
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	before, err := oc.committed(ctx, group, partitions)
	for err != nil && time.Since(up) < 30*time.Second {
		time.Sleep(100 * time.Millisecond)
		before, err = oc.committed(ctx, group, partitions)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("broker stopped in %s, down %s in all", stopped.Sub(stopping).Round(10*time.Millisecond), up.Sub(stopping).Round(10*time.Millisecond))
	waitFor(t, 2*time.Minute, "a commit after the restart", committedAtLeast(oc, group, partitions, sumCommitted(before)+1))
	progress := time.Since(up)
	prod.wait(t, 3*time.Minute)
	caughtUp := waitCaughtUp(t, oc, group, 3*time.Minute, h)
	close(stopSampling)
	h.stop(t)
	// kafka-go could not leave the group while the broker was down, and
	// rejoins as a new member: the group waits for the old member's session
	// (30 s by default) to expire.
	t.Logf("recovery: first commit %s after the broker answered again, caught up %s after; the producer retried %d chunks",
		progress.Round(10*time.Millisecond), caughtUp.Sub(up).Round(10*time.Millisecond), prod.retries.Load())
	t.Logf("kafka errors: fetch %v, commit %v; offset commits %v (%v failed)",
		testutil.ToFloat64(h.metrics.KafkaErrors.WithLabelValues("fetch")), testutil.ToFloat64(h.metrics.KafkaErrors.WithLabelValues("commit")),
		testutil.ToFloat64(h.metrics.Commits), testutil.ToFloat64(h.metrics.CommitErrors))

	records := readBack(t, broker, topic, tr)
	if len(records) < len(tr.records) {
		t.Fatalf("the topic holds %d records, %d were produced", len(records), len(tr.records))
	}
	want = expectedFlags(t, tr, records, want)
	checkCommitsFollowWrites(t, samples(), records, flagsByMessage(want), want, store.written, statefulRules)
	checkStoredTolerant(t, writer.Reader(), want, statefulRules, statefulRules)
	checkDeadLetterSet(t, broker, topic, records, tr, 3)
}

// Consumer-group rebalances under load: a second and a third instance join
// in the middle of the stream and the second leaves again. Every record is
// handled, no flag is lost or visible twice, every bad record is
// dead-lettered (a record handled by two instances around a rebalance may
// be dead-lettered twice: at-least-once).
func TestFaultRebalance(t *testing.T) {
	broker := testenv.Kafka(t)
	chAddr := testenv.ClickHouse(t)
	ctx := context.Background()
	topic := faultTopic(t, broker, 6)
	_, writer := faultStore(t, chAddr)
	store := &ackingStore{inner: writer}

	tr := generate(12000, 151, 0.02)
	want := replayFlags(t, tr)
	const group = "goshawk-fault-rebalance"
	oc := newOffsetsClient(t, broker, topic)
	ends, err := oc.ends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	partitions := partitionsOf(ends)
	opts := runOpts{workers: 2, batchSize: 500, batchInterval: 200 * time.Millisecond, retryInitial: 50 * time.Millisecond, retryMax: time.Second}

	prod := produceSteadily(broker, topic, tr.records, 400) // 30 s of traffic
	a := startWith(t, broker, topic, group, store, opts)
	stopSampling := make(chan struct{})
	samples := sampleCommitted(oc, group, partitions, 200*time.Millisecond, stopSampling)

	// recoverAfter waits until every partition's committed offset has
	// moved since the event: the group owns and works all partitions again
	// (the producer writes to each of them all the time).
	recoverAfter := func(what string, event time.Time) {
		c0, err := oc.committed(ctx, group, partitions)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 2*time.Minute, "every partition to progress after "+what, func() bool {
			c, err := oc.committed(ctx, group, partitions)
			if err != nil {
				return false
			}
			ends, err := oc.ends(ctx)
			if err != nil {
				return false
			}
			for p, o := range c0 {
				if c[p] <= o && c[p] != ends[p] { // neither moved nor at the end
					return false
				}
			}
			return true
		})
		t.Logf("recovery: every partition committed again %s after %s", since(event), what)
	}
	joined := func(h *harness, name string, event time.Time) {
		waitFor(t, 2*time.Minute, name+" to get partitions", func() bool { return testutil.ToFloat64(h.metrics.Consumed) > 0 })
		t.Logf("%s got partitions and consumed %s after it started", name, since(event))
	}
	waitFor(t, time.Minute, "1,000 records committed", committedAtLeast(oc, group, partitions, 1000))
	event := time.Now()
	b := startWith(t, broker, topic, group, store, opts)
	joined(b, "the second instance", event)
	recoverAfter("the second instance joined", event)
	time.Sleep(3 * time.Second)
	event = time.Now()
	c := startWith(t, broker, topic, group, store, opts)
	joined(c, "the third instance", event)
	recoverAfter("the third instance joined", event)
	time.Sleep(3 * time.Second)
	event = time.Now()
	b.stop(t)
	t.Logf("the second instance left (clean stop) in %s", since(event))
	recoverAfter("the second instance left", event)

	prod.wait(t, 2*time.Minute)
	caughtUp := time.Now()
	waitCaughtUp(t, oc, group, 2*time.Minute, a, c)
	t.Logf("caught up %s after the producer finished", since(caughtUp))
	close(stopSampling)
	a.stop(t)
	c.stop(t)

	var consumed, rebalances float64
	for i, h := range []*harness{a, b, c} {
		n := testutil.ToFloat64(h.metrics.Consumed)
		r := testutil.ToFloat64(h.metrics.Rebalances)
		t.Logf("instance %c: consumed %.0f, rebalances %.0f, dead letters %.0f", 'A'+i, n, r, testutil.ToFloat64(h.metrics.DeadLetters))
		if n == 0 {
			t.Errorf("instance %c consumed nothing: it never got a partition", 'A'+i)
		}
		consumed += n
		rebalances += r
	}
	if consumed < float64(len(tr.records)) {
		t.Errorf("the instances consumed %.0f records in all, fewer than the %d produced", consumed, len(tr.records))
	}
	t.Logf("%.0f records consumed in all for %d produced (%.0f delivered twice)", consumed, len(tr.records), consumed-float64(len(tr.records)))

	records := readBack(t, broker, topic, tr)
	want = expectedFlags(t, tr, records, want)
	checkCommitsFollowWrites(t, samples(), records, flagsByMessage(want), want, store.written, statefulRules)
	checkStoredTolerant(t, writer.Reader(), want, statefulRules, statefulRules)
	checkDeadLetterSet(t, broker, topic, records, tr, 3)
}

// A slow flag store (every write delayed): consumption slows down to what
// the store takes, fetching stops while the bounded buffers are full, and
// memory stays bounded.
func TestFaultSlowSink(t *testing.T) {
	broker := testenv.Kafka(t)
	chAddr := testenv.ClickHouse(t)
	ctx := context.Background()
	topic := faultTopic(t, broker, 4)
	_, writer := faultStore(t, chAddr)
	const delay = 400 * time.Millisecond
	store := &ackingStore{inner: writer, delay: delay}

	tr := generate(20000, 173, 0.02)
	want := replayFlags(t, tr)
	kafkatest.Produce(ctx, t, broker, topic, tr.records) // all of it up front: the store is the bottleneck
	const group = "goshawk-fault-slow"
	oc := newOffsetsClient(t, broker, topic)
	opts := runOpts{workers: 2, batchSize: 500, batchInterval: 100 * time.Millisecond, retryInitial: 100 * time.Millisecond, retryMax: time.Second}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBase, rssBase := float64(ms.HeapInuse), float64(vmRSS(os.Getpid()))
	start := time.Now()
	h := startWith(t, broker, topic, group, store, opts)
	w := watchPipeline(h.metrics, 50*time.Millisecond)
	defer w.close()
	time.Sleep(5 * time.Second)
	at5s := testutil.ToFloat64(h.metrics.Consumed)
	caughtUp := waitCaughtUp(t, oc, group, 3*time.Minute, h)
	elapsed := caughtUp.Sub(start)
	h.stop(t)
	inFlight, heap, rss := w.peaks()
	writes, _, _ := store.attemptsBetween(start, caughtUp)
	rate := float64(len(tr.records)) / elapsed.Seconds()
	t.Logf("slow store (+%s a write): %d records in %s (%.0f records/s), %d writes; consumed %.0f after 5 s",
		delay, len(tr.records), elapsed.Round(10*time.Millisecond), rate, writes, at5s)
	t.Logf("memory: peak in flight %.0f (bound %d); heap in use peak %s (%s before the pipeline started, +%s); RSS peak %s (%s before)",
		inFlight, opts.inFlightBound(), mib(heap), mib(heapBase), mib(heap-heapBase), mib(rss), mib(rssBase))

	// Consumption follows the store: a write settles at most one batch and
	// takes at least the delay. (A batch without flags skips the store;
	// hence the margin.)
	if maxRate := 1.25 * float64(opts.batchSize) / delay.Seconds(); rate > maxRate {
		t.Errorf("%.0f records/s through a store that settles about %.0f a second at most", rate, maxRate)
	}
	if at5s > float64(opts.inFlightBound())+5/delay.Seconds()*float64(opts.batchSize) {
		t.Errorf("%.0f records consumed in the first 5 s, more than the buffers and the store's pace allow", at5s)
	}
	if inFlight > float64(opts.inFlightBound()) {
		t.Errorf("peak in flight %.0f, bound %d", inFlight, opts.inFlightBound())
	}
	// The stated bound: the pipeline's buffers hold at most a few thousand
	// records of a few hundred bytes, plus kafka-go's fetch buffers (up to
	// 16 MiB a partition reader); 64 MiB of heap above what the test held
	// before is generous, and a leak of the stream (20,000 records with
	// their flags) would show long before.
	const heapBound = 64 << 20
	if heap-heapBase > heapBound {
		t.Errorf("heap in use grew by %s, bound %s", mib(heap-heapBase), mib(heapBound))
	}
	checkStoredExactlyOnce(t, writer.Reader(), want)
	checkDeadLetterSet(t, broker, topic, readBack(t, broker, topic, tr), tr, 1)
}

// ------------------------------------------------- the goshawk subprocess

// buildGoshawk builds cmd/goshawk into the test's temporary directory.
func buildGoshawk(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "goshawk")
	start := time.Now()
	out, err := exec.Command("go", "build", "-o", bin, "github.com/goshawk-safety/goshawk/cmd/goshawk").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/goshawk: %v\n%s", err, out)
	}
	t.Logf("built goshawk in %s", since(start))
	return bin
}

type goshawkProc struct {
	name    string
	cmd     *exec.Cmd
	log     string
	metrics string // URL of /metrics
	exited  chan struct{}
}

// startGoshawk runs the binary with args plus a free --metrics-addr, waits
// until /metrics answers, and kills it when the test ends.
func startGoshawk(t *testing.T, bin, name string, args []string) *goshawkProc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := &goshawkProc{name: name, log: filepath.Join(t.TempDir(), name+".log"), metrics: "http://" + addr + "/metrics", exited: make(chan struct{})}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, append(slices.Clone(args), "--metrics-addr", addr)...)
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			data, _ := os.ReadFile(p.log)
			t.Logf("goshawk %s log (last 4 KiB):\n%s", name, data[max(0, len(data)-4096):])
		}
	})
	waitFor(t, 60*time.Second, "goshawk "+name+" to serve /metrics", func() bool {
		select {
		case <-p.exited:
			data, _ := os.ReadFile(p.log)
			t.Fatalf("goshawk %s exited at start-up (%v):\n%s", name, p.cmd.ProcessState, data)
		default:
		}
		_, err := p.metric("goshawk_messages_consumed_total")
		return err == nil
	})
	return p
}

// metric reads one unlabelled series from /metrics.
func (p *goshawkProc) metric(name string) (float64, error) {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(p.metrics)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("%s not in %s", name, p.metrics)
}

func (p *goshawkProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

// terminate sends SIGTERM and expects a clean exit (0) within 60 s.
func (p *goshawkProc) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("goshawk %s did not exit within 60 s of SIGTERM", p.name)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		data, _ := os.ReadFile(p.log)
		t.Errorf("goshawk %s exited %d after SIGTERM:\n%s", p.name, code, data[max(0, len(data)-4096):])
	}
}
