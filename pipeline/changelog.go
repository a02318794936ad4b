package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/internal/kafkaadmin"
)

// StateRecord is one durable detector's state of one conversation, as of a
// source record: written to the changelog after that record's flags and
// before its offset is committed, and read back when a partition is taken
// over. A nil State is a tombstone (the detector dropped the state).
type StateRecord struct {
	Detector  string
	Key       string // the conversation id
	Partition int    // the source partition, which is also the changelog partition
	Offset    int64  // the source offset the state includes
	State     []byte
}

// Changelog stores durable detector state: Write makes a batch durable (one
// attempt per call), Load reads back the latest state of every key of one
// partition.
type Changelog interface {
	Write(ctx context.Context, states []StateRecord) error
	Load(ctx context.Context, partition int, fn func(StateRecord)) error
	Close() error
}

// Changelog record layout: the key is "<detector>:<conversation id>" (so
// that compaction keeps the latest state of each detector's conversation),
// the value is the state, and a header holds the source offset.
const (
	HeaderStateOffset = "goshawk.offset"
)

func changelogKey(detector, key string) []byte { return []byte(detector + ":" + key) }

func splitChangelogKey(k []byte) (detector, key string, ok bool) {
	return strings.Cut(string(k), ":")
}

// KafkaChangelog is a Changelog in a compacted Kafka topic with as many
// partitions as the source topic: the state of a conversation is written to
// the partition number its messages come from, so taking over source
// partition p means reading changelog partition p.
type KafkaChangelog struct {
	topic   string
	brokers []string
	dialer  *kafka.Dialer
	w       *kafka.Writer
}

// NewKafkaChangelog returns a changelog in topic; dialer may be nil (plain
// TCP). EnsureTopic creates the topic.
func NewKafkaChangelog(brokers []string, topic string, dialer *kafka.Dialer) *KafkaChangelog {
	if dialer == nil {
		dialer = &kafka.Dialer{Timeout: 10 * time.Second}
	}
	return &KafkaChangelog{topic: topic, brokers: brokers, dialer: dialer, w: &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     samePartition{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond,
		BatchSize:    5000,
		BatchBytes:   16 << 20,
		MaxAttempts:  1, // the batcher retries with backoff
		Transport:    transportFor(dialer),
	}}
}

// samePartition writes each record to the partition the caller set, which
// kafka-go passes to the balancer (the field is otherwise ignored on write).
// It never writes elsewhere: a state in another partition would not be found
// by Load of its own, and the conversation would restart from nothing after
// a restart or a rebalance. The writer's partition list comes from cached
// metadata, which can lag behind a topic just created; a partition it does
// not list yet is still the one written (the write fails and is retried
// until the broker knows it). EnsureTopic refuses a changelog with fewer
// partitions than the source.
type samePartition struct{}

func (samePartition) Balance(msg kafka.Message, partitions ...int) int { return msg.Partition }

// Write writes the states and waits for all in-sync replicas.
func (c *KafkaChangelog) Write(ctx context.Context, states []StateRecord) error {
	if len(states) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(states))
	for i, s := range states {
		msgs[i] = kafka.Message{
			Partition: s.Partition,
			Key:       changelogKey(s.Detector, s.Key),
			Value:     s.State,
			Headers:   []kafka.Header{{Key: HeaderStateOffset, Value: strconv.AppendInt(nil, s.Offset, 10)}},
		}
	}
	if err := c.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write %d states to changelog %s: %w", len(states), c.topic, err)
	}
	return nil
}

