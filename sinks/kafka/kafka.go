// Package kafka writes flags to a Kafka topic for downstream enforcement
// systems: one JSON flag per record (the same fields as every other store),
// keyed by conversation_id so that a conversation's flags stay in order.
package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/detectors"
)

// Writer is a sinks.Writer for a flags topic. Consumers should treat
// flag_id as the idempotency key: after a crash a flag can be written again.
type Writer struct {
	w *kafka.Writer
}

// New returns a writer to topic that waits for all in-sync replicas.
func New(brokers []string, topic string) *Writer {
	return &Writer{w: &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           5 * time.Millisecond,
		BatchSize:              5000,
		BatchBytes:             16 << 20,
		MaxAttempts:            1, // the pipeline retries with backoff
		AllowAutoTopicCreation: true,
	}}
}

// Write sends the flags and waits for the acknowledgement.
func (w *Writer) Write(ctx context.Context, flags []detectors.Flag) error {
	if len(flags) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(flags))
	for i := range flags {
		v, err := json.Marshal(&flags[i])
		if err != nil {
			return fmt.Errorf("encode flag %s: %w", flags[i].FlagID, err)
		}
		msgs[i] = kafka.Message{Key: []byte(flags[i].ConversationID), Value: v}
	}
	if err := w.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write %d flags to topic %s: %w", len(flags), w.w.Topic, err)
	}
	return nil
}

// Close flushes and closes the producer.
func (w *Writer) Close() error { return w.w.Close() }
