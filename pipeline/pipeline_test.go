package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/generator"
	"github.com/goshawk-safety/goshawk/internal/kafkatest"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks"
)

// traffic is a generated stream: the Kafka records, the same events as
// JSON lines for replay, and how many are deliberately bad.
type traffic struct {
	records []kafka.Message
	lines   bytes.Buffer
	bad     map[string]bool // values of bad records
	nBad    int             // bad records (some share a value, such as empty ones)
}

func generate(n int, seed int64, badRatio float64) *traffic {
	tr := &traffic{bad: map[string]bool{}}
	gen := generator.New(seed, generator.Options{BadRatio: badRatio})
	for range n {
		e := gen.Next()
		tr.records = append(tr.records, kafka.Message{Key: e.Key, Value: e.Value})
		if e.Bad {
			tr.bad[string(e.Value)] = true
			tr.nBad++
		}
		// Replay reads lines, so a record containing a newline cannot be a
		// line; such records are bad anyway and only matter for the DLQ.
		if !bytes.ContainsAny(e.Value, "\n\r") {
			tr.lines.Write(e.Value)
			tr.lines.WriteByte('\n')
		}
	}
	return tr
}

// replayFlags runs replay over the traffic: the flags the stream must give.
func replayFlags(t testing.TB, tr *traffic) map[string]detectors.Flag {
	t.Helper()
	return replayFlagsWith(t, tr, nil)
}

// replayFlagsWith is replayFlags with the given rules (nil: the built-in ones).
func replayFlagsWith(t testing.TB, tr *traffic, set *detectors.RuleSet) map[string]detectors.Flag {
	t.Helper()
	factories := allDetectors(t)
	if set == nil {
		set = builtinRules(t, factories)
	}
	var out bytes.Buffer
	sum, err := pipeline.Replay(context.Background(), []pipeline.ReplayInput{{Name: "traffic", R: bytes.NewReader(tr.lines.Bytes())}},
		factories, set, detectors.EngineOptions{Clock: detectors.EventTime}, &out)
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]detectors.Flag{}
	dec := json.NewDecoder(&out)
	for {
		var f detectors.Flag
		if err := dec.Decode(&f); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if _, dup := flags[f.FlagID]; dup {
			t.Fatalf("replay produced flag %s twice", f.FlagID)
		}
		flags[f.FlagID] = f
	}
	if len(flags) != sum.Flags || len(flags) == 0 {
		t.Fatalf("replay: %d distinct flags, summary says %d", len(flags), sum.Flags)
	}
	return flags
}

// allDetectors is every built-in detector whose flags a single pipeline
// gives, that is all but those with stages (spam): their flags come from
// the stage consumers over internal topics, which the Instance tests
// (durable_test.go, spam_test.go) run. The fault and end-to-end tests
// compare what one pipeline stores with replay, so they leave them out.
func allDetectors(t testing.TB) []detectors.Factory {
	t.Helper()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	all, err := reg.Factories(nil)
	if err != nil {
		t.Fatal(err)
	}
	var f []detectors.Factory
	for _, d := range all {
		if len(d.Stages) == 0 {
			f = append(f, d)
		}
	}
	return f
}

// detectorNames is the --detectors value of factories.
func detectorNames(factories []detectors.Factory) string {
	names := make([]string, len(factories))
	for i, f := range factories {
		names[i] = f.Name
	}
	return strings.Join(names, ",")
}

// builtinRules loads and checks the built-in rules of factories.
func builtinRules(t testing.TB, factories []detectors.Factory) *detectors.RuleSet {
	t.Helper()
	set, err := detectors.LoadCheckedRules(factories, nil)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// recordingSink is an in-memory flag store that fails its first failures
// writes, to exercise retries.
type recordingSink struct {
	mu       sync.Mutex
	failures int
	attempts int
	flags    map[string]detectors.Flag
	writes   int // flags written, duplicates included
}

func (s *recordingSink) Write(_ context.Context, flags []detectors.Flag) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.attempts <= s.failures {
		return errors.New("store unavailable (test)")
	}
	if s.flags == nil {
		s.flags = map[string]detectors.Flag{}
	}
	for _, f := range flags {
		s.flags[f.FlagID] = f
		s.writes++
	}
	return nil
}

func (s *recordingSink) Close() error { return nil }

