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
)

// CreateTopics creates the topics with the given partition count and waits
// until their metadata is visible.
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
	for _, name := range topics {
		for {
			meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{name}})
			if err == nil && len(meta.Topics) == 1 && meta.Topics[0].Error == nil && len(meta.Topics[0].Partitions) == partitions {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("topic %s not visible in metadata: %v", name, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
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

// EndOffsets returns the high-water mark of every partition of topic.
func EndOffsets(ctx context.Context, t testing.TB, broker, topic string) map[int]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 30 * time.Second}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(meta.Topics) != 1 {
		t.Fatalf("metadata of %s: %v", topic, err)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range meta.Topics[0].Partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			t.Fatalf("list offsets of %s/%d: %v", topic, p.Partition, p.Error)
		}
		out[p.Partition] = p.LastOffset
	}
	return out
}

// Committed returns the group's committed offset of every partition of
// topic (-1 where nothing is committed).
func Committed(ctx context.Context, t testing.TB, broker, group, topic string, partitions []int) map[int]int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 30 * time.Second}
	resp, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: partitions}})
	if err != nil {
		t.Fatalf("committed offsets of %s: %v", group, err)
	}
	out := map[int]int64{}
	for _, p := range resp.Topics[topic] {
		out[p.Partition] = p.CommittedOffset
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
