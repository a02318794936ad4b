package pipeline

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/detectors/builtin"
	"github.com/goshawk-safety/goshawk/detectors/grooming/corpus"
	"github.com/goshawk-safety/goshawk/event"
)

func TestWatermarkIsTheSlowestLivePartition(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	wall := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	type read struct {
		partition int
		event     time.Duration // after t0
		wall      time.Duration // after wall
		want      time.Duration // the watermark, after t0
	}
	for _, tc := range []struct {
		name  string
		reads []read
	}{
		{"one partition follows its messages", []read{{0, 0, 0, 0}, {0, time.Hour, 0, time.Hour}}},
		{"a late message does not move it back", []read{{0, 2 * time.Hour, 0, 2 * time.Hour}, {0, time.Hour, 0, 2 * time.Hour}}},
		{"the partition behind holds it", []read{{0, 40 * 24 * time.Hour, 0, 40 * 24 * time.Hour}, {1, time.Hour, 0, time.Hour}, {0, 41 * 24 * time.Hour, time.Second, time.Hour}}},
		{"until it sends nothing for a while", []read{{1, time.Hour, 0, time.Hour}, {0, 40 * 24 * time.Hour, 0, time.Hour},
			{0, 41 * 24 * time.Hour, watermarkIdle + time.Second, 41 * 24 * time.Hour}}},
		{"and holds it again when it comes back", []read{{1, time.Hour, 0, time.Hour}, {0, 40 * 24 * time.Hour, watermarkIdle + time.Second, 40 * 24 * time.Hour},
			{1, 2 * time.Hour, watermarkIdle + 2*time.Second, 2 * time.Hour}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w watermark
			for i, r := range tc.reads {
				got := w.observe(r.partition, t0.Add(r.event), wall.Add(r.wall))
				if want := t0.Add(r.want); !got.Equal(want) {
					t.Fatalf("read %d (partition %d at %s): watermark %s, want %s", i, r.partition, r.event, got, want)
				}
			}
		})
	}
}

// A worker reads two partitions, one of them weeks ahead in event time (as
// after a restart, when one partition's backlog is read first). The
// conversations of the partition behind must not be reclaimed as idle on
// the clock of the one ahead: the worker flags them as replay, which reads
// everything in time order, does.
func TestSkewedPartitionsKeepTheConversationsBehind(t *testing.T) {
	convs, newProc := groomingWorker(t)
	// behind: the grooming conversations, in partition 1; ahead: the same
	// conversations under other ids, 60 days later, in partition 0.
	var behind, ahead []*event.Message
	for _, c := range convs {
		if c.Label != "grooming" {
			continue
		}
		for _, m := range c.Events {
			behind = append(behind, m)
			m2 := *m
			m2.ConversationID, m2.MessageID = "ahead-"+m.ConversationID, "ahead-"+m.MessageID
			m2.SentAt = m.SentAt.Add(60 * 24 * time.Hour)
			ahead = append(ahead, &m2)
		}
	}
	byTime := func(a, b *event.Message) int { return a.SentAt.Compare(b.SentAt) }
	slices.SortStableFunc(behind, byTime)
	slices.SortStableFunc(ahead, byTime)

	inspect := func(mp *messageProcessor, partition int, offset int64, m *event.Message, got map[string]bool) {
		t.Helper()
		var r result
		mp.process(messageRecord(t, partition, offset, m), &r, map[string]statePos{})
		for _, f := range r.flags {
			if !strings.HasPrefix(f.ConversationID, "ahead-") {
				got[f.Rule+"/"+string(f.Severity)+"/"+f.MessageID] = true
			}
		}
	}

	// Replay: the conversations behind alone, in time order.
	want := map[string]bool{}
	mp := newProc()
	for i, m := range behind {
		inspect(mp, 1, int64(i), m, want)
	}
	if len(want) < 20 {
		t.Fatalf("replay raises only %d flags", len(want))
	}
	// The worker: the first third behind, then all of ahead, then the rest
	// behind (two partitions' backlogs read in turn).
	got := map[string]bool{}
	mp = newProc()
	third := len(behind) / 3
	for i, m := range behind[:third] {
		inspect(mp, 1, int64(i), m, got)
	}
	for i, m := range ahead {
		if i%8 == 0 && third+i/8 < len(behind) { // partition 1 keeps sending: it is live, only behind
			k := third + i/8
			inspect(mp, 1, int64(k), behind[k], got)
		}
		inspect(mp, 0, int64(i), m, map[string]bool{})
	}
	for k := third + (len(ahead)+7)/8; k < len(behind); k++ {
		inspect(mp, 1, int64(k), behind[k], got)
	}
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra) > 0 {
		slices.Sort(missing)
		slices.Sort(extra)
		t.Fatalf("the conversations behind lost state: %d flags missing (first %v), %d extra (first %v)",
			len(missing), first(missing), len(extra), first(extra))
	}
	t.Logf("%d flags of the conversations behind, as replay", len(want))
}

