// Package kafkatest has the Kafka chores that integration tests share:
// creating topics, producing keyed records, and reading a topic to its end.
// It works against any Kafka-protocol broker (real Kafka or kfake).
package kafkatest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/internal/kafkaadmin"
)

// CreateTopics creates the topics with the given partition count and waits
// until every partition has a leader (WaitForLeaders). Every test that
// creates topics goes through it or WaitForLeaders.
func CreateTopics(ctx context.Context, t testing.TB, broker string, partitions int, topics ...string) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 30 * time.Second}
	req := &kafka.CreateTopicsRequest{}
	for _, name := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: name, NumPartitions: partitions, ReplicationFactor: 1})
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.CreateTopics(ctx, req)
		if err == nil {
			for name, terr := range resp.Errors {
				if terr != nil && !errors.Is(terr, kafka.TopicAlreadyExists) {
					err = fmt.Errorf("topic %s: %w", name, terr)
				}
			}
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("create topics %v on %s: %v", topics, broker, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	WaitForLeaders(ctx, t, broker, partitions, topics...)
}

// WaitForLeaders waits until every partition of each topic has a leader
// that answers offset look-ups (see kafkaadmin.WaitForLeaders): the moment
// from which produce and list-offsets stop answering "not leader".
// partitions is the expected count (0: any).
func WaitForLeaders(ctx context.Context, t testing.TB, broker string, partitions int, topics ...string) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 30 * time.Second}
	if err := kafkaadmin.WaitForLeaders(ctx, client, 90*time.Second, partitions, topics...); err != nil {
		t.Fatalf("%s: %v", broker, err)
	}
}

// Produce writes the records (key, value pairs) with the key-hash balancer,
// in order, and waits for acknowledgement of all.
func Produce(ctx context.Context, t testing.TB, broker, topic string, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{
		Addr: kafka.TCP(broker), Topic: topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchSize: 1000, BatchBytes: 32 << 20, BatchTimeout: 10 * time.Millisecond,
	}
	defer w.Close()
	for start := 0; start < len(msgs); start += 1000 {
		end := min(start+1000, len(msgs))
		if err := w.WriteMessages(ctx, msgs[start:end]...); err != nil {
			t.Fatalf("produce to %s: %v", topic, err)
		}
	}
}

// EndOffsets returns the high-water mark of every partition of topic,
// asking again while a partition answers a retriable error (a leader that
// is moving, a topic that is new).
func EndOffsets(ctx context.Context, t testing.TB, broker, topic string) map[int]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 30 * time.Second}
	offsets, err := kafkaadmin.ListOffsets(ctx, client, 90*time.Second, topic)
	if err != nil {
		t.Fatalf("%s: %v", broker, err)
	}
	out := make(map[int]int64, len(offsets))
	for p, o := range offsets {
		out[p] = o.End
	}
	return out
}

// Committed returns the group's committed offset of every partition of
// topic (-1 where nothing is committed).
func Committed(ctx context.Context, t testing.TB, broker, group, topic string, partitions []int) map[int]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 30 * time.Second}
	out, err := kafkaadmin.Committed(ctx, client, 90*time.Second, group, topic, partitions)
	if err != nil {
		t.Fatalf("%s: %v", broker, err)
	}
	return out
}

// ReadAll reads every record of every partition of topic, from the first
// offset to the high-water mark at the time of the call, partition by
// partition.
func ReadAll(ctx context.Context, t testing.TB, broker, topic string) []kafka.Message {
	t.Helper()
	ends := EndOffsets(ctx, t, broker, topic)
	partitions := make([]int, 0, len(ends))
	for p := range ends {
		partitions = append(partitions, p)
	}
	sort.Ints(partitions)
	var out []kafka.Message
	for _, p := range partitions {
		if ends[p] == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		for {
			m, err := r.ReadMessage(rctx)
			if err != nil {
				cancel()
				r.Close()
				t.Fatalf("read %s/%d: %v", topic, p, err)
			}
			out = append(out, m)
			if m.Offset+1 >= ends[p] {
				break
			}
		}
		cancel()
		r.Close()
	}
	return out
}
