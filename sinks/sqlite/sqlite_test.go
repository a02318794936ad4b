package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

func openTemp(tb testing.TB) (*Writer, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "flags.db")
	w, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := w.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return w, path
}

// testFlags returns n distinct flags over every category and severity, with
// non-ASCII evidence and sub-millisecond times in a non-UTC zone.
func testFlags(n int, salt string) []detectors.Flag {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	base := time.Date(2025, 11, 30, 23, 59, 58, 123_456_789, zone)
	flags := make([]detectors.Flag, n)
	for i := range flags {
		msg := fmt.Sprintf("msg-%s-%d", salt, i)
		rule := fmt.Sprintf("rule-%d", i%3)
		sent := base.Add(time.Duration(i) * 37 * time.Minute).Add(time.Duration(i) * time.Millisecond)
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

// stored is f as read back: UTC, milliseconds, never nil recipients.
func stored(f detectors.Flag) detectors.Flag {
	f.SentAt = f.SentAt.UTC().Truncate(time.Millisecond)
	f.DetectedAt = f.DetectedAt.UTC().Truncate(time.Millisecond)
	if f.RecipientIDs == nil {
		f.RecipientIDs = []string{}
	}
	return f
}

func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesSchemaOnce(t *testing.T) {
	ctx := context.Background()
	w, path := openTemp(t)

	var mode string
	var busy int
	if err := w.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := w.db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || busy != int(BusyTimeout.Milliseconds()) {
		t.Errorf("journal_mode %q, busy_timeout %d; want wal, %d", mode, busy, BusyTimeout.Milliseconds())
	}

	// Reopening the file (twice) must not apply anything again.
	for range 2 {
		w2, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if err := w2.Close(); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := w.db.QueryContext(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int
	for rows.Next() {
		var (
			v        int
			name, at string
		)
		if err := rows.Scan(&v, &name, &at); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
		if name != migrations()[v-1].name {
			t.Errorf("migration %d recorded as %q", v, name)
		}
		if ts, err := parseTime(at); err != nil || time.Since(ts) > time.Hour {
			t.Errorf("migration %d applied_at %q (%v), not about now", v, at, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var want []int
	for i, m := range migrations() {
		if m.version != i+1 {
			t.Fatalf("migration %d has version %d: number them 1, 2, ...", i, m.version)
		}
		want = append(want, m.version)
	}
	if !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %v, want %v once each", got, want)
	}

	// The flags table has exactly the Flag's fields, in order.
	var cols []string
	crows, err := w.db.QueryContext(ctx, "SELECT name FROM pragma_table_info('flags') ORDER BY cid")
	if err != nil {
		t.Fatal(err)
	}
	defer crows.Close()
	for crows.Next() {
		var c string
		if err := crows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	var fields []string
	typ := reflect.TypeFor[detectors.Flag]()
	for i := range typ.NumField() {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		fields = append(fields, tag)
	}
	fields = append(fields, "evidence_key_id") // storage only: the key that sealed evidence
	// SQLite appends added columns at the end, so the table's order may
	// differ from the Flag's; the insert column list must follow the Flag.
	if flagColumns != strings.Join(fields, ", ") {
		t.Errorf("flagColumns %q; want the Flag fields %v", flagColumns, fields)
	}
	slices.Sort(cols)
	slices.Sort(fields)
	if !slices.Equal(cols, fields) {
		t.Errorf("flags columns %v; want the Flag fields %v", cols, fields)
	}
}

func TestOpenRejectsBadPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", filepath.Join(t.TempDir(), "a?mode=ro")} {
		if w, err := Open(context.Background(), p); err == nil {
			w.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "missing-dir", "flags.db")); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
}

func TestWriteIsIdempotent(t *testing.T) {
	ctx := context.Background()
	w, _ := openTemp(t)
	flags := testFlags(50, "idem")
	for i := range 2 {
		if err := w.Write(ctx, flags); err != nil {
			t.Fatalf("write %d: %v", i+1, err)
		}
	}
	// A re-processing that graded the messages otherwise: the first write wins.
	again := slices.Clone(flags[:10])
	for i := range again {
		again[i].Severity = detectors.Critical
		again[i].DetectedAt = again[i].DetectedAt.Add(time.Hour)
	}
	if err := w.Write(ctx, again); err != nil {
		t.Fatal(err)
	}
	n, err := w.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(flags)) {
		t.Errorf("Count = %d, want %d", n, len(flags))
	}
	read, err := w.Flags(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(read), ids(flags)) {
		t.Fatalf("read %d flags, want the %d written once each", len(read), len(flags))
	}
	byID := map[string]detectors.Flag{}
	for _, f := range read {
		byID[f.FlagID] = f
	}
	for _, f := range flags[:10] {
		if got := byID[f.FlagID]; !reflect.DeepEqual(got, stored(f)) {
			t.Errorf("flag %s was overwritten by the re-write: %+v", f.FlagID, got)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	w, path := openTemp(t)
	flags := testFlags(10, "rt")
	flags[0].RecipientIDs = nil
	flags[1].RecipientIDs = []string{}
	flags[2].Evidence = ""
	flags[3].Score = 1
	flags[4].Score = 0.123456789012345
	flags[5].Evidence = "zero\u200bwidth, e\u0301, RTL \u202eabc\u202c, 👩‍👧, 'single' \"double\" \\ \nnew line\ttab"
	flags[6].RecipientIDs = []string{"ünï", `quo"te`, "😀"}
	flags[7].SentAt = time.Date(2026, 1, 31, 23, 59, 59, 999_999_999, time.UTC)
	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	read, err := w.Flags(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]detectors.Flag{}
	for _, f := range read {
		byID[f.FlagID] = f
	}
	for _, f := range flags {
		if got, want := byID[f.FlagID], stored(f); !reflect.DeepEqual(got, want) {
			t.Errorf("flag %s:\n got %+v\nwant %+v", f.FlagID, got, want)
		}
	}

	// The stored text is the documented format.
	db := rawDB(t, path)
	var sent, recipients0, recipients6 string
	if err := db.QueryRow("SELECT sent_at FROM flags WHERE flag_id = ?", flags[7].FlagID).Scan(&sent); err != nil {
		t.Fatal(err)
	}
	if sent != "2026-01-31T23:59:59.999Z" {
		t.Errorf("sent_at stored as %q, want 2026-01-31T23:59:59.999Z", sent)
	}
	if err := db.QueryRow("SELECT recipient_ids FROM flags WHERE flag_id = ?", flags[0].FlagID).Scan(&recipients0); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("SELECT recipient_ids FROM flags WHERE flag_id = ?", flags[6].FlagID).Scan(&recipients6); err != nil {
		t.Fatal(err)
	}
	if recipients0 != "[]" || recipients6 != `["ünï","quo\"te","😀"]` {
		t.Errorf("recipient_ids stored as %s and %s", recipients0, recipients6)
	}
}

func TestFlagsNewestFirst(t *testing.T) {
	ctx := context.Background()
	w, _ := openTemp(t)
	flags := testFlags(30, "order")
	// Write in a shuffled order so that insertion order cannot pass for time order.
	shuffled := slices.Clone(flags)
	for i := range shuffled {
		j := (i * 7) % len(shuffled)
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	if err := w.Write(ctx, shuffled); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ limit, want int }{{0, 30}, {-1, 30}, {1, 1}, {5, 5}, {100, 30}} {
		got, err := w.Flags(ctx, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("Flags(%d) returned %d, want %d", tt.limit, len(got), tt.want)
			continue
		}
		for i, f := range got {
			if want := flags[len(flags)-1-i].FlagID; f.FlagID != want {
				t.Errorf("Flags(%d)[%d] = %s, want %s (newest first)", tt.limit, i, f.FlagID, want)
				break
			}
		}
	}
}

func TestCounts(t *testing.T) {
	ctx := context.Background()
	w, _ := openTemp(t)

	cats, err := w.CountsByCategory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cats) != 0 {
		t.Errorf("CountsByCategory of an empty store = %v", cats)
	}

	flags := testFlags(23, "counts")
	if err := w.Write(ctx, flags); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, flags[:5]); err != nil { // duplicates must not count
		t.Fatal(err)
	}
	wantCat := map[detectors.Category]int64{}
	wantSev := map[detectors.Severity]int64{}
	for _, f := range flags {
		wantCat[f.Category]++
		wantSev[f.Severity]++
	}
	cats, err = w.CountsByCategory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cats, wantCat) {
		t.Errorf("CountsByCategory = %v, want %v", cats, wantCat)
	}
	sevs, err := w.CountsBySeverity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sevs, wantSev) {
		t.Errorf("CountsBySeverity = %v, want %v", sevs, wantSev)
	}
	n, err := w.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(flags)) {
		t.Errorf("Count = %d, want %d", n, len(flags))
	}
}

func TestWriteIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	w, _ := openTemp(t)
	flags := testFlags(10, "atomic")
	flags[7].Score = math.NaN() // SQLite stores NaN as NULL: the NOT NULL constraint fails
	err := w.Write(ctx, flags)
	if err == nil {
		t.Fatal("Write with a NaN score succeeded")
	}
	if !strings.Contains(err.Error(), flags[7].FlagID) {
		t.Errorf("error %q does not name the failing flag", err)
	}
	n, err := w.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a failed Write left %d flags", n)
	}
	flags[7].Score = 0.5
	if err := w.Write(ctx, flags); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n, _ := w.Count(ctx); n != int64(len(flags)) {
		t.Errorf("after the retry Count = %d, want %d", n, len(flags))
	}
}

