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
	HeaderTruncated  = "goshawk.truncated"   // only on a dead letter cut to MaxDeadLetterBytes: the original sizes
)

// MaxDeadLetterBytes bounds a dead letter (key, value and headers), below
// the default record limits of a Kafka broker (message.max.bytes, 1 MiB + 12)
// and of kafka-go's writer (BatchBytes, 1 MiB). A rejected record close to
// those limits no longer fits once the headers are added: without a bound its
// write would fail on every attempt and stop the pipeline for good. Such a
// record is cut (value first, then key, then its own headers) and marked with
// HeaderTruncated; the whole record stays in the source topic, at
// HeaderPartition and HeaderOffset, for as long as the topic retains it.
const MaxDeadLetterBytes = 1_000_000

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
	return NewKafkaDeadLettersWith(brokers, topic, nil)
}

// NewKafkaDeadLettersWith is NewKafkaDeadLetters over a transport that
// carries TLS and SASL settings (internal/kafkasec); nil is kafka-go's
// default transport.
func NewKafkaDeadLettersWith(brokers []string, topic string, transport kafka.RoundTripper) *KafkaDeadLetters {
	return &KafkaDeadLetters{w: &kafka.Writer{
		Transport:              transport,
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
		msgs[i] = deadLetterMessage(l)
	}
	if err := k.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write %d dead letters to %s: %w", len(letters), k.w.Topic, err)
	}
	return nil
}

// deadLetterMessage is the record written for l, cut to MaxDeadLetterBytes.
func deadLetterMessage(l DeadLetter) kafka.Message {
	m := kafka.Message{Key: l.Record.Key, Value: l.Record.Value, Headers: deadLetterHeaders(l)}
	over := len(m.Key) + len(m.Value) + 512 - MaxDeadLetterBytes // 512: record overhead, truncation header
	for _, h := range m.Headers {
		over += len(h.Key) + len(h.Value) + 10
	}
	if over <= 0 {
		return m
	}
	note := fmt.Sprintf("key %d bytes, value %d bytes, %d own headers", len(m.Key), len(m.Value), len(l.Record.Headers))
	cut := min(over, len(m.Value))
	m.Value = m.Value[:len(m.Value)-cut]
	over -= cut
	cut = min(over, len(m.Key))
	m.Key = m.Key[:len(m.Key)-cut]
	if over-cut > 0 {
		l.Record.Headers = nil
		m.Headers = deadLetterHeaders(l)
	}
	m.Headers = append(m.Headers, kafka.Header{Key: HeaderTruncated, Value: []byte(note)})
	return m
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
