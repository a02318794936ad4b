package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/internal/testenv"
)

// testDB returns a Config for a fresh, uniquely named database on the real
// ClickHouse, a connection to it and the server's version. The database is
// dropped when the test ends. Nothing is migrated.
func testDB(tb testing.TB) (Config, driver.Conn, ServerVersion) {
	tb.Helper()
	addr := testenv.ClickHouse(tb)
	cfg := Config{
		Addr:     []string{addr},
		Database: fmt.Sprintf("goshawk_test_%d_%d", os.Getpid(), time.Now().UnixNano()),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := Dial(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+cfg.Database+"`"); err != nil {
			tb.Errorf("drop test database %s: %v", cfg.Database, err)
		}
		conn.Close()
	})
	v, err := QueryServerVersion(ctx, conn)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg, conn, v
}

// migratedWriter returns a Writer on a fresh migrated database.
func migratedWriter(tb testing.TB) (*Writer, driver.Conn, ServerVersion) {
	tb.Helper()
	cfg, conn, v := testDB(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := MigrateConn(ctx, conn, cfg.Database); err != nil {
		tb.Fatal(err)
	}
	w, err := Open(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := w.Close(); err != nil {
			tb.Errorf("close writer: %v", err)
		}
	})
	return w, conn, v
}

// testFlags returns n distinct flags spread over three months, every
// category and severity, with non-ASCII evidence and sub-second times.
func testFlags(n int, salt string) []detectors.Flag {
	base := time.Date(2025, 11, 30, 23, 59, 58, 123_000_000, time.UTC)
	flags := make([]detectors.Flag, n)
	for i := range flags {
		msg := fmt.Sprintf("msg-%s-%d", salt, i)
		rule := fmt.Sprintf("rule-%d", i%3)
		sent := base.Add(time.Duration(i) * 37 * time.Hour).Add(time.Duration(i) * time.Millisecond)
		flags[i] = detectors.Flag{
			FlagID:         detectors.FlagID(msg, "keyword", rule),
			MessageID:      msg,
			ConversationID: fmt.Sprintf("conv-%d", i%4),
			SenderID:       fmt.Sprintf("user-%d", i%5),
			RecipientIDs:   []string{fmt.Sprintf("user-%d", (i+1)%5), "user-99"}[:1+i%2],
			Category:       detectors.Categories[i%len(detectors.Categories)],
			Detector:       "keyword",
			Rule:           rule,
			RuleVersion:    fmt.Sprintf("%016x", i*7919),
			Mode:           []detectors.Mode{detectors.Live, detectors.Shadow}[i%2],
			Severity:       detectors.Severities[i%len(detectors.Severities)],
			Score:          float64(i%10) / 10,
			Evidence:       fmt.Sprintf("…don't tell ur mum 🤫 #%d — ta mère, Ärger, 秘密, مرحبا…", i),
			SentAt:         sent,
			DetectedAt:     sent.Add(1500 * time.Millisecond),
		}
	}
	return flags
}

func ids(flags []detectors.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = f.FlagID
	}
	sort.Strings(out)
	return out
}

// stored is what f looks like read back from a server of version v: times
// in UTC, cut to whole seconds before DateTime64, and never nil recipients.
func stored(f detectors.Flag, v ServerVersion) detectors.Flag {
	prec := time.Second
	if v.HasDateTime64() {
		prec = time.Millisecond
	}
	f.SentAt = f.SentAt.UTC().Truncate(prec)
	f.DetectedAt = f.DetectedAt.UTC().Truncate(prec)
	if f.RecipientIDs == nil {
		f.RecipientIDs = []string{}
	}
	if f.Mode == "" {
		f.Mode = detectors.Live
	}
	return f
}

