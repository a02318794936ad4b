// Package kafka writes flags to a Kafka topic for downstream enforcement
// systems: one JSON flag per record (the same fields as every other store),
// keyed by conversation_id so that a conversation's flags stay in order.
//
// Evidence: by default a flag on the topic carries no evidence (an empty
// "evidence"): enforcement needs the ids, the rule and the severity, not
// the message text, and a topic's retention and readers are outside
// Goshawk's control. With Options.Evidence the excerpt is included, sealed
// with the evidence keyring exactly as in the stores (AES-256-GCM bound to
// the flag id), with its key id in "evidence_key_id"; a consumer needs the
// key to read it. User ids are pseudonymised as in the stores.
package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/sinks"
)

// Writer is a sinks.Writer for a flags topic. Consumers should treat
// flag_id as the idempotency key: after a crash a flag can be written again.
type Writer struct {
	w        *kafka.Writer
	protect  sinks.Protection
	evidence bool
}

// Options configure a Writer. The zero Options write to a plaintext broker
// without authentication, with no evidence and user ids as they are.
type Options struct {
	// Transport carries TLS and SASL settings (internal/kafkasec); nil is
	// kafka-go's default.
	Transport kafka.RoundTripper
	// Protection pseudonymises user ids and, with Evidence, seals evidence.
	Protection sinks.Protection
	// Evidence includes the evidence, sealed: it needs Protection.Keys.
	Evidence bool
}

// Record is the JSON of one record: the flag, and the id of the key that
// sealed its evidence when evidence is included.
type Record struct {
	detectors.Flag
	EvidenceKeyID string `json:"evidence_key_id,omitempty"`
}

// New returns a writer to topic that waits for all in-sync replicas, with
// the zero Options.
func New(brokers []string, topic string) *Writer {
	w, _ := NewWith(brokers, topic, Options{})
	return w
}

// NewWith returns a writer to topic with o.
func NewWith(brokers []string, topic string, o Options) (*Writer, error) {
	if o.Evidence && o.Protection.Keys == nil {
		return nil, errors.New("flags topic: evidence is only written sealed, and no evidence keys are configured")
	}
	return &Writer{protect: o.Protection, evidence: o.Evidence, w: &kafka.Writer{
		Transport:              o.Transport,
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		Balancer:               &kafka.Hash{},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           5 * time.Millisecond,
		BatchSize:              5000,
		BatchBytes:             16 << 20,
		MaxAttempts:            1, // the pipeline retries with backoff
		AllowAutoTopicCreation: true,
	}}, nil
}

// Encode returns the record value of f as this writer writes it.
func (w *Writer) Encode(f detectors.Flag) ([]byte, error) {
	if !w.evidence {
		f.Evidence = ""
	}
	stored, keyID, err := w.protect.Apply(f)
	if err != nil {
		return nil, fmt.Errorf("protect flag %s: %w", f.FlagID, err)
	}
	v, err := json.Marshal(Record{Flag: stored, EvidenceKeyID: keyID})
	if err != nil {
		return nil, fmt.Errorf("encode flag %s: %w", f.FlagID, err)
	}
	return v, nil
}

// Write sends the flags and waits for the acknowledgement.
func (w *Writer) Write(ctx context.Context, flags []detectors.Flag) error {
	if len(flags) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(flags))
	for i := range flags {
		v, err := w.Encode(flags[i])
		if err != nil {
			return err
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