func (s *recordingSink) snapshot() map[string]detectors.Flag {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]detectors.Flag, len(s.flags))
	for k, v := range s.flags {
		out[k] = v
	}
	return out
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.DiscardHandler)
}

type harness struct {
	broker, topic, dlq, group string
	metrics                   *pipeline.Metrics
	registry                  *prometheus.Registry
	pipeline                  *pipeline.Pipeline
	done                      chan error
	cancel                    context.CancelFunc
}

// startPipeline starts a pipeline with two workers and fast retries (see
// startWith for the knobs).
func startPipeline(t *testing.T, broker, topic, group string, store sinks.Writer, batchSize int) *harness {
	t.Helper()
	return startWith(t, broker, topic, group, store, runOpts{workers: 2, batchSize: batchSize,
		batchInterval: 100 * time.Millisecond, retryInitial: 20 * time.Millisecond, retryMax: 200 * time.Millisecond})
}

// waitCommitted waits until the group has committed every partition to its
// end offset.
func (h *harness) waitCommitted(t *testing.T, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	ends := kafkatest.EndOffsets(ctx, t, h.broker, h.topic)
	partitions := make([]int, 0, len(ends))
	for p := range ends {
		partitions = append(partitions, p)
	}
	deadline := time.Now().Add(timeout)
	for {
		committed := kafkatest.Committed(ctx, t, h.broker, h.group, h.topic, partitions)
		caughtUp := true
		for p, end := range ends {
			if committed[p] != end {
				caughtUp = false
			}
		}
		if caughtUp {
			return
		}
		select {
		case err := <-h.done:
			t.Fatalf("pipeline stopped before catching up: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up after %s: committed %v, end %v", timeout, committed, ends)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *harness) stop(t *testing.T) {
	t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("Run returned %v after a clean stop", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return within 60s of the stop")
	}
}

// checkDeadLetters asserts that the dead-letter topic holds exactly the bad
// records, unchanged, with the headers that say why and where from.
func checkDeadLetters(t *testing.T, broker, dlq string, tr *traffic) {
	t.Helper()
	letters := kafkatest.ReadAll(context.Background(), t, broker, dlq)
	seen := map[string]int{}
	for _, m := range letters {
		seen[string(m.Value)]++
		h := map[string]string{}
		for _, hd := range m.Headers {
			h[hd.Key] = string(hd.Value)
		}
		if !tr.bad[string(m.Value)] {
			t.Errorf("dead letter %.60q was not a bad event", m.Value)
		}
		if h[pipeline.HeaderReason] == "" || h[pipeline.HeaderDetail] == "" || h[pipeline.HeaderTopic] == "" ||
			h[pipeline.HeaderRejectedAt] == "" {
			t.Errorf("dead letter lacks headers: %v", h)
		}
		if _, err := strconv.ParseInt(h[pipeline.HeaderOffset], 10, 64); err != nil {
			t.Errorf("dead letter offset header %q: %v", h[pipeline.HeaderOffset], err)
		}
	}
	for v := range tr.bad {
		if seen[v] == 0 {
			t.Errorf("bad event %.60q is missing from the dead-letter topic", v)
		}
	}
	if len(letters) != tr.nBad {
		t.Errorf("dead letters: %d, bad events: %d", len(letters), tr.nBad)
	}
}

func compareFlags(t *testing.T, got, want map[string]detectors.Flag) {
	t.Helper()
	compareFlagsExcept(t, got, want, nil)
}

// compareFlagsExcept is compareFlags, except that flags of the rules in
// mayMiss may be missing from got.
func compareFlagsExcept(t *testing.T, got, want map[string]detectors.Flag, mayMiss map[string]bool) {
	t.Helper()
	if len(got) != len(want) && mayMiss == nil {
		t.Errorf("stream stored %d distinct flags, replay gives %d", len(got), len(want))
	}
	shown, missed := 0, 0
	defer func() {
		if missed > 0 {
			t.Logf("%d flags of stateful rules missing after the restart (state is not yet restored)", missed)
		}
	}()
	for id, w := range want {
		g, ok := got[id]
		if !ok && mayMiss[w.Rule] {
			missed++
			continue
		}
		if !ok {
			if shown++; shown <= 5 {
				t.Errorf("flag %s (%s/%s on %s) missing from the stream's store", id, w.Detector, w.Rule, w.MessageID)
			}
			continue
		}
		g.DetectedAt, w.DetectedAt = time.Time{}, time.Time{}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("flag %s differs:\nstream %+v\nreplay %+v", id, g, w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("stream stored flag %s that replay does not give", id)
		}
	}
}

// The full path on the embedded broker: every flag replay gives is stored,
// sink failures are retried, bad events are dead-lettered, offsets end up
// committed at the end, and a clean stop returns nil.
func TestPipelineOnEmbeddedBroker(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "messages", "messages.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]
	tr := generate(3000, 7, 0.03)
	want := replayFlags(t, tr)
	kafkatest.Produce(context.Background(), t, broker, "messages", tr.records)

	store := &recordingSink{failures: 3}
	h := startPipeline(t, broker, "messages", "goshawk-test", store, 500)
	h.waitCommitted(t, 60*time.Second)
	h.stop(t)

	compareFlags(t, store.snapshot(), want)
	checkDeadLetters(t, broker, "messages.dlq", tr)
	if got := testutil.ToFloat64(h.metrics.Consumed); got != float64(len(tr.records)) {
		t.Errorf("consumed metric = %v, want %d", got, len(tr.records))
	}
	if got := testutil.ToFloat64(h.metrics.DeadLetters); got != float64(tr.nBad) {
		t.Errorf("dead letters metric = %v, want %d", got, tr.nBad)
	}
	if got := testutil.ToFloat64(h.metrics.SinkErrors.WithLabelValues(pipeline.SinkStore)); got != 3 {
		t.Errorf("store errors metric = %v, want 3 (the injected failures)", got)
	}
	if problems, err := testutil.GatherAndLint(h.registry); err != nil || len(problems) > 0 {
		t.Errorf("metrics lint: %v %v", err, problems)
	}
	promtoolCheck(t, h.registry)
}

// A stop in the middle of the stream commits nothing whose flags are not
// stored, and a second run of the same group finishes the job without
// losing a flag.
func TestPipelineStopMidStreamLosesNothing(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "messages", "messages.dlq"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]
	tr := generate(4000, 11, 0.01)
	want := replayFlags(t, tr)
	kafkatest.Produce(context.Background(), t, broker, "messages", tr.records)

	store := &recordingSink{}
	h := startPipeline(t, broker, "messages", "goshawk-test", store, 100)
	for testutil.ToFloat64(h.metrics.Consumed) < 500 {
		time.Sleep(5 * time.Millisecond)
	}
	h.stop(t)
	first := store.snapshot()
	if len(first) >= len(want) {
		t.Logf("the first run finished everything before the stop (%d flags)", len(first))
	}
	// Everything below each committed offset must have its flags stored.
	stored := readBackCommitted(t, broker, "goshawk-test", "messages")
	for id, f := range want {
		if stored[f.MessageID] {
			if _, ok := first[id]; !ok {
				t.Fatalf("message %s was committed but its flag %s (%s) was not stored", f.MessageID, id, f.Rule)
			}
		}
	}
	h2 := startPipeline(t, broker, "messages", "goshawk-test", store, 500)
	h2.waitCommitted(t, 60*time.Second)
	h2.stop(t)
	// Detector state lives in memory: a rule that counts across messages
	// (harassment escalation) starts afresh after a restart and may miss a
	// flag whose earlier messages were committed before the stop. Every
	// other flag must be there. (Restoring state from a changelog topic is
	// the grooming issue's work.)
	compareFlagsExcept(t, store.snapshot(), want, map[string]bool{"harassment.escalation": true})
}

// readBackCommitted returns the message ids of all records below the group's
// committed offsets.
func readBackCommitted(t *testing.T, broker, group, topic string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	all := kafkatest.ReadAll(ctx, t, broker, topic)
	ends := kafkatest.EndOffsets(ctx, t, broker, topic)
	var partitions []int
	for p := range ends {
		partitions = append(partitions, p)
	}
	committed := kafkatest.Committed(ctx, t, broker, group, topic, partitions)
	out := map[string]bool{}
	for _, m := range all {
		if m.Offset < committed[m.Partition] {
			var v struct {
				MessageID string `json:"message_id"`
			}
			if json.Unmarshal(m.Value, &v) == nil {
				out[v.MessageID] = true
			}
		}
	}
	return out
}
