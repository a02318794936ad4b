package pipeline_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/detectors/grooming/corpus"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/internal/kafkatest"
	"github.com/goshawk-safety/goshawk/internal/testenv"
	"github.com/goshawk-safety/goshawk/pipeline"
)

// counter is a durable test detector: it counts each conversation's
// messages and flags the 3rd and the 7th, so a lost or doubled state shows
// as a missing or misplaced flag.
type counter struct {
	counts  map[string]uint64
	changed map[string]bool
}

func newCounter([]*detectors.Rule) (detectors.Detector, error) {
	return &counter{counts: map[string]uint64{}, changed: map[string]bool{}}, nil
}

func (c *counter) Name() string { return "counter" }

func (c *counter) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	c.counts[m.ConversationID]++
	c.changed[m.ConversationID] = true
	switch c.counts[m.ConversationID] {
	case 3, 7:
		out = append(out, detectors.Finding{Rule: fmt.Sprintf("count_%d", c.counts[m.ConversationID]),
			Category: detectors.Grooming, Severity: detectors.Medium, Score: 0.5})
	}
	return out
}

func (c *counter) TakeChanged(fn func(string, []byte)) {
	for k := range c.changed {
		fn(k, binary.AppendUvarint(nil, c.counts[k]))
	}
	clear(c.changed)
}

func (c *counter) Restore(key string, state []byte) error {
	if state == nil {
		delete(c.counts, key)
		return nil
	}
	n, size := binary.Uvarint(state)
	if size <= 0 || size != len(state) {
		return errors.New("bad counter state")
	}
	c.counts[key] = n
	return nil
}

// fanout is a forwarding test detector: it sends (sender, conversation,
// message) to a stage keyed by sender, which flags every message of a
// sender who has written in at least 3 conversations, whichever order the
// records arrive in.
type fanout struct{ fwd []detectors.Forward }

type fanoutRecord struct {
	Message, Conversation, Sender string
	SentAt                        time.Time
}

func (f *fanout) Name() string { return "fanout" }

func (f *fanout) Inspect(m *event.Message, out []detectors.Finding) []detectors.Finding {
	v, _ := json.Marshal(fanoutRecord{m.MessageID, m.ConversationID, m.Sender.ID, m.SentAt})
	f.fwd = append(f.fwd, detectors.Forward{Stream: "fanout-sender", Key: m.Sender.ID, Value: v})
	return out
}

func (f *fanout) TakeForwards(out []detectors.Forward) []detectors.Forward {
	out = append(out, f.fwd...)
	f.fwd = f.fwd[:0]
	return out
}

type fanoutStage struct {
	conversations map[string]map[string]bool
	messages      map[string][]fanoutRecord
	flagged       map[string]bool
}

func (s *fanoutStage) Stream() string { return "fanout-sender" }

func (s *fanoutStage) Handle(key string, value []byte, out []detectors.Flag) ([]detectors.Flag, error) {
	var r fanoutRecord
	if err := json.Unmarshal(value, &r); err != nil || r.Sender != key {
		return out, fmt.Errorf("bad fanout record (%v)", err)
	}
	if s.conversations[key] == nil {
		s.conversations[key] = map[string]bool{}
	}
	s.conversations[key][r.Conversation] = true
	if !slices.ContainsFunc(s.messages[key], func(x fanoutRecord) bool { return x.Message == r.Message }) {
		s.messages[key] = append(s.messages[key], r)
	}
	if len(s.conversations[key]) < 3 {
		return out, nil
	}
	for _, m := range s.messages[key] {
		if s.flagged[m.Message] {
			continue
		}
		s.flagged[m.Message] = true
		out = append(out, detectors.Flag{
			FlagID: detectors.FlagID(m.Message, "fanout", "three_conversations"), MessageID: m.Message,
			ConversationID: m.Conversation, SenderID: m.Sender, Category: detectors.Spam, Detector: "fanout",
			Rule: "three_conversations", Mode: detectors.Live, Severity: detectors.Medium, Score: 0.5, SentAt: m.SentAt,
		})
	}
	return out, nil
}

func (s *fanoutStage) StateEntries() int { return len(s.messages) }