func TestWriteEmptyAndCancelled(t *testing.T) {
	w, _ := openTemp(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	// Empty writes are no-ops: not even the cancelled context is noticed.
	for _, flags := range [][]detectors.Flag{nil, {}} {
		if err := w.Write(cancelled, flags); err != nil {
			t.Errorf("Write(%#v) = %v", flags, err)
		}
	}
	if err := w.Write(cancelled, testFlags(3, "cancel")); err == nil {
		t.Error("Write with a cancelled context succeeded")
	}
	if n, err := w.Count(context.Background()); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0", n, err)
	}
}

// Two writers on one file (two processes, say) wait for each other's locks
// instead of failing with "database is locked".
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	w1, path := openTemp(t)
	w2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()

	const writers, batches, size = 4, 10, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for g := range writers {
		w := w1
		if g%2 == 1 {
			w = w2
		}
		wg.Go(func() {
			for b := range batches {
				// Half of every batch overlaps another goroutine's.
				flags := testFlags(size, fmt.Sprintf("c-%d-%d", g/2, b))
				if err := w.Write(ctx, flags); err != nil {
					errs <- err
				}
				if _, err := w.CountsByCategory(ctx); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n, err := w1.Count(ctx); err != nil || n != writers/2*batches*size {
		t.Errorf("Count = %d, %v; want %d", n, err, writers/2*batches*size)
	}
}

func BenchmarkWrite(b *testing.B) {
	w, _ := openTemp(b)
	ctx := context.Background()
	const batch = 1000
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		flags := testFlags(batch, fmt.Sprint("bench-", i))
		i++
		b.StartTimer()
		if err := w.Write(ctx, flags); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*i)/b.Elapsed().Seconds(), "flags/s")
}
