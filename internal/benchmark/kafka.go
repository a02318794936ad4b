package benchmark

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/generator"
	"github.com/goshawk-safety/goshawk/internal/kafkaadmin"
	"github.com/goshawk-safety/goshawk/pipeline"
)

// admin does the Kafka chores of a run: topics, offsets, groups.
type admin struct {
	client *kafka.Client
}

func newAdmin(brokers []string) *admin {
	return &admin{client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}}
}

// createTopics creates the topics and waits until every partition has a
// leader.
func (a *admin) createTopics(ctx context.Context, partitions map[string]int) error {
	req := &kafka.CreateTopicsRequest{}
	for name, n := range partitions {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: name, NumPartitions: n, ReplicationFactor: 1})
	}
	resp, err := a.client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for name, terr := range resp.Errors {
		if terr != nil {
			return fmt.Errorf("create topic %s: %w", name, terr)
		}
	}
	for name, n := range partitions {
		if err := kafkaadmin.WaitForLeaders(ctx, a.client, 0, n, name); err != nil {
			return err
		}
	}
	return nil
}

// topicsWithPrefix returns the topics whose names start with prefix: the
// ones a run created itself and the internal topics the pipeline under
// test made from its topic's name (the durable state changelog, the stage
// streams).
func (a *admin) topicsWithPrefix(ctx context.Context, prefix string) ([]string, error) {
	meta, err := a.client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var out []string
	for _, t := range meta.Topics {
		if strings.HasPrefix(t.Name, prefix) {
			out = append(out, t.Name)
		}
	}
	return out, nil
}

func (a *admin) deleteTopics(ctx context.Context, topics []string) error {
	resp, err := a.client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics})
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	var errs []error
	for name, terr := range resp.Errors {
		if terr != nil {
			errs = append(errs, fmt.Errorf("delete topic %s: %w", name, terr))
		}
	}
	return errors.Join(errs...)
}

func (a *admin) deleteGroups(ctx context.Context, groups []string) error {
	resp, err := a.client.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: groups})
	if err != nil {
		return fmt.Errorf("delete consumer groups: %w", err)
	}
	var errs []error
	for name, gerr := range resp.Errors {
		if gerr != nil {
			errs = append(errs, fmt.Errorf("delete consumer group %s: %w", name, gerr))
		}
	}
	return errors.Join(errs...)
}

// lastOffsets returns the offset of the last record of every non-empty
// partition of topic: what a consumer must commit to be done.
func (a *admin) lastOffsets(ctx context.Context, topic string) (map[pipeline.TopicPartition]int64, error) {
	offsets, err := kafkaadmin.ListOffsets(ctx, a.client, 0, topic)
	if err != nil {
		return nil, err
	}
	out := map[pipeline.TopicPartition]int64{}
	for p, o := range offsets {
		if o.End > 0 {
			out[pipeline.TopicPartition{Topic: topic, Partition: p}] = o.End - 1
		}
	}
	return out, nil
}

// records returns how many records topic holds (the sum of its
// partitions' high-water marks; the benchmark's topics are never compacted
// or truncated).
func (a *admin) records(ctx context.Context, topic string) (int64, error) {
	last, err := a.lastOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, off := range last {
		n += off + 1
	}
	return n, nil
}

// newWriter returns a producer that keys records by conversation, as
// goshawk produce does. batchTimeout bounds how long a record waits for
// its batch.
func newWriter(brokers []string, topic string, batchTimeout time.Duration) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{}, // conversation_id key → one partition per conversation
		RequiredAcks: kafka.RequireAll,
		BatchSize:    1000,
		BatchBytes:   16 << 20,
		BatchTimeout: batchTimeout,
	}
}

