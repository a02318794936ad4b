package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/detectors"
)

// ForwardWriter makes detectors' forwards durable in their internal
// streams; one attempt per call.
type ForwardWriter interface {
	WriteForwards(ctx context.Context, fwd []detectors.Forward) error
	Close() error
}

// StreamTopic is the internal topic of a stage stream.
func StreamTopic(prefix, stream string) string { return prefix + stream }

// KafkaForwards writes forwards to internal topics named prefix+stream,
// partitioned by a hash of the key, so that every pipeline instance sends a
// key to the same partition and one consumer owns it.
type KafkaForwards struct {
	prefix string
	w      *kafka.Writer
}

// NewKafkaForwards returns a forward writer; dialer may be nil.
func NewKafkaForwards(brokers []string, prefix string, dialer *kafka.Dialer) *KafkaForwards {
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Balancer:     &kafka.Hash{}, // the same key goes to the same partition from every instance
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond,
		BatchSize:    5000,
		BatchBytes:   16 << 20,
		MaxAttempts:  1, // the batcher retries with backoff
	}
	if dialer != nil {
		w.Transport = transportFor(dialer)
	}
	return &KafkaForwards{prefix: prefix, w: w}
}

// WriteForwards writes the records and waits for all in-sync replicas.
func (k *KafkaForwards) WriteForwards(ctx context.Context, fwd []detectors.Forward) error {
	if len(fwd) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(fwd))
	for i, f := range fwd {
		msgs[i] = kafka.Message{Topic: StreamTopic(k.prefix, f.Stream), Key: []byte(f.Key), Value: f.Value}
	}
	if err := k.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write %d records to internal streams: %w", len(fwd), err)
	}
	return nil
}

// Close flushes and closes the writer.
func (k *KafkaForwards) Close() error { return k.w.Close() }

// Stages builds one instance of every stage of the factories, keyed by
// stream, running each detector's rules of set; replay and tests route
// forwards to them in process (see Router).
func Stages(factories []detectors.Factory, set *detectors.RuleSet) (map[string]detectors.Stage, error) {
	if set == nil {
		set = &detectors.RuleSet{}
	}
	stages := map[string]detectors.Stage{}
	for _, f := range factories {
		for _, sf := range f.Stages {
			s, err := sf.New(set.For(f.Name))
			if err != nil {
				return nil, fmt.Errorf("detector %s: stage %s: %w", f.Name, sf.Stream, err)
			}
			if _, dup := stages[sf.Stream]; dup {
				return nil, fmt.Errorf("detector %s: stage stream %q declared twice", f.Name, sf.Stream)
			}
			stages[sf.Stream] = s
		}
	}
	return stages, nil
}

// Router delivers forwards to in-process stages, in the order they were
// forwarded, breadth-first through stages that forward further: the
// single-instance equivalent of the internal topics.
type Router struct {
	Stages map[string]detectors.Stage
	queue  []detectors.Forward
}

// Route handles fwd and everything it leads to, appending the stages' flags
// to out. A stamp function, when set, fills each flag's zero DetectedAt.
func (r *Router) Route(fwd []detectors.Forward, out []detectors.Flag, stamp func(*detectors.Flag)) ([]detectors.Flag, error) {
	r.queue = append(r.queue[:0], fwd...)
	for i := 0; i < len(r.queue); i++ {
		f := r.queue[i]
		s, ok := r.Stages[f.Stream]
		if !ok {
			return out, fmt.Errorf("forward to unknown stream %q", f.Stream)
		}
		n := len(out)
		var err error
		out, err = s.Handle(f.Key, f.Value, out)
		if err != nil {
			return out, fmt.Errorf("stage %s: %w", f.Stream, err)
		}
		if stamp != nil {
			for j := n; j < len(out); j++ {
				stamp(&out[j])
			}
		}
		if fw, ok := s.(detectors.Forwarder); ok {
			r.queue = fw.TakeForwards(r.queue)
		}
	}
	return out, nil
}
