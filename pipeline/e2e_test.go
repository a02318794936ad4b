package pipeline_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/kafkatest"
	"github.com/goshawk-safety/goshawk/internal/testenv"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
)

// The foundation's proof on real services: 12,000 generated events (bad ones
// mixed in) through real Apache Kafka into real ClickHouse. Every flag replay
// gives is in ClickHouse exactly once, every bad event is in the dead-letter
// topic, the committed offsets are at the end, and a second consumer group
// re-processing the whole topic adds no visible duplicate.
func TestEndToEndRealKafkaClickHouse(t *testing.T) {
	broker := testenv.Kafka(t)
	chAddr := testenv.ClickHouse(t)
	ctx := context.Background()
	suffix := time.Now().UnixNano()
	topic := fmt.Sprintf("goshawk-e2e-%d", suffix)
	kafkatest.CreateTopics(ctx, t, broker, 6, topic, topic+".dlq")

	cfg := clickhouse.Config{Addr: []string{chAddr}, Database: fmt.Sprintf("goshawk_e2e_%d", suffix)}
	if err := clickhouse.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	store, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	t.Cleanup(func() { dropDatabase(t, cfg) })

	tr := generate(12000, 2026, 0.02)
	want := replayFlags(t, tr)
	if len(tr.bad) == 0 {
		t.Fatal("the generator made no bad events")
	}
	start := time.Now()
	kafkatest.Produce(ctx, t, broker, topic, tr.records)
	t.Logf("produced %d records (%d bad) in %s; replay gives %d flags", len(tr.records), len(tr.bad), time.Since(start), len(want))

	start = time.Now()
	h := startPipeline(t, broker, topic, "goshawk-e2e", store, 2000)
	h.waitCommitted(t, 3*time.Minute)
	elapsed := time.Since(start)
	h.stop(t)
	t.Logf("run: %d records committed in %s (%.0f records/s, including group join)", len(tr.records), elapsed, float64(len(tr.records))/elapsed.Seconds())

	reader := store.Reader()
	checkStoredExactlyOnce(t, reader, want)
	checkDeadLetters(t, broker, topic+".dlq", tr)

	// Re-delivery: a new group reads everything again into the same store.
	h2 := startPipeline(t, broker, topic, "goshawk-e2e-again", store, 2000)
	h2.waitCommitted(t, 3*time.Minute)
	h2.stop(t)
	distinct, total, err := reader.CountDistinctAndTotal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after re-delivery: %d rows stored, %d distinct flags", total, distinct)
	checkStoredExactlyOnce(t, reader, want)
}

func checkStoredExactlyOnce(t *testing.T, reader *clickhouse.Reader, want map[string]detectors.Flag) {
	t.Helper()
	ctx := context.Background()
	n, err := reader.CountFlags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(want)) {
		t.Errorf("ClickHouse shows %d flags, want %d", n, len(want))
	}
	ids, err := reader.FlagIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := make([]string, 0, len(want))
	for id := range want {
		wantIDs = append(wantIDs, id)
	}
	sort.Strings(wantIDs)
	if fmt.Sprint(ids) != fmt.Sprint(wantIDs) {
		t.Fatalf("ClickHouse flag ids differ from replay's (%d vs %d)", len(ids), len(wantIDs))
	}
	stored, err := reader.Flags(ctx, clickhouse.Filter{Limit: len(want) + 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]detectors.Flag{}
	for _, f := range stored {
		w := want[f.FlagID]
		// 18.16 stores whole seconds (no DateTime64); newer servers keep ms.
		if d := f.SentAt.Sub(w.SentAt); d > time.Second || d < -time.Second {
			t.Errorf("flag %s: sent_at %v, want %v", f.FlagID, f.SentAt, w.SentAt)
		}
		f.SentAt = w.SentAt
		got[f.FlagID] = f
	}
	compareFlags(t, got, want)
}

func dropDatabase(t *testing.T, cfg clickhouse.Config) {
	conn, err := clickhouse.Dial(context.Background(), cfg)
	if err != nil {
		t.Logf("drop database %s: %v", cfg.Database, err)
		return
	}
	defer conn.Close()
	if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database); err != nil {
		t.Logf("drop database %s: %v", cfg.Database, err)
	}
}