// write sends msgs, retrying for up to a minute the records that failed
// (a new topic's leader may not be ready at once).
func write(ctx context.Context, w *kafka.Writer, msgs []kafka.Message) error {
	retry := backoff.WithContext(backoff.NewExponentialBackOff(backoff.WithMaxElapsedTime(time.Minute)), ctx)
	return backoff.Retry(func() error {
		err := w.WriteMessages(ctx, msgs...)
		var failed kafka.WriteErrors
		if errors.As(err, &failed) && len(failed) == len(msgs) {
			var again []kafka.Message
			for i, e := range failed {
				if e != nil {
					again = append(again, msgs[i])
				}
			}
			msgs = again
		}
		if err != nil {
			return fmt.Errorf("produce to %s: %w", w.Topic, err)
		}
		return nil
	}, retry)
}

// produceAt sends events from gen to w at rate per second for d, in small
// batches every tick so that no record waits long to be sent. Each
// record's timestamp (CreateTime) is set just before its batch is sent.
// It returns how many it sent.
func produceAt(ctx context.Context, w *kafka.Writer, gen *generator.Generator, rate float64, d time.Duration) (int, error) {
	const tick = 10 * time.Millisecond
	start := time.Now()
	sent := 0
	var msgs []kafka.Message
	for {
		elapsed := time.Since(start)
		if elapsed >= d {
			return sent, nil
		}
		due := int(rate*elapsed.Seconds()) + 1 - sent
		msgs = msgs[:0]
		now := time.Now()
		for range max(due, 0) {
			e := gen.Next()
			msgs = append(msgs, kafka.Message{Key: e.Key, Value: e.Value, Time: now})
		}
		if len(msgs) > 0 {
			if err := write(ctx, w, msgs); err != nil {
				return sent, err
			}
			sent += len(msgs)
		}
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case <-time.After(tick - time.Since(now)):
		}
	}
}

// kafkaVersion describes the broker: Kafka does not report its release
// over the protocol, so this gives the highest Produce and Fetch versions
// it speaks and, for a broker on this machine, the release of the jars its
// process runs.
func (a *admin) kafkaVersion(ctx context.Context, brokers []string) string {
	resp, err := a.client.ApiVersions(ctx, &kafka.ApiVersionsRequest{})
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	if resp.Error != nil {
		return "unknown (" + resp.Error.Error() + ")"
	}
	var produce, fetch int
	for _, k := range resp.ApiKeys {
		switch k.ApiKey {
		case 0:
			produce = k.MaxVersion
		case 1:
			fetch = k.MaxVersion
		}
	}
	api := fmt.Sprintf("Produce v%d, Fetch v%d", produce, fetch)
	if allLoopback(brokers) {
		if v := localKafkaRelease(); v != "" {
			return fmt.Sprintf("Apache Kafka %s (local broker process; %s)", v, api)
		}
	}
	return "Kafka, release not reported (" + api + ")"
}

func allLoopback(brokers []string) bool {
	for _, b := range brokers {
		host, _, err := net.SplitHostPort(b)
		if err != nil {
			host = b
		}
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return len(brokers) > 0
}

var kafkaJar = regexp.MustCompile(`^kafka_[0-9.]+-([0-9][0-9A-Za-z.-]*)\.jar$`)

// localKafkaRelease finds the release of the Kafka broker running on this
// machine from the jars on its class path, or "" when there is not
// exactly one release among the local brokers.
func localKafkaRelease() string {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	releases := map[string]bool{}
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		isBroker := false
		var classPath string
		for i, a := range args {
			switch {
			case a == "kafka.Kafka":
				isBroker = true
			case (a == "-cp" || a == "-classpath") && i+1 < len(args):
				classPath = args[i+1]
			}
		}
		if !isBroker {
			continue
		}
		for _, entry := range strings.Split(classPath, ":") {
			jars, _ := filepath.Glob(filepath.Join(strings.TrimSuffix(entry, "*"), "kafka_*.jar"))
			if strings.HasSuffix(entry, ".jar") {
				jars = append(jars, entry)
			}
			for _, j := range jars {
				if m := kafkaJar.FindStringSubmatch(filepath.Base(j)); m != nil && !strings.Contains(m[1], "test") {
					releases[m[1]] = true
				}
			}
		}
	}
	if len(releases) != 1 {
		return ""
	}
	for r := range releases {
		return r
	}
	return ""
}