func first(s []string) string {
	if len(s) > 3 {
		s = s[:3]
	}
	return fmt.Sprint(s)
}

// A conversation reclaimed as idle while the worker reads a record of
// another partition is deleted where its state was written: its tombstone
// carries its own partition and the offset its last state included.
func TestReclaimedConversationsTombstoneTheirOwnPartition(t *testing.T) {
	convs, newProc := groomingWorker(t)
	mp := newProc()
	applied := map[string]statePos{}
	offsets := map[int]int64{}
	var tombstones []StateRecord
	written := map[string]int64{} // the offset of each key's latest state
	send := func(partition int, m *event.Message) {
		t.Helper()
		var r result
		mp.process(messageRecord(t, partition, offsets[partition], m), &r, applied)
		offsets[partition]++
		for _, s := range r.states {
			k := s.Detector + ":" + s.Key
			if s.State == nil {
				tombstones = append(tombstones, s)
				delete(applied, k)
			} else {
				applied[k] = statePos{s.Partition, s.Offset}
				written[k] = s.Offset
			}
		}
	}
	// Partition 1: the grooming conversations, each in time order; their
	// states are written there.
	var later []*event.Message
	for _, c := range convs {
		if c.Label != "grooming" {
			continue
		}
		for _, m := range c.Events {
			send(1, m)
		}
		m2 := *c.Events[0]
		m2.ConversationID, m2.MessageID = "later-"+m2.ConversationID, "later-"+m2.MessageID
		m2.SentAt = m2.SentAt.Add(90 * 24 * time.Hour)
		later = append(later, &m2)
	}
	// Then, 90 days later, both partitions send again: every conversation
	// of partition 1 is idle, and reclaimed while reading partition 0.
	for _, m := range later {
		send(1, m)
		for range 4 {
			send(0, m)
		}
	}
	if len(tombstones) < len(written)/2 {
		t.Fatalf("only %d of %d conversations reclaimed", len(tombstones), len(written))
	}
	for _, s := range tombstones {
		if s.Partition != 1 || s.Offset != written[s.Detector+":"+s.Key] {
			t.Errorf("tombstone of %s: partition %d offset %d, want partition 1 offset %d", s.Key, s.Partition, s.Offset, written[s.Detector+":"+s.Key])
		}
	}
	t.Logf("%d idle conversations reclaimed, each tombstoned in its own partition", len(tombstones))
}

// groomingWorker returns the grooming corpus and a constructor of what a
// pipeline worker runs on messages: a processor with a grooming engine.
func groomingWorker(t *testing.T) ([]*corpus.Conversation, func() *messageProcessor) {
	t.Helper()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	factories, err := reg.Factories([]string{"grooming"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := detectors.LoadCheckedRules(factories, nil)
	if err != nil {
		t.Fatal(err)
	}
	convs, err := corpus.Load("../detectors/grooming/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	return convs, func() *messageProcessor {
		engine, err := detectors.NewEngine(factories, set, detectors.EngineOptions{Clock: detectors.EventTime})
		if err != nil {
			t.Fatal(err)
		}
		return &messageProcessor{p: &Pipeline{deps: Deps{Metrics: NewMetrics(prometheus.NewRegistry(), []string{"grooming"})}}, engine: engine}
	}
}

// messageRecord is m as the record of a messages topic partition.
func messageRecord(t *testing.T, partition int, offset int64, m *event.Message) Record {
	t.Helper()
	v, err := json.Marshal(struct {
		SchemaVersion int `json:"schema_version"`
		*event.Message
	}{1, m})
	if err != nil {
		t.Fatal(err)
	}
	return Record{TopicPartition: TopicPartition{Topic: "messages", Partition: partition}, Offset: offset,
		Key: []byte(m.ConversationID), Value: v, Time: m.SentAt}
}
