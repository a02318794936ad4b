package pipeline_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/internal/kafkatest"
	"github.com/goshawk-safety/goshawk/internal/testenv"
)

// spamTraffic is the spam detector's labelled corpus (22 campaigns, 25
// benign look-alikes) as message records in time order, keyed by
// conversation, so a campaign's messages spread over every partition. It
// also returns, per record, whether it starts a new half hour of event
// time (see produceSpam).
func spamTraffic(t *testing.T) ([]kafka.Message, []time.Time) {
	t.Helper()
	f, err := os.Open("../detectors/spam/testdata/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []kafka.Message
	var times []time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Message map[string]any `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		line.Message["schema_version"] = 1
		v, err := json.Marshal(line.Message)
		if err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(time.RFC3339Nano, line.Message["sent_at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, kafka.Message{Key: []byte(line.Message["conversation_id"].(string)), Value: v})
		times = append(times, at)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs, times
}

// produceSpam produces the records in time order, pausing a second each
// time event time has moved on by half an hour. The stages accept a record
// up to their horizon (75 minutes and more, see docs/spam.md) behind the
// newest of its key; the pauses keep records that are further apart in
// event time from overtaking each other between instances, as they would
// not in a live stream, while the eight days of the corpus take well under
// a minute.
func produceSpam(ctx context.Context, t *testing.T, broker, topic string, recs []kafka.Message, times []time.Time) {
	t.Helper()
	from := 0
	epoch := times[0]
	for i := range recs {
		if times[i].Sub(epoch) > 30*time.Minute {
			kafkatest.Produce(ctx, t, broker, topic, recs[from:i])
			time.Sleep(time.Second)
			from, epoch = i, times[i]
		}
	}
	kafkatest.Produce(ctx, t, broker, topic, recs[from:])
}

// The spam issue's proof: three instances in one consumer group share a
// topic whose campaigns spread over every partition, and the spam flags
// (rule, message, severity) are exactly those of one replay.
func testSpamInstances(t *testing.T, broker, topic string) {
	ctx := context.Background()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	factories, err := reg.Factories([]string{"spam"})
	if err != nil {
		t.Fatal(err)
	}
	rules := builtinRules(t, factories)
	recs, times := spamTraffic(t)
	want := replayParts(t, [][]kafka.Message{recs}, factories, rules)
	medium := 0
	for k := range want {
		if strings.Contains(k, "medium") || strings.Contains(k, "high") {
			medium++
		}
	}
	if medium < 100 {
		t.Fatalf("replay gives only %d medium+ spam flags", medium)
	}
	store := &recordingSink{}
	group := topic + "-g"
	groups := map[string]string{
		group:                       topic,
		group + ".spam-sender":      topic + ".spam-sender",
		group + ".spam-fingerprint": topic + ".spam-fingerprint",
	}
	var instances []*instanceHarness
	for range 3 {
		instances = append(instances, startInstanceWith(t, broker, topic, group, store, factories, rules))
	}
	time.Sleep(5 * time.Second) // one rebalance with three members, before the traffic
	produceSpam(ctx, t, broker, topic, recs, times)
	// A fingerprint stage forwards to the sender stage: caught up means
	// every group at its end twice in a row.
	waitGroupsCommitted(t, broker, groups, 120*time.Second)
	time.Sleep(time.Second)
	waitGroupsCommitted(t, broker, groups, 120*time.Second)
	stages := 0.0
	for _, in := range instances {
		stages += testutil.ToFloat64(in.metrics.StageRecords.WithLabelValues("spam-sender"))
		in.stop(t)
	}
	if stages == 0 {
		t.Fatal("the sender stage consumed nothing")
	}
	got := map[string]bool{}
	for _, f := range store.snapshot() {
		if f.Category != detectors.Spam {
			t.Errorf("flag %s of category %s", f.Rule, f.Category)
		}
		got[flagKey(f)] = true
	}
	compareKeys(t, got, want)
	t.Logf("%d records over 3 instances: %d spam flags (%d medium+ keys), as replay; %v records through the sender stage", len(recs), len(want), medium, stages)
}

func TestSpamInstancesOnEmbeddedBroker(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, "messages"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	testSpamInstances(t, cluster.ListenAddrs()[0], "messages")
}

func TestSpamInstancesRealKafka(t *testing.T) {
	broker := testenv.Kafka(t)
	topic := fmt.Sprintf("goshawk-spam-%d", time.Now().UnixNano())
	kafkatest.CreateTopics(context.Background(), t, broker, 6, topic)
	testSpamInstances(t, broker, topic)
}
