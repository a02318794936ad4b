package clickhouse

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

// ReviewedFlags returns live flags in the time range with their latest
// verdict, confirmed or dismissed only, each flag once.
func TestReviewedFlags(t *testing.T) {
	w, conn, _ := migratedWriter(t)
	ctx := context.Background()
	flags := testFlags(12, "rv")
	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, flags); err != nil { // a re-delivery must not double anything
		t.Fatal(err)
	}
	// Verdicts: "escalated" only for i%3 == 0; "dismissed" only for
	// i%4 == 2; otherwise "dismissed" then, a minute later, "confirmed".
	// Odd flags are shadow (testFlags) and must never be returned.
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	insert := func(id, verdict string, at time.Time) {
		t.Helper()
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+table(w.db, "verdicts")+" (flag_id, verdict, note, analyst, decided_at)")
		if err != nil {
			t.Fatal(err)
		}
		if err := batch.Append(id, verdict, "", "ana", at); err != nil {
			t.Fatal(err)
		}
		if err := batch.Send(); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{}
	for i, f := range flags {
		switch {
		case i%3 == 0:
			insert(f.FlagID, "escalated", base)
		case i%4 == 2:
			insert(f.FlagID, "dismissed", base)
			if f.Mode == detectors.Live {
				want[f.FlagID] = "dismissed"
			}
		default:
			insert(f.FlagID, "dismissed", base)
			insert(f.FlagID, "confirmed", base.Add(time.Minute))
			if f.Mode == detectors.Live {
				want[f.FlagID] = "confirmed"
			}
		}
	}
	got, err := w.Reader().ReviewedFlags(ctx, flags[0].SentAt.Add(-time.Hour), flags[len(flags)-1].SentAt.Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, r := range got {
		if _, dup := seen[r.Flag.FlagID]; dup {
			t.Errorf("flag %s returned twice", r.Flag.FlagID)
		}
		seen[r.Flag.FlagID] = r.Verdict
		if r.Flag.Evidence == "" || r.Flag.Rule == "" {
			t.Errorf("flag %s lacks fields: %+v", r.Flag.FlagID, r.Flag)
		}
	}
	if len(want) < 3 || fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("reviewed flags = %v\nwant %v (live only, latest verdict, no escalated)", seen, want)
	}
	// The range is honoured.
	none, err := w.Reader().ReviewedFlags(ctx, base.AddDate(5, 0, 0), base.AddDate(6, 0, 0), 1000)
	if err != nil || len(none) != 0 {
		t.Errorf("out-of-range query returned %d flags, %v", len(none), err)
	}
}