func TestMigrateIsIdempotent(t *testing.T) {
	cfg, conn, v := testDB(t)
	ctx := context.Background()
	t.Logf("ClickHouse %v", v)

	// Once through the Config entry point, which must create the database,
	// then twice over the connection.
	if err := Migrate(ctx, cfg); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	for i := range 2 {
		if err := MigrateConn(ctx, conn, cfg.Database); err != nil {
			t.Fatalf("Migrate again (%d): %v", i+2, err)
		}
	}

	rows, err := conn.Query(ctx, "SELECT version, name, applied_at FROM "+table(cfg.Database, "schema_migrations")+" ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []uint32
	for rows.Next() {
		var (
			version uint32
			name    string
			at      time.Time
		)
		if err := rows.Scan(&version, &name, &at); err != nil {
			t.Fatal(err)
		}
		got = append(got, version)
		if want := migrations()[version-1].Name; name != want {
			t.Errorf("migration %d recorded as %q, want %q", version, name, want)
		}
		if time.Since(at) > time.Hour || time.Until(at) > time.Minute {
			t.Errorf("migration %d applied_at = %v, not about now", version, at)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var want []uint32
	for _, m := range migrations() {
		want = append(want, m.Version)
	}
	if !slices.Equal(got, want) {
		t.Errorf("schema_migrations rows = %v, want each of %v exactly once", got, want)
	}

	// The flags table has the Flag's columns with the types for this server.
	// system.columns lists a table's columns in table order (18.16 has no
	// position column to sort by).
	crows, err := conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = 'flags'", cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer crows.Close()
	types := map[string]string{}
	var names []string
	for crows.Next() {
		var name, typ string
		if err := crows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		types[name] = typ
	}
	if err := crows.Err(); err != nil {
		t.Fatal(err)
	}
	wantCols := append(flagFields(t), "inserted_at")
	// Migration 4 adds evidence_key_id right after evidence.
	wantCols = slices.Insert(wantCols, slices.Index(wantCols, "evidence")+1, "evidence_key_id")
	if want := wantCols; !slices.Equal(names, want) {
		t.Errorf("flags columns = %v, want %v", names, want)
	}
	wantTime, wantStr := "DateTime('UTC')", "String"
	if v.HasDateTime64() {
		wantTime = "DateTime64(3, 'UTC')"
	}
	if v.HasLowCardinality() {
		wantStr = "LowCardinality(String)"
	}
	if types["sent_at"] != wantTime || types["category"] != wantStr || types["recipient_ids"] != "Array(String)" {
		t.Errorf("on %v: sent_at %s (want %s), category %s (want %s), recipient_ids %s",
			v, types["sent_at"], wantTime, types["category"], wantStr, types["recipient_ids"])
	}

	var ddl string
	if err := conn.QueryRow(ctx, "SHOW CREATE TABLE "+table(cfg.Database, "flags")).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	t.Logf("server's DDL on %v:\n%s", v, ddl)
}

func TestMigrateRejectsBadDatabaseName(t *testing.T) {
	_, conn, _ := testDB(t)
	err := MigrateConn(context.Background(), conn, "x`; DROP DATABASE default; --")
	if err == nil || !strings.Contains(err.Error(), "database name") {
		t.Fatalf("MigrateConn with a bad name = %v, want a database name error", err)
	}
}

func TestWriteTwiceIsReadOnce(t *testing.T) {
	w, conn, v := migratedWriter(t)
	r := w.Reader()
	ctx := context.Background()
	flags := testFlags(60, "twice")

	if err := w.Write(ctx, flags); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := w.Write(ctx, flags); err != nil {
		t.Fatalf("second write: %v", err)
	}
	// A re-processing after a rebalance: same flag_ids, but another
	// detected_at and a detector that lost its state graded them otherwise.
	again := slices.Clone(flags[:20])
	for i := range again {
		again[i].DetectedAt = again[i].DetectedAt.Add(time.Hour)
		again[i].Severity = detectors.Low
		again[i].Score = 0.01
	}
	if err := w.Write(ctx, again); err != nil {
		t.Fatalf("third write: %v", err)
	}

	n, err := r.CountFlags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(flags)) {
		t.Errorf("CountFlags = %d, want %d", n, len(flags))
	}
	gotIDs, err := r.FlagIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := ids(flags); !slices.Equal(gotIDs, want) {
		t.Errorf("FlagIDs = %d ids, want the %d written, each once", len(gotIDs), len(want))
	}
	read, err := r.Flags(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(read), ids(flags); !slices.Equal(got, want) {
		t.Errorf("Flags returned %d flags, want the %d written, each once", len(got), len(want))
	}
	distinct, total, err := r.CountDistinctAndTotal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("on %v before OPTIMIZE: %d distinct flag_ids in %d stored rows", v, distinct, total)
	if distinct != uint64(len(flags)) || total < distinct || total > uint64(2*len(flags)+len(again)) {
		t.Errorf("distinct %d, total %d: want %d distinct in %d..%d rows", distinct, total, len(flags), len(flags), 2*len(flags)+len(again))
	}

	// Merging must collapse every copy, the regraded ones too: proof that
	// the sorting key and the partition are fixed for a flag_id.
	mergeAll(ctx, t, conn, w.db, "flags")
	distinct, total, err = r.CountDistinctAndTotal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if distinct != uint64(len(flags)) || total != distinct {
		t.Errorf("after OPTIMIZE FINAL: %d distinct in %d rows, want %d rows", distinct, total, len(flags))
	}
}

func TestRoundTrip(t *testing.T) {
	w, _, v := migratedWriter(t)
	ctx := context.Background()
	flags := testFlags(12, "rt")
	// Edge cases: no recipients (nil and empty), empty evidence, scores at
	// the ends, evidence with every awkward kind of character.
	flags[0].RecipientIDs = nil
	flags[1].RecipientIDs = []string{}
	flags[2].Evidence = ""
	flags[3].Score = 1
	flags[4].Score = 0.123456789012345
	flags[5].Evidence = "zero\u200bwidth, combining e\u0301, RTL \u202eabc\u202c, emoji 👩‍👧, NUL-free 'quotes' \"double\" \\ back\nnew line\ttab"
	flags[6].Evidence = strings.Repeat("界", detectors.MaxEvidenceBytes/3)
	flags[7].SentAt = time.Date(2026, 1, 31, 23, 59, 59, 999_000_000, time.FixedZone("CET", 3600))

	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	read, err := w.Reader().Flags(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]detectors.Flag{}
	for _, f := range read {
		byID[f.FlagID] = f
	}
	if len(byID) != len(flags) {
		t.Fatalf("read %d flags, want %d", len(byID), len(flags))
	}
	for _, f := range flags {
		want := stored(f, v)
		if got := byID[f.FlagID]; !reflect.DeepEqual(got, want) {
			t.Errorf("flag %s on %v:\n got %+v\nwant %+v", f.FlagID, v, got, want)
		}
	}
	if v.HasDateTime64() {
		if got := byID[flags[7].FlagID].SentAt; got.Nanosecond() != 999_000_000 {
			t.Errorf("sent_at lost its milliseconds on %v: %v", v, got)
		}
	} else if got := byID[flags[7].FlagID].SentAt; !got.Equal(time.Date(2026, 1, 31, 22, 59, 59, 0, time.UTC)) {
		t.Errorf("sent_at on %v = %v, want 2026-01-31 22:59:59 UTC (whole seconds)", v, got)
	}
	for i := 1; i < len(read); i++ {
		if read[i].SentAt.After(read[i-1].SentAt) {
			t.Fatalf("Flags not newest first: %v before %v", read[i-1].SentAt, read[i].SentAt)
		}
	}
}

func TestFlagsFilter(t *testing.T) {
	w, _, v := migratedWriter(t)
	ctx := context.Background()
	flags := testFlags(40, "filter")
	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	mid := flags[20].SentAt // has milliseconds: the bounds must round as the column does
	since5 := flags[5].SentAt.Add(-time.Millisecond)
	at7 := stored(flags[7], v).SentAt
	tests := []struct {
		name   string
		filter Filter
		keep   func(detectors.Flag) bool
	}{
		{"all", Filter{}, func(detectors.Flag) bool { return true }},
		{"category", Filter{Category: detectors.Grooming}, func(f detectors.Flag) bool { return f.Category == detectors.Grooming }},
		{"min severity high", Filter{MinSeverity: detectors.High}, func(f detectors.Flag) bool { return f.Severity.Rank() >= 3 }},
		{"conversation", Filter{ConversationID: "conv-2"}, func(f detectors.Flag) bool { return f.ConversationID == "conv-2" }},
		{"since", Filter{Since: mid}, func(f detectors.Flag) bool { return !stored(f, v).SentAt.Before(mid) }},
		{"until", Filter{Until: mid}, func(f detectors.Flag) bool { return stored(f, v).SentAt.Before(mid) }},
		{"combined", Filter{Category: detectors.Spam, MinSeverity: detectors.Medium, Since: since5, Until: mid},
			func(f detectors.Flag) bool {
				s := stored(f, v).SentAt
				return f.Category == detectors.Spam && f.Severity.Rank() >= 2 && !s.Before(since5) && s.Before(mid)
			}},
		{"one stored instant", Filter{Since: at7, Until: at7.Add(time.Millisecond)},
			func(f detectors.Flag) bool { return stored(f, v).SentAt.Equal(at7) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []detectors.Flag
			for _, f := range flags {
				if tt.keep(f) {
					want = append(want, f)
				}
			}
			if len(want) == 0 || (len(want) == len(flags) && tt.name != "all") {
				t.Fatalf("bad test case: filter keeps %d of %d", len(want), len(flags))
			}
			got, err := w.Reader().Flags(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Errorf("got %d flags, want %d", len(got), len(want))
			}
		})
	}
	t.Run("limit keeps the newest", func(t *testing.T) {
		got, err := w.Reader().Flags(ctx, Filter{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{flags[39].FlagID, flags[38].FlagID, flags[37].FlagID}
		var gotIDs []string
		for _, f := range got {
			gotIDs = append(gotIDs, f.FlagID)
		}
		if !slices.Equal(gotIDs, want) {
			t.Errorf("Limit 3 = %v, want %v", gotIDs, want)
		}
	})
	t.Run("unknown severity", func(t *testing.T) {
		if _, err := w.Reader().Flags(ctx, Filter{MinSeverity: "urgent"}); err == nil {
			t.Error("no error for an unknown severity")
		}
	})
}

func TestWriteEmptyIsNoop(t *testing.T) {
	// The database does not exist, so any round trip would fail.
	cfg, _, _ := testDB(t)
	w, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, flags := range [][]detectors.Flag{nil, {}} {
		if err := w.Write(context.Background(), flags); err != nil {
			t.Errorf("Write(%#v) = %v, want nil", flags, err)
		}
	}
	if err := w.Write(context.Background(), testFlags(1, "noop")); err == nil {
		t.Error("Write of one flag to a missing table succeeded; the no-op test proves nothing")
	}
}

// A failed attempt must leave the writer usable: the next call builds a
// fresh batch on a healthy connection.
func TestWriteFailureThenRetry(t *testing.T) {
	cfg, conn, _ := testDB(t)
	ctx := context.Background()
	w, err := Open(ctx, Config{Addr: cfg.Addr, Database: cfg.Database, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	flags := testFlags(25, "retry")

	err = w.Write(ctx, flags)
	if err == nil || !strings.Contains(err.Error(), "flags") {
		t.Fatalf("Write before Migrate = %v, want an error naming the flags table", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := w.Write(cancelled, flags); err == nil {
		t.Fatal("Write with a cancelled context succeeded")
	} else if !errors.Is(err, context.Canceled) {
		t.Logf("cancelled Write: %v (not wrapping context.Canceled)", err)
	}

	if err := MigrateConn(ctx, conn, cfg.Database); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 3; attempt++ {
		if err := w.Write(ctx, flags); err != nil {
			t.Fatalf("attempt %d after the failures: %v", attempt, err)
		}
	}
	n, err := w.Reader().CountFlags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(flags)) {
		t.Errorf("CountFlags = %d, want %d", n, len(flags))
	}
}

func BenchmarkWrite(b *testing.B) {
	w, _, _ := migratedWriter(b)
	ctx := context.Background()
	const batch = 1000
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		flags := testFlags(batch, fmt.Sprint("bench-", i))
		for j := range flags { // one partition, as a live batch would be
			flags[j].SentAt = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*batch+j) * time.Millisecond)
		}
		i++
		b.StartTimer()
		if err := w.Write(ctx, flags); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*i)/b.Elapsed().Seconds(), "flags/s")
}

// mergeAll runs OPTIMIZE TABLE … FINAL until every partition of the table
// is one active part. A single OPTIMIZE may merge less: it returns without
// error when a background merge holds some of the parts (CI saw a verdicts
// table keep a fourth row that way under load).
func mergeAll(ctx context.Context, t *testing.T, conn driver.Conn, db, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := conn.Exec(ctx, "OPTIMIZE TABLE "+table(db, name)+" FINAL"); err != nil {
			t.Fatalf("optimize %s: %v", name, err)
		}
		var parts, partitions uint64
		if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(partition) FROM system.parts WHERE database = ? AND table = ? AND active",
			db, name).Scan(&parts, &partitions); err != nil {
			t.Fatalf("parts of %s: %v", name, err)
		}
		if parts == partitions {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d active parts in %d partitions after 30 s of OPTIMIZE FINAL", name, parts, partitions)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
