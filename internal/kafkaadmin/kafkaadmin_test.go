package kafkaadmin_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/goshawk-safety/goshawk/internal/kafkaadmin"
)

func TestRetriable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{kafka.NotLeaderForPartition, true},
		{kafka.LeaderNotAvailable, true},
		{kafka.UnknownTopicOrPartition, true},
		{fmt.Errorf("list offsets of t/3: %w", kafka.NotLeaderForPartition), true},
		{kafka.GroupCoordinatorNotAvailable, true},
		{kafka.TopicAuthorizationFailed, false},
		{kafka.InvalidTopic, false},
		{errors.New("connection refused"), false},
		{nil, false},
	} {
		if got := kafkaadmin.Retriable(tc.err); got != tc.want {
			t.Errorf("Retriable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	t.Run("retriable until success", func(t *testing.T) {
		calls := 0
		err := kafkaadmin.Retry(ctx, 5*time.Second, func() error {
			if calls++; calls < 3 {
				return fmt.Errorf("partition 1: %w", kafka.NotLeaderForPartition)
			}
			return nil
		})
		if err != nil || calls != 3 {
			t.Fatalf("err %v after %d calls, want nil after 3", err, calls)
		}
	})
	t.Run("permanent error is not retried", func(t *testing.T) {
		calls := 0
		err := kafkaadmin.Retry(ctx, 5*time.Second, func() error {
			calls++
			return kafka.TopicAuthorizationFailed
		})
		if !errors.Is(err, kafka.TopicAuthorizationFailed) || calls != 1 {
			t.Fatalf("err %v after %d calls, want TopicAuthorizationFailed after 1", err, calls)
		}
	})
	t.Run("gives up after wait with the last error", func(t *testing.T) {
		start := time.Now()
		err := kafkaadmin.Retry(ctx, 300*time.Millisecond, func() error { return kafka.LeaderNotAvailable })
		if !errors.Is(err, kafka.LeaderNotAvailable) {
			t.Fatalf("err %v, want LeaderNotAvailable", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("gave up after %s, want about 300ms", d)
		}
	})
	t.Run("context ends the retries", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := kafkaadmin.Retry(cctx, time.Minute, func() error { return kafka.LeaderNotAvailable })
		if err == nil || time.Since(start) > 5*time.Second {
			t.Fatalf("err %v after %s, want an error soon after the context ended", err, time.Since(start))
		}
	})
}

// notLeaderFor makes the next n ListOffsets requests of cluster answer
// NotLeaderForPartition on every partition, as a real broker does for a
// moment after a topic is created or a leader moves. It returns how many it
// answered so.
func notLeaderFor(cluster *kfake.Cluster, n int32) *atomic.Int32 {
	var answered atomic.Int32
	cluster.ControlKey(int16(kmsg.ListOffsets), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if answered.Load() >= n {
			return nil, nil, false
		}
		cluster.KeepControl()
		answered.Add(1)
		r := req.(*kmsg.ListOffsetsRequest)
		resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewListOffsetsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = int16(kafka.NotLeaderForPartition)
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	return &answered
}

func newCluster(t *testing.T, partitions int, topics ...string) (*kfake.Cluster, *kafka.Client) {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return cluster, &kafka.Client{Addr: kafka.TCP(cluster.ListenAddrs()...), Timeout: 10 * time.Second}
}

func TestListOffsetsRetriesNotLeader(t *testing.T) {
	ctx := context.Background()
	cluster, client := newCluster(t, 4, "messages")
	answered := notLeaderFor(cluster, 3)
	offsets, err := kafkaadmin.ListOffsets(ctx, client, 10*time.Second, "messages")
	if err != nil {
		t.Fatalf("ListOffsets: %v", err)
	}
	if answered.Load() != 3 {
		t.Fatalf("%d NotLeader answers were given, want 3 (the retries did not happen)", answered.Load())
	}
	if len(offsets) != 4 {
		t.Fatalf("offsets of %d partitions, want 4: %v", len(offsets), offsets)
	}
	for p, o := range offsets {
		if o.First != 0 || o.End != 0 {
			t.Errorf("partition %d: %+v, want an empty partition", p, o)
		}
	}
}

func TestListOffsetsGivesUpOnPersistentNotLeader(t *testing.T) {
	cluster, client := newCluster(t, 2, "messages")
	notLeaderFor(cluster, 1<<30)
	_, err := kafkaadmin.ListOffsets(context.Background(), client, 500*time.Millisecond, "messages")
	if !errors.Is(err, kafka.NotLeaderForPartition) {
		t.Fatalf("err %v, want NotLeaderForPartition once the wait is over", err)
	}
}

func TestListOffsetsUnknownTopic(t *testing.T) {
	_, client := newCluster(t, 1, "messages")
	_, err := kafkaadmin.ListOffsets(context.Background(), client, 300*time.Millisecond, "no-such-topic")
	if !errors.Is(err, kafka.UnknownTopicOrPartition) {
		t.Fatalf("err %v, want UnknownTopicOrPartition", err)
	}
}

func TestWaitForLeaders(t *testing.T) {
	ctx := context.Background()
	cluster, client := newCluster(t, 3, "a", "b")
	answered := notLeaderFor(cluster, 2)
	if err := kafkaadmin.WaitForLeaders(ctx, client, 10*time.Second, 3, "a", "b"); err != nil {
		t.Fatalf("WaitForLeaders: %v", err)
	}
	if answered.Load() != 2 {
		t.Fatalf("%d NotLeader answers were given, want 2: the wait did not check that leaders answer", answered.Load())
	}
	if err := kafkaadmin.WaitForLeaders(ctx, client, 300*time.Millisecond, 5, "a"); err == nil {
		t.Fatal("WaitForLeaders with 5 partitions expected on a 3-partition topic returned nil")
	}
	if err := kafkaadmin.WaitForLeaders(ctx, client, 300*time.Millisecond, 0, "missing"); err == nil {
		t.Fatal("WaitForLeaders on a missing topic returned nil")
	}
}

func TestCommitted(t *testing.T) {
	_, client := newCluster(t, 2, "messages")
	got, err := kafkaadmin.Committed(context.Background(), client, 5*time.Second, "g", "messages", []int{0, 1})
	if err != nil {
		t.Fatalf("Committed: %v", err)
	}
	if len(got) != 2 || got[0] != -1 || got[1] != -1 {
		t.Fatalf("committed %v, want -1 for both partitions of a group that never committed", got)
	}
}
