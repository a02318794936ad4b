package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/internal/kafkaadmin"
)

// Record is one Kafka record as the pipeline sees it.
type Record struct {
	TopicPartition
	Offset  int64
	Key     []byte
	Value   []byte
	Time    time.Time // the record's timestamp (append or create time)
	Headers []kafka.Header

	ticket Ticket // set by the pipeline when the record is tracked
}

// Source delivers records of a consumer group, in order per partition, and
// commits positions. Implementations: KafkaSource; tests may drive the
// pipeline with their own.
type Source interface {
	Fetch(ctx context.Context) (Record, error)
	Commit(ctx context.Context, positions []Position) error
	Close() error
}

// KafkaConfig configures the consumer group.
type KafkaConfig struct {
	Brokers []string
	Topic   string
	Group   string
	// StartOffset for a group without committed offsets: kafka.FirstOffset
	// (default) or kafka.LastOffset.
	StartOffset int64
	// Dialer carries TLS and SASL settings (internal/kafkasec); nil is
	// kafka-go's default dialer (plaintext, no authentication).
	Dialer *kafka.Dialer
}

// KafkaSource is a kafka-go group reader used with FetchMessage and
// synchronous commits (CommitInterval 0), so that an offset is committed
// only when the pipeline says so.
type KafkaSource struct {
	reader *kafka.Reader
	log    *slog.Logger
}

// NewKafkaSource creates the group reader. It does not contact the brokers
// until the first Fetch.
func NewKafkaSource(cfg KafkaConfig, log *slog.Logger) *KafkaSource {
	start := cfg.StartOffset
	if start == 0 {
		start = kafka.FirstOffset
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        cfg.Brokers,
		GroupID:        cfg.Group,
		Topic:          cfg.Topic,
		Dialer:         cfg.Dialer,
		StartOffset:    start,
		CommitInterval: 0, // synchronous: CommitMessages returns the broker's answer
		MinBytes:       1,
		MaxBytes:       16 << 20,
		MaxWait:        250 * time.Millisecond,
		QueueCapacity:  1000,
		ReadBackoffMin: 100 * time.Millisecond,
		ReadBackoffMax: 2 * time.Second,
		// Partitions added to the topic are picked up without a restart.
		WatchPartitionChanges: true,
		// A member that died without leaving (SIGKILL, a lost broker
		// connection) holds its partitions until its session expires:
		// 10 s instead of kafka-go's 30 s bounds that pause.
		SessionTimeout:    10 * time.Second,
		HeartbeatInterval: 2 * time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Warn("kafka reader", "detail", fmt.Sprintf(msg, args...))
		}),
	})
	return &KafkaSource{reader: r, log: log}
}

// Fetch returns the next record; it blocks until one arrives or ctx ends.
func (s *KafkaSource) Fetch(ctx context.Context) (Record, error) {
	m, err := s.reader.FetchMessage(ctx)
	if err != nil {
		return Record{}, fmt.Errorf("fetch: %w", err)
	}
	return Record{
		TopicPartition: TopicPartition{Topic: m.Topic, Partition: m.Partition},
		Offset:         m.Offset,
		Key:            m.Key,
		Value:          m.Value,
		Time:           m.Time,
		Headers:        m.Headers,
	}, nil
}

// Commit commits each position (kafka-go commits Offset+1, the next offset
// to read).
func (s *KafkaSource) Commit(ctx context.Context, positions []Position) error {
	if len(positions) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(positions))
	for i, p := range positions {
		msgs[i] = kafka.Message{Topic: p.Topic, Partition: p.Partition, Offset: p.Offset}
	}
	if err := s.reader.CommitMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("commit %d positions: %w", len(positions), err)
	}
	return nil
}

// Rebalances returns the rebalances since the previous call.
func (s *KafkaSource) Rebalances() int64 { return s.reader.Stats().Rebalances }

// Close leaves the group. kafka-go's Close has been seen to hang, so it
// gives up after timeout.
func (s *KafkaSource) Close() error { return closeWithin(s.reader.Close, 10*time.Second) }

func closeWithin(closeFn func() error, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- closeFn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("close did not finish within %s", timeout)
	}
}

// LagMonitor exports per-partition consumer lag: the high-water mark of each
// partition minus the group's committed offset, both asked of the brokers
// (kafka-go's own Lag is unavailable in group mode).
type LagMonitor struct {
	Client  *kafka.Client
	Topic   string
	Group   string
	Metrics *Metrics
	Log     *slog.Logger
}

// NewLagMonitor returns a monitor that talks to the given brokers. Set
// Client.Transport for TLS or SASL (internal/kafkasec).
func NewLagMonitor(brokers []string, topic, group string, m *Metrics, log *slog.Logger) *LagMonitor {
	return &LagMonitor{
		Client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second},
		Topic:  topic, Group: group, Metrics: m, Log: log,
	}
}

// Run updates the lag gauges every interval until ctx ends.
func (l *LagMonitor) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := l.Update(ctx); err != nil && ctx.Err() == nil {
			l.Metrics.KafkaErrors.WithLabelValues("lag").Inc()
			l.Log.Warn("consumer lag unavailable", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lagWait bounds how long one lag look-up retries retriable broker answers
// (a partition leader that is moving); the monitor asks again at its next
// tick anyway.
const lagWait = 5 * time.Second

// Lag returns the lag of every partition of the topic. Retriable answers
// (NotLeaderForPartition, LeaderNotAvailable, UnknownTopicOrPartition) are
// asked again with backoff for up to lagWait.
func (l *LagMonitor) Lag(ctx context.Context) (map[int]int64, error) {
	ends, err := kafkaadmin.ListOffsets(ctx, l.Client, lagWait, l.Topic)
	if err != nil {
		return nil, err
	}
	partitions := make([]int, 0, len(ends))
	for p := range ends {
		partitions = append(partitions, p)
	}
	committed, err := kafkaadmin.Committed(ctx, l.Client, lagWait, l.Group, l.Topic, partitions)
	if err != nil {
		return nil, err
	}
	lag := make(map[int]int64, len(ends))
	for p, o := range ends {
		c, ok := committed[p]
		if !ok || c < 0 {
			c = o.First // nothing committed yet: everything retained is lag
		}
		lag[p] = max(0, o.End-c)
	}
	return lag, nil
}

// Update refreshes the gauges once.
func (l *LagMonitor) Update(ctx context.Context) error {
	lag, err := l.Lag(ctx)
	for p, n := range lag {
		l.Metrics.ConsumerLag.WithLabelValues(strconv.Itoa(p)).Set(float64(n))
	}
	return err
}
