// Package kafkaadmin has the Kafka metadata and offset look-ups that
// production code and tests share, with the retries a real cluster needs: a
// partition whose leader is moving, or a topic created a moment ago, answers
// NotLeaderForPartition, LeaderNotAvailable or UnknownTopicOrPartition for a
// while before it answers properly.
package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
)

// Retriable reports whether err is one of the broker answers that mean
// "not yet" rather than "no": leadership is moving or the topic's metadata
// has not reached the broker yet (also for a coordinator that is loading).
func Retriable(err error) bool {
	for _, e := range []error{
		kafka.NotLeaderForPartition,
		kafka.LeaderNotAvailable,
		kafka.UnknownTopicOrPartition,
		kafka.NotCoordinatorForGroup,
		kafka.GroupCoordinatorNotAvailable,
		kafka.GroupLoadInProgress,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// DefaultWait is how long the helpers retry retriable answers before they
// give up, when the context has no earlier deadline.
const DefaultWait = 60 * time.Second

// Retry calls op until it succeeds, returns an error that is not Retriable,
// ctx ends, or wait has passed (0: DefaultWait), backing off exponentially
// from 50 ms. The error returned is op's last.
func Retry(ctx context.Context, wait time.Duration, op func() error) error {
	if wait <= 0 {
		wait = DefaultWait
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 50 * time.Millisecond
	b.MaxInterval = 2 * time.Second
	b.MaxElapsedTime = wait
	var last error
	err := backoff.Retry(func() error {
		last = op()
		if last != nil && !Retriable(last) {
			return backoff.Permanent(last)
		}
		return last
	}, backoff.WithContext(b, ctx))
	if err == nil {
		return nil
	}
	if last != nil {
		return last
	}
	return err
}

// Partitions returns the partition IDs of topic from the broker's
// metadata, retrying retriable answers for up to wait (0: DefaultWait).
func Partitions(ctx context.Context, client *kafka.Client, wait time.Duration, topic string) ([]int, error) {
	var ids []int
	err := Retry(ctx, wait, func() error {
		var err error
		ids, err = partitionIDs(ctx, client, topic)
		return err
	})
	return ids, err
}

func partitionIDs(ctx context.Context, client *kafka.Client, topic string) ([]int, error) {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	var ids []int
	for _, t := range meta.Topics {
		if t.Name != topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("metadata of %s: %w", topic, t.Error)
		}
		for _, p := range t.Partitions {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("metadata of %s: %w", topic, kafka.UnknownTopicOrPartition)
	}
	return ids, nil
}

// WaitForLeaders waits until the metadata of each topic shows partitions
// partitions (0: any number), each with a leader and no error, and the
// leaders answer an offset look-up for every partition: only then do
// produce, fetch and list-offsets requests stop answering "not leader".
// It gives up after wait (0: DefaultWait) or when ctx ends.
func WaitForLeaders(ctx context.Context, client *kafka.Client, wait time.Duration, partitions int, topics ...string) error {
	if wait <= 0 {
		wait = DefaultWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for _, topic := range topics {
		var lastErr error
		for {
			lastErr = leadersReady(ctx, client, topic, partitions)
			if lastErr == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("topic %s: partitions without a leader after %s: %w", topic, wait, lastErr)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func leadersReady(ctx context.Context, client *kafka.Client, topic string, partitions int) error {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Name != topic {
		return fmt.Errorf("metadata: %w", kafka.UnknownTopicOrPartition)
	}
	t := meta.Topics[0]
	if t.Error != nil {
		return fmt.Errorf("metadata: %w", t.Error)
	}
	if len(t.Partitions) == 0 || (partitions > 0 && len(t.Partitions) != partitions) {
		return fmt.Errorf("metadata shows %d of %d partitions", len(t.Partitions), partitions)
	}
	reqs := make([]kafka.OffsetRequest, 0, len(t.Partitions))
	for _, p := range t.Partitions {
		if p.Error != nil {
			return fmt.Errorf("partition %d: %w", p.ID, p.Error)
		}
		if p.Leader.Host == "" {
			return fmt.Errorf("partition %d: %w", p.ID, kafka.LeaderNotAvailable)
		}
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return fmt.Errorf("list offsets: %w", err)
	}
	if got := len(resp.Topics[topic]); got != len(reqs) {
		return fmt.Errorf("list offsets answered %d of %d partitions", got, len(reqs))
	}
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return fmt.Errorf("list offsets of partition %d: %w", p.Partition, p.Error)
		}
	}
	return nil
}

// Offsets is what a list-offsets look-up tells of one partition: the first
// offset still held and the high-water mark (one past the last record).
type Offsets struct {
	First, End int64
}

// ListOffsets returns the first and end offsets of every partition of
// topic, retrying retriable answers (a partition whose leader moved is
// asked again) for up to wait (0: DefaultWait).
func ListOffsets(ctx context.Context, client *kafka.Client, wait time.Duration, topic string) (map[int]Offsets, error) {
	var out map[int]Offsets
	err := Retry(ctx, wait, func() error {
		ids, err := partitionIDs(ctx, client, topic)
		if err != nil {
			return err
		}
		// Two requests: a broker refuses a partition named twice in one.
		first, err := listOffsets(ctx, client, topic, ids, kafka.FirstOffsetOf)
		if err != nil {
			return err
		}
		end, err := listOffsets(ctx, client, topic, ids, kafka.LastOffsetOf)
		if err != nil {
			return err
		}
		out = make(map[int]Offsets, len(ids))
		for p, e := range end {
			out[p] = Offsets{First: first[p], End: e}
		}
		return nil
	})
	return out, err
}

// listOffsets asks for one offset (first or last) of each partition.
func listOffsets(ctx context.Context, client *kafka.Client, topic string, ids []int, of func(int) kafka.OffsetRequest) (map[int]int64, error) {
	reqs := make([]kafka.OffsetRequest, len(ids))
	for i, id := range ids {
		reqs[i] = of(id)
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	out := make(map[int]int64, len(ids))
	for _, p := range resp.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("list offsets of %s/%d: %w", topic, p.Partition, p.Error)
		}
		if reqs[0].Timestamp == kafka.FirstOffset {
			out[p.Partition] = p.FirstOffset
		} else {
			out[p.Partition] = p.LastOffset
		}
	}
	if len(out) != len(ids) {
		return nil, fmt.Errorf("list offsets of %s: answered %d of %d partitions: %w", topic, len(out), len(ids), kafka.LeaderNotAvailable)
	}
	return out, nil
}

// Committed returns the group's committed offset of each partition of topic
// (-1 where nothing is committed), retrying a coordinator that is not ready.
func Committed(ctx context.Context, client *kafka.Client, wait time.Duration, group, topic string, partitions []int) (map[int]int64, error) {
	var out map[int]int64
	err := Retry(ctx, wait, func() error {
		resp, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: partitions}})
		if err != nil {
			return fmt.Errorf("committed offsets of group %s: %w", group, err)
		}
		if errors.Is(resp.Error, kafka.GroupIdNotFound) {
			// A group that does not exist yet has committed nothing.
			out = make(map[int]int64, len(partitions))
			for _, p := range partitions {
				out[p] = -1
			}
			return nil
		}
		if resp.Error != nil {
			return fmt.Errorf("committed offsets of group %s: %w", group, resp.Error)
		}
		out = make(map[int]int64, len(partitions))
		for _, p := range resp.Topics[topic] {
			if p.Error != nil {
				return fmt.Errorf("committed offset of group %s on %s/%d: %w", group, topic, p.Partition, p.Error)
			}
			out[p.Partition] = p.CommittedOffset
		}
		return nil
	})
	return out, err
}
