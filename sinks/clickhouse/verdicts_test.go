package clickhouse

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/sinks"
	"github.com/goshawk-safety/goshawk/triage"
	"github.com/goshawk-safety/goshawk/triage/storetest"
)

// The console store contract, against the real server: each subtest gets a
// fresh, migrated database of its own, dropped when it ends.
func TestConsoleStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		w, _, v := migratedWriter(t)
		prec := time.Second
		if v.HasDateTime64() {
			prec = time.Millisecond
		}
		return storetest.Harness{Store: w.Console(), Write: w.Write, Precision: prec,
			WriteProtected: func(ctx context.Context, p sinks.Protection, flags []detectors.Flag) error {
				pw := &Writer{conn: w.conn, db: w.db, insert: w.insert, protect: p}
				return pw.Write(ctx, flags)
			},
			ExpireEvidence: w.ExpireEvidence,
		}
	})
}

// BenchmarkConsoleQueueMillion measures the console's queue with a million
// flags on the real server (GOSHAWK_INTEGRATION=1 go test -bench
// ConsoleQueue -benchtime 10x ./sinks/clickhouse).
func BenchmarkConsoleQueueMillion(b *testing.B) {
	w, _, _ := migratedWriter(b)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if err := w.Write(ctx, storetest.Flags(50_000, fmt.Sprint(i))); err != nil {
			b.Fatal(err)
		}
	}
	storetest.BenchQueue(b, w.Console())
}

// After parts merge (OPTIMIZE ... FINAL) the latest decision per flag is
// the one left, the later-recorded one of a tie included: what FINAL shows
// before the merge is what stays.
func TestConsoleVerdictsAfterMerge(t *testing.T) {
	w, conn, _ := migratedWriter(t)
	ctx := context.Background()
	flags := storetest.Live(storetest.Flags(4, "merge"))
	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	s := w.Console()
	at := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	decide := func(id string, st triage.Status, at time.Time) {
		t.Helper()
		if err := s.RecordVerdict(ctx, triage.Verdict{FlagID: id, Verdict: st, Analyst: "alice", DecidedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	decide(flags[0].FlagID, triage.Confirmed, at)
	decide(flags[0].FlagID, triage.Dismissed, at.Add(time.Minute))
	decide(flags[1].FlagID, triage.Escalated, at.Add(time.Minute))
	decide(flags[1].FlagID, triage.Confirmed, at) // older: loses
	decide(flags[2].FlagID, triage.Confirmed, at)
	decide(flags[2].FlagID, triage.Escalated, at) // same instant, recorded later: wins
	want := map[string]triage.Status{flags[0].FlagID: triage.Dismissed, flags[1].FlagID: triage.Escalated, flags[2].FlagID: triage.Escalated}
	check := func(when string) {
		t.Helper()
		for id, st := range want {
			it, err := s.Flag(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if it.Status() != st {
				t.Errorf("%s: flag %s is %s, want %s", when, id, it.Status(), st)
			}
		}
	}
	check("before merge")
	mergeAll(ctx, t, conn, w.db, "verdicts")
	check("after OPTIMIZE FINAL")
	var rows uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+table(w.db, "verdicts")).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 3 {
		t.Errorf("%d verdict rows after the merge, want 3", rows)
	}
}