func testStatefulFactories() []detectors.Factory {
	return []detectors.Factory{
		{Name: "counter", New: newCounter},
		{Name: "fanout", New: func([]*detectors.Rule) (detectors.Detector, error) { return &fanout{}, nil },
			Stages: []detectors.StageFactory{{Stream: "fanout-sender", New: func([]*detectors.Rule) (detectors.Stage, error) {
				return &fanoutStage{conversations: map[string]map[string]bool{}, messages: map[string][]fanoutRecord{}, flagged: map[string]bool{}}, nil
			}}}},
	}
}

// statefulTraffic is conversations whose messages are spread over time and
// senders, so that both the per-conversation counts and the per-sender
// fan-out cross every partition and every part of the run.
func statefulTraffic(conversations, perConversation int) [][]kafka.Message {
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	parts := make([][]kafka.Message, 3)
	for i := range perConversation {
		part := i * 3 / perConversation
		for c := range conversations {
			conv := fmt.Sprintf("c%03d", c)
			sender := fmt.Sprintf("u%02d", (c*7+i)%23)
			v, _ := json.Marshal(map[string]any{
				"schema_version": 1, "message_id": fmt.Sprintf("%s-m%02d", conv, i), "conversation_id": conv,
				"sent_at":    base.Add(time.Duration(i)*time.Minute + time.Duration(c)*time.Second).Format(time.RFC3339Nano),
				"sender":     map[string]any{"id": sender},
				"recipients": []any{map[string]any{"id": "r" + conv}},
				"text":       "hello there",
			})
			parts[part] = append(parts[part], kafka.Message{Key: []byte(conv), Value: v})
		}
	}
	return parts
}

func replayStateful(t *testing.T, parts [][]kafka.Message) map[string]bool {
	t.Helper()
	return replayParts(t, parts, testStatefulFactories(), nil)
}

// replayParts replays the records' values in order with one engine and
// in-process stages, and returns the flags as detector/rule/message keys.
func replayParts(t *testing.T, parts [][]kafka.Message, factories []detectors.Factory, rules *detectors.RuleSet) map[string]bool {
	t.Helper()
	return replayKeys(t, parts, factories, rules, flagKey)
}

func flagKey(f detectors.Flag) string { return f.Detector + "/" + f.Rule + "/" + f.MessageID }

