package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/event"
)

// Dead-letter headers. The record's key and value are copied unchanged; these
// headers say why it was rejected and where it came from.
const (
	HeaderReason     = "goshawk.reason"      // an event.Reason code
	HeaderDetail     = "goshawk.detail"      // human-readable, names the field, never message text
	HeaderTopic      = "goshawk.topic"       // source topic
	HeaderPartition  = "goshawk.partition"   // source partition
	HeaderOffset     = "goshawk.offset"      // source offset
	HeaderRecordTime = "goshawk.record_time" // source record timestamp, RFC 3339
	HeaderRejectedAt = "goshawk.rejected_at" // when the pipeline rejected it, RFC 3339
)

// DeadLetter is a rejected record and why.
type DeadLetter struct {
	Record     Record
	Reason     event.Reason
	Detail     string
	RejectedAt time.Time
}

// DeadLetterWriter durably stores rejected records; one attempt per call.
type DeadLetterWriter interface {
	WriteDeadLetters(ctx context.Context, letters []DeadLetter) error
	Close() error
}

// KafkaDeadLetters writes dead letters to a Kafka topic, waiting for all
// in-sync replicas to acknowledge.
type KafkaDeadLetters struct {
	w *kafka.Writer
}

// NewKafkaDeadLetters returns a writer to topic.
func NewKafkaDeadLetters(brokers []string, topic string) *KafkaDeadLetters {
	return &KafkaDeadLetters{w: &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		Balancer:               &kafka.Hash{}, // same key, same partition
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           5 * time.Millisecond,
		BatchSize:              1000,
		MaxAttempts:            1, // the batcher retries with backoff
		AllowAutoTopicCreation: true,
	}}
}

// WriteDeadLetters writes the letters and waits for the acknowledgement.
func (k *KafkaDeadLetters) WriteDeadLetters(ctx context.Context, letters []DeadLetter) error {
	if len(letters) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(letters))
	for i, l := range letters {
		msgs[i] = kafka.Message{Key: l.Record.Key, Value: l.Record.Value, Headers: deadLetterHeaders(l)}
	}
	if err := k.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write %d dead letters to %s: %w", len(letters), k.w.Topic, err)
	}
	return nil
}

func deadLetterHeaders(l DeadLetter) []kafka.Header {
	h := make([]kafka.Header, 0, len(l.Record.Headers)+7)
	h = append(h, l.Record.Headers...)
	add := func(k, v string) { h = append(h, kafka.Header{Key: k, Value: []byte(v)}) }
	add(HeaderReason, string(l.Reason))
	add(HeaderDetail, l.Detail)
	add(HeaderTopic, l.Record.Topic)
	add(HeaderPartition, strconv.Itoa(l.Record.Partition))
	add(HeaderOffset, strconv.FormatInt(l.Record.Offset, 10))
	if !l.Record.Time.IsZero() {
		add(HeaderRecordTime, l.Record.Time.UTC().Format(time.RFC3339Nano))
	}
	add(HeaderRejectedAt, l.RejectedAt.UTC().Format(time.RFC3339Nano))
	return h
}

// Close flushes and closes the writer.
func (k *KafkaDeadLetters) Close() error { return k.w.Close() }