// Load reads changelog partition p from its first to its last offset at the
// time of the call and calls fn for each record in order; later records of
// a key supersede earlier ones (compaction may not have run yet).
func (c *KafkaChangelog) Load(ctx context.Context, partition int, fn func(StateRecord)) error {
	// The leader of a partition may be moving (or the topic new): connecting
	// and reading its offsets are asked again while the broker answers so.
	var conn *kafka.Conn
	var first, last int64
	err := kafkaadmin.Retry(ctx, 0, func() error {
		var err error
		for _, b := range c.brokers {
			if conn, err = c.dialer.DialLeader(ctx, "tcp", b, c.topic, partition); err == nil {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("changelog %s[%d]: connect to leader: %w", c.topic, partition, err)
		}
		if first, last, err = conn.ReadOffsets(); err != nil {
			conn.Close()
			return fmt.Errorf("changelog %s[%d]: read offsets: %w", c.topic, partition, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	next := first
	for next < last {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := conn.Seek(next, kafka.SeekAbsolute); err != nil {
			return fmt.Errorf("changelog %s[%d]: seek %d: %w", c.topic, partition, next, err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		batch := conn.ReadBatch(1, 16<<20)
		read := 0
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			read++
			next = m.Offset + 1
			detector, key, ok := splitChangelogKey(m.Key)
			if !ok {
				continue // not written by Goshawk; ignore
			}
			s := StateRecord{Detector: detector, Key: key, Partition: partition, Offset: -1, State: m.Value}
			for _, h := range m.Headers {
				if h.Key == HeaderStateOffset {
					s.Offset, _ = strconv.ParseInt(string(h.Value), 10, 64)
				}
			}
			if s.Offset < 0 {
				continue
			}
			fn(s)
			if next >= last {
				break
			}
		}
		if err := batch.Close(); err != nil && !errors.Is(err, kafka.OffsetOutOfRange) {
			return fmt.Errorf("changelog %s[%d]: read at %d: %w", c.topic, partition, next, err)
		}
		if read == 0 && next < last {
			// A compacted gap: nothing at next, move on to the first
			// offset the broker still holds after it.
			next++
		}
	}
	return nil
}

// Close flushes and closes the writer.
func (c *KafkaChangelog) Close() error { return c.w.Close() }

// transportFor builds a writer transport that connects like dialer (TLS and
// SASL included).
func transportFor(d *kafka.Dialer) *kafka.Transport {
	return &kafka.Transport{TLS: d.TLS, SASL: d.SASLMechanism, DialTimeout: d.Timeout}
}

// EnsureTopic creates topic with the given partitions and configuration if
// it does not exist yet. An existing topic is left as it is.
func EnsureTopic(ctx context.Context, brokers []string, dialer *kafka.Dialer, topic string, partitions int, configs map[string]string) error {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 15 * time.Second}
	if dialer != nil {
		client.Transport = transportFor(dialer)
	}
	entries := make([]kafka.ConfigEntry, 0, len(configs))
	for k, v := range configs {
		entries = append(entries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
	}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: topic, NumPartitions: partitions, ReplicationFactor: -1, ConfigEntries: entries,
	}}})
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	if err := res.Errors[topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	// A new topic's partitions have no leader for a moment; writes and
	// offset look-ups fail until they have.
	if err := kafkaadmin.WaitForLeaders(ctx, client, 0, 0, topic); err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	// An existing topic keeps its own partitions; it needs at least as
	// many as asked, since partition p of the source is partition p here.
	ids, err := kafkaadmin.Partitions(ctx, client, 0, topic)
	if err != nil {
		return fmt.Errorf("topic %s: %w", topic, err)
	}
	if n := len(ids); n < partitions {
		return fmt.Errorf("topic %s has %d partitions, fewer than the %d of the messages topic: add partitions to it (kafka-topics --alter --partitions %d) or name a new topic", topic, n, partitions, partitions)
	}
	return nil
}

// TopicPartitions returns the number of partitions of topic.
func TopicPartitions(ctx context.Context, brokers []string, dialer *kafka.Dialer, topic string) (int, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 15 * time.Second}
	if dialer != nil {
		client.Transport = transportFor(dialer)
	}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name == topic {
			if t.Error != nil {
				return 0, fmt.Errorf("metadata of %s: %w", topic, t.Error)
			}
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("metadata of %s: topic not found", topic)
}