// replayKeys is replayParts with the keys made by key.
func replayKeys(t *testing.T, parts [][]kafka.Message, factories []detectors.Factory, rules *detectors.RuleSet, key func(detectors.Flag) string) map[string]bool {
	t.Helper()
	var lines bytes.Buffer
	for _, p := range parts {
		for _, m := range p {
			lines.Write(m.Value)
			lines.WriteByte('\n')
		}
	}
	var out bytes.Buffer
	if _, err := pipeline.Replay(context.Background(), []pipeline.ReplayInput{{Name: "t", R: &lines}}, factories, rules,
		detectors.EngineOptions{Clock: detectors.EventTime}, &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	dec := json.NewDecoder(&out)
	for {
		var f detectors.Flag
		if err := dec.Decode(&f); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		want[key(f)] = true
	}
	return want
}

type instanceHarness struct {
	cancel  context.CancelFunc
	done    chan error
	metrics *pipeline.Metrics
}

func startInstance(t *testing.T, broker, topic, group string, store *recordingSink) *instanceHarness {
	t.Helper()
	return startInstanceWith(t, broker, topic, group, store, testStatefulFactories(), nil)
}

func startInstanceWith(t *testing.T, broker, topic, group string, store *recordingSink, factories []detectors.Factory, rules *detectors.RuleSet) *instanceHarness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var names []string
	for _, f := range factories {
		names = append(names, f.Name)
	}
	metrics := pipeline.NewMetrics(prometheus.NewRegistry(), names)
	in, err := pipeline.NewInstance(ctx, pipeline.InstanceConfig{
		Pipeline: pipeline.Config{Workers: 2, BatchSize: 200, BatchInterval: 50 * time.Millisecond, ShutdownTimeout: 30 * time.Second,
			Detectors: factories, Rules: rules, Engine: detectors.EngineOptions{Clock: detectors.WallClock},
			RetryInitial: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond},
		Kafka:        pipeline.KafkaConfig{Brokers: []string{broker}, Topic: topic, Group: group},
		StateTopic:   topic + ".state",
		StreamPrefix: topic + ".",
	}, pipeline.InstanceDeps{Store: store, DeadLetter: &memDeadLetters{}, Metrics: metrics, Log: testLogger(t)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h := &instanceHarness{cancel: cancel, done: make(chan error, 1), metrics: metrics}
	go func() { h.done <- in.Run(ctx) }()
	return h
}

func (h *instanceHarness) stop(t *testing.T) {
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

type memDeadLetters struct{ n int }

func (d *memDeadLetters) WriteDeadLetters(_ context.Context, l []pipeline.DeadLetter) error {
	d.n += len(l)
	return nil
}
func (d *memDeadLetters) Close() error { return nil }

// waitGroupsCommitted waits until each group has committed its topic to the
// end.
func waitGroupsCommitted(t *testing.T, broker string, groups map[string]string, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		done := true
		for group, topic := range groups {
			ends := kafkatest.EndOffsets(ctx, t, broker, topic)
			var ps []int
			for p := range ends {
				ps = append(ps, p)
			}
			committed := kafkatest.Committed(ctx, t, broker, group, topic, ps)
			for p, end := range ends {
				if committed[p] != end {
					done = false
				}
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("groups %v not caught up after %s", groups, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func storedKeys(s *recordingSink) map[string]bool {
	got := map[string]bool{}
	for _, f := range s.snapshot() {
		got[flagKey(f)] = true
	}
	return got
}

func compareKeys(t *testing.T, got, want map[string]bool) {
	t.Helper()
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Errorf("stream and replay differ: %d missing (first %v), %d extra (first %v)", len(missing), missing[:min(5, len(missing))], len(extra), extra[:min(5, len(extra))])
	}
}

// The durable-state and stage machinery on a broker: a stop between parts
// of the traffic (restart), a second instance joining (partitions split
// between two instances), and the first instance leaving (its partitions
// move) all give exactly the flags of one uninterrupted replay, because
// conversation state is restored from the changelog and the sender-keyed
// stage sees every record of a sender on one instance.
func testDurableAndStages(t *testing.T, broker, topic string) {
	ctx := context.Background()
	parts := statefulTraffic(40, 18)
	want := replayStateful(t, parts)
	if len(want) < 80 {
		t.Fatalf("replay gives only %d flags; the traffic does not exercise the detectors", len(want))
	}
	store := &recordingSink{}
	group := topic + "-g"
	groups := map[string]string{group: topic, group + ".fanout-sender": topic + ".fanout-sender"}

	// Part 1, then a restart: the second instance has no memory of part 1.
	a := startInstance(t, broker, topic, group, store)
	kafkatest.Produce(ctx, t, broker, topic, parts[0])
	waitGroupsCommitted(t, broker, groups, 90*time.Second)
	a.stop(t)

	b := startInstance(t, broker, topic, group, store)
	kafkatest.Produce(ctx, t, broker, topic, parts[1][:len(parts[1])/2])
	waitGroupsCommitted(t, broker, groups, 90*time.Second)
	if testutil.ToFloat64(b.metrics.StateRestores) == 0 {
		t.Error("the restarted instance restored no state")
	}

	// A second instance joins: the partitions are split between them.
	c := startInstance(t, broker, topic, group, store)
	time.Sleep(3 * time.Second) // let the group settle with two members
	kafkatest.Produce(ctx, t, broker, topic, parts[1][len(parts[1])/2:])
	waitGroupsCommitted(t, broker, groups, 90*time.Second)

	// The first leaves: its partitions move to the other one.
	b.stop(t)
	kafkatest.Produce(ctx, t, broker, topic, parts[2])
	waitGroupsCommitted(t, broker, groups, 90*time.Second)
	c.stop(t)

	compareKeys(t, storedKeys(store), want)
	t.Logf("%d flags, as replay; restores: first %v, second %v, third %v", len(want),
		testutil.ToFloat64(a.metrics.StateRestores), testutil.ToFloat64(b.metrics.StateRestores), testutil.ToFloat64(c.metrics.StateRestores))
}

func TestDurableStateAndStagesOnEmbeddedBroker(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	testDurableAndStages(t, cluster.ListenAddrs()[0], "messages")
}

func TestDurableStateAndStagesRealKafka(t *testing.T) {
	broker := testenv.Kafka(t)
	topic := fmt.Sprintf("goshawk-durable-%d", time.Now().UnixNano())
	kafkatest.CreateTopics(context.Background(), t, broker, 4, topic)
	testDurableAndStages(t, broker, topic)
}

// groomingTraffic is the grooming detector's labelled corpus as message
// records, all conversations interleaved in time and cut into three parts,
// so that every stop and move falls in the middle of conversations.
func groomingTraffic(t *testing.T) [][]kafka.Message {
	t.Helper()
	convs, err := corpus.Load("../detectors/grooming/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	var all []*event.Message
	for i, c := range convs {
		// Shift each conversation to start an hour after the previous one,
		// so they overlap in time as on a real platform.
		shift := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Sub(c.Events[0].SentAt)
		for _, m := range c.Events {
			m2 := *m
			m2.SentAt = m.SentAt.Add(shift)
			all = append(all, &m2)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].SentAt.Before(all[j].SentAt) })
	parts := make([][]kafka.Message, 3)
	for i, m := range all {
		v, err := json.Marshal(struct {
			SchemaVersion int `json:"schema_version"`
			*event.Message
		}{1, m})
		if err != nil {
			t.Fatal(err)
		}
		parts[i*3/len(all)] = append(parts[i*3/len(all)], kafka.Message{Key: []byte(m.ConversationID), Value: v})
	}
	return parts
}

// The grooming issue's proof on a broker: the pipeline is stopped a third
// of the way through the labelled grooming conversations and restarted,
// then a second instance joins and the first leaves (its partitions move),
// and every grooming flag (rule, message, severity and evidence, which
// cites the whole trajectory) is the same as in one uninterrupted replay.
func testGroomingDurable(t *testing.T, broker, topic string) {
	ctx := context.Background()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	factories, err := reg.Factories([]string{"grooming"})
	if err != nil {
		t.Fatal(err)
	}
	rules := builtinRules(t, factories)
	parts := groomingTraffic(t)
	want := replayFlagDetails(t, parts, factories, rules)
	medium := 0
	for k := range want {
		if !strings.Contains(k, "/low/") {
			medium++
		}
	}
	if medium < 40 {
		t.Fatalf("replay gives only %d medium+ grooming flags", medium)
	}
	store := &recordingSink{}
	group := topic + "-g"
	groups := map[string]string{group: topic}

	a := startInstanceWith(t, broker, topic, group, store, factories, rules)
	kafkatest.Produce(ctx, t, broker, topic, parts[0])
	waitGroupsCommitted(t, broker, groups, 90*time.Second)
	a.stop(t) // a restart: the next instance knows nothing of part 1 but the changelog

	b := startInstanceWith(t, broker, topic, group, store, factories, rules)
	kafkatest.Produce(ctx, t, broker, topic, parts[1])
	waitGroupsCommitted(t, broker, groups, 90*time.Second)

	c := startInstanceWith(t, broker, topic, group, store, factories, rules)
	time.Sleep(3 * time.Second)
	b.stop(t) // its partitions move to c
	kafkatest.Produce(ctx, t, broker, topic, parts[2])
	waitGroupsCommitted(t, broker, groups, 90*time.Second)
	c.stop(t)

	got := map[string]bool{}
	for _, f := range store.snapshot() {
		got[flagDetail(f)] = true
	}
	compareKeys(t, got, want)
	t.Logf("%d grooming flags (%d medium+), as replay; state restores: %v, %v, %v", len(want), medium,
		testutil.ToFloat64(a.metrics.StateRestores), testutil.ToFloat64(b.metrics.StateRestores), testutil.ToFloat64(c.metrics.StateRestores))
}

func flagDetail(f detectors.Flag) string {
	return f.Rule + "/" + string(f.Severity) + "/" + f.MessageID + "/" + f.Evidence
}

func replayFlagDetails(t *testing.T, parts [][]kafka.Message, factories []detectors.Factory, rules *detectors.RuleSet) map[string]bool {
	t.Helper()
	return replayKeys(t, parts, factories, rules, flagDetail)
}

func TestGroomingDurableOnEmbeddedBroker(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	testGroomingDurable(t, cluster.ListenAddrs()[0], "messages")
}

func TestGroomingDurableRealKafka(t *testing.T) {
	broker := testenv.Kafka(t)
	topic := fmt.Sprintf("goshawk-grooming-%d", time.Now().UnixNano())
	kafkatest.CreateTopics(context.Background(), t, broker, 4, topic)
	testGroomingDurable(t, broker, topic)
}
