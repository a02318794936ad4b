package clickhouse

// The query catalog: every statement the ClickHouse sink and the console
// store issue, for a given server version, written out so that a current
// ClickHouse engine (chDB, scripts/chcompat) can run them. CI has only
// ClickHouse 18.16; users run current releases, where the SQL chosen by
// the server version (DateTime64, LowCardinality) differs.
//
// The statements are captured by running every exported method of Writer,
// Reader and ConsoleStore over a recording connection that answers every
// query with one row of zero values (so that code after a look-up runs
// too). TestQueryCatalog fails when an exported method is not exercised,
// so a new query cannot skip the compatibility test.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/triage"
)

// CatalogEntry is one line of a catalog file (JSON lines).
type catalogEntry struct {
	Source string `json:"source"` // the Go method that issued it
	Kind   string `json:"kind"`   // ddl, insert, query, mutation
	SQL    string `json:"sql"`    // with the arguments bound as literals
}

// recordingConn is a driver.Conn that records statements instead of
// sending them. Only the methods the sink calls are implemented; any other
// panics through the nil embedded interface, which fails the test.
type recordingConn struct {
	driver.Conn
	version string
	source  string
	entries []catalogEntry
	errs    []error
}

func (c *recordingConn) record(query string, args []any) {
	sql, err := bindLiterals(query, args)
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("%s: %w", c.source, err))
		return
	}
	c.entries = append(c.entries, catalogEntry{Source: c.source, Kind: statementKind(sql), SQL: sql})
}

func statementKind(sql string) string {
	s := strings.ToUpper(strings.TrimSpace(sql))
	switch {
	case strings.HasPrefix(s, "CREATE"), strings.HasPrefix(s, "ALTER TABLE") && strings.Contains(s, " ADD COLUMN "):
		return "ddl"
	case strings.HasPrefix(s, "INSERT"):
		return "insert"
	case strings.HasPrefix(s, "ALTER"):
		return "mutation"
	}
	return "query"
}

func (c *recordingConn) Query(_ context.Context, query string, args ...any) (driver.Rows, error) {
	c.record(query, args)
	return &zeroRows{}, nil // no rows: the code that reads rows is reached through the internal calls
}

func (c *recordingConn) QueryRow(_ context.Context, query string, args ...any) driver.Row {
	c.record(query, args)
	if strings.TrimSpace(query) == "SELECT version()" {
		return zeroRow{version: c.version}
	}
	// Counts answer 1 (so that an expiry goes on to its ALTER), except those
	// of system tables: no pending mutations (so that waiting for them ends)
	// and no columns (so that every ADD COLUMN of the migrations runs).
	return zeroRow{one: !strings.Contains(query, "system.")}
}

func (c *recordingConn) Exec(_ context.Context, query string, args ...any) error {
	c.record(query, args)
	return nil
}

func (c *recordingConn) PrepareBatch(_ context.Context, query string, _ ...driver.PrepareBatchOption) (driver.Batch, error) {
	c.record(query, nil)
	return &nopBatch{}, nil
}

func (c *recordingConn) Close() error { return nil }

// zeroRows is an empty result.
type zeroRows struct{}

func (r *zeroRows) Next() bool                       { return false }
func (r *zeroRows) Scan(dest ...any) error           { return scanZero(dest, false) }
func (r *zeroRows) ScanStruct(any) error             { return errors.New("ScanStruct is not used by the sink") }
func (r *zeroRows) ColumnTypes() []driver.ColumnType { return nil }
func (r *zeroRows) Totals(...any) error              { return nil }
func (r *zeroRows) Columns() []string                { return nil }
func (r *zeroRows) Close() error                     { return nil }
func (r *zeroRows) Err() error                       { return nil }
func (r *zeroRows) HasData() bool                    { return true }

type zeroRow struct {
	version string
	one     bool // numbers scan as 1, not 0
}

func (r zeroRow) Err() error { return nil }
func (r zeroRow) Scan(dest ...any) error {
	if r.version != "" && len(dest) == 1 {
		if s, ok := dest[0].(*string); ok {
			*s = r.version
			return nil
		}
	}
	return scanZero(dest, r.one)
}
func (r zeroRow) ScanStruct(any) error { return errors.New("ScanStruct is not used by the sink") }

func scanZero(dest []any, one bool) error {
	for i, d := range dest {
		v := reflect.ValueOf(d)
		if v.Kind() != reflect.Pointer || v.IsNil() {
			return fmt.Errorf("scan destination %d is %T, not a pointer", i, d)
		}
		e := v.Elem()
		e.Set(reflect.Zero(e.Type()))
		switch e.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if one {
				e.SetInt(1)
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if one {
				e.SetUint(1)
			}
		}
	}
	return nil
}

type nopBatch struct {
	driver.Batch
	rows int
	sent bool
}

func (b *nopBatch) Append(...any) error { b.rows++; return nil }
func (b *nopBatch) Send() error         { b.sent = true; return nil }
func (b *nopBatch) Close() error        { return nil }
func (b *nopBatch) Abort() error        { return nil }
func (b *nopBatch) IsSent() bool        { return b.sent }
func (b *nopBatch) Rows() int           { return b.rows }
func (b *nopBatch) Flush() error        { return nil }
func (b *nopBatch) Columns() []column.Interface {
	return nil
}

// bindLiterals replaces each positional ? outside quotes with its argument
// as a ClickHouse literal, as the driver's client-side binding does.
func bindLiterals(query string, args []any) (string, error) {
	var b strings.Builder
	next := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case quote != 0:
			b.WriteByte(ch)
			if ch == '\\' && i+1 < len(query) {
				i++
				b.WriteByte(query[i])
			} else if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '`' || ch == '"':
			quote = ch
			b.WriteByte(ch)
		case ch == '?':
			if next >= len(args) {
				return "", fmt.Errorf("query has more ? than its %d arguments: %s", len(args), query)
			}
			lit, err := literal(args[next])
			if err != nil {
				return "", err
			}
			b.WriteString(lit)
			next++
		default:
			b.WriteByte(ch)
		}
	}
	if next != len(args) {
		return "", fmt.Errorf("query has %d ? for %d arguments: %s", next, len(args), query)
	}
	return b.String(), nil
}

func literal(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return quoteString(x), nil
	case time.Time:
		return fmt.Sprintf("toDateTime(%s, 'UTC')", quoteString(x.UTC().Format("2006-01-02 15:04:05"))), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = quoteString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'g', -1, 64), nil
	case reflect.String:
		return quoteString(rv.String()), nil
	}
	return "", fmt.Errorf("no literal form for an argument of type %T", v)
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// catalogCalls is every exported method of the three types with arguments
// that take each branch of its SQL (filters set and unset, statuses, a
// cursor). The keys are "Type.Method".
func catalogCalls(w *Writer, r *Reader, s *ConsoleStore) map[string][]func(context.Context) error {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	age := 13
	flag := detectors.Flag{
		FlagID: "f1", MessageID: "m1", ConversationID: "c1", SenderID: "u1", RecipientIDs: []string{"u2"},
		Category: detectors.Grooming, Detector: "grooming", Rule: "grooming.secrecy", RuleVersion: "1",
		Severity: detectors.High, Score: 0.8, Evidence: "evidence", SentAt: at, DetectedAt: at,
	}
	var filters []triage.QueueFilter
	for _, st := range append([]triage.Status{""}, triage.Statuses...) {
		filters = append(filters, triage.QueueFilter{Status: st},
			triage.QueueFilter{Status: st, Category: detectors.Grooming, Rule: "grooming.secrecy", Limit: 10,
				After: triage.Cursor{Tier: 1, Rank: 3, DetectedAt: at, FlagID: "f0"}})
	}
	queue := make([]func(context.Context) error, 0, len(filters))
	for _, f := range filters {
		queue = append(queue, func(ctx context.Context) error { _, err := s.Queue(ctx, f); return err })
	}
	readerFilters := []Filter{{}, {Category: detectors.Harassment, MinSeverity: detectors.Medium, ConversationID: "c1", Since: at, Until: at.Add(time.Hour), Limit: 5}}
	var flags, stored []func(context.Context) error
	for _, f := range readerFilters {
		flags = append(flags, func(ctx context.Context) error { _, err := r.Flags(ctx, f); return err })
		stored = append(stored, func(ctx context.Context) error { _, err := r.StoredFlags(ctx, f); return err })
	}
	one := func(fn func(context.Context) error) []func(context.Context) error {
		return []func(context.Context) error{fn}
	}
	return map[string][]func(context.Context) error{
		"Writer.Migrate": one(w.Migrate),
		"Writer.Write":   one(func(ctx context.Context) error { return w.Write(ctx, []detectors.Flag{flag}) }),
		"Writer.WriteReports": one(func(ctx context.Context) error {
			return w.WriteReports(ctx, []event.Report{{ReportID: "r1", ReporterID: "u2", ConversationID: "c1", MessageID: "m1",
				Reason: event.ReportGrooming, Comment: "comment", ReporterAge: &age, ReportedAt: at}})
		}),
		"Writer.ExpireEvidence":       one(func(ctx context.Context) error { _, err := w.ExpireEvidence(ctx, at); return err }),
		"Writer.ExpireReportComments": one(func(ctx context.Context) error { _, err := w.ExpireReportComments(ctx, at); return err }),
		"Writer.Reader":               one(func(context.Context) error { w.Reader(); return nil }),
		"Writer.Console":              one(func(context.Context) error { w.Console(); return nil }),
		"Writer.Close":                one(func(context.Context) error { return nil }), // closes the pool only
		"Reader.CountFlags":           one(func(ctx context.Context) error { _, err := r.CountFlags(ctx); return err }),
		"Reader.CountFlagsByDetector": one(func(ctx context.Context) error { _, err := r.CountFlagsByDetector(ctx); return err }),
		"Reader.CountDistinctAndTotal": one(func(ctx context.Context) error {
			_, _, err := r.CountDistinctAndTotal(ctx)
			return err
		}),
		"Reader.FlagIDs":     one(func(ctx context.Context) error { _, err := r.FlagIDs(ctx); return err }),
		"Reader.Flags":       flags,
		"Reader.StoredFlags": stored,
		"Reader.ReviewedFlags": one(func(ctx context.Context) error {
			_, err := r.ReviewedFlags(ctx, at, at.Add(time.Hour), 100)
			return err
		}),
		"ConsoleStore.Queue": queue,
		"ConsoleStore.Flag": one(func(ctx context.Context) error {
			if _, err := s.Flag(ctx, "f1"); err != nil && !errors.Is(err, triage.ErrNotFound) {
				return err
			}
			return nil
		}),
		"ConsoleStore.Conversation": one(func(ctx context.Context) error {
			_, err := s.Conversation(ctx, "c1", 50)
			return err
		}),
		"ConsoleStore.RecordVerdict": one(func(ctx context.Context) error {
			return s.RecordVerdict(ctx, triage.Verdict{FlagID: "f1", Verdict: triage.Confirmed, Note: "note", Analyst: "ana", DecidedAt: at})
		}),
		"ConsoleStore.RulePrecision": one(func(ctx context.Context) error { _, err := s.RulePrecision(ctx); return err }),
		"ConsoleStore.OldestUnreviewedCritical": one(func(ctx context.Context) error {
			_, _, err := s.OldestUnreviewedCritical(ctx)
			return err
		}),
		"ConsoleStore.RecordAccess": one(func(ctx context.Context) error {
			return s.RecordAccess(ctx, []triage.Access{{At: at, Actor: "ana", Role: "analyst", FlagID: "f1", ConversationID: "c1", Purpose: "flag"}})
		}),
		"ConsoleStore.RecentAccesses": one(func(ctx context.Context) error { _, err := s.RecentAccesses(ctx, 20); return err }),
		"ConsoleStore.ConversationReports": one(func(ctx context.Context) error {
			_, err := s.ConversationReports(ctx, "c1", 20)
			return err
		}),
		"ConsoleStore.ReportStats": one(func(ctx context.Context) error { _, err := s.ReportStats(ctx); return err }),
		// The look-ups that run only when an earlier query returned rows
		// (the recording connection returns none).
		"internal.withVerdicts": one(func(ctx context.Context) error {
			_, err := s.withVerdicts(ctx, []Stored{{Flag: flag}})
			return err
		}),
		"internal.verdictsOf": one(func(ctx context.Context) error { _, err := s.verdictsOf(ctx, []string{"f1", "r:r1"}); return err }),
		"internal.addReported": one(func(ctx context.Context) error {
			return s.addReported(ctx, []triage.Item{{Flag: flag}})
		}),
		"internal.reportItem": one(func(ctx context.Context) error {
			if _, err := s.reportItem(ctx, "r1"); err != nil && !errors.Is(err, triage.ErrNotFound) {
				return err
			}
			return nil
		}),
	}
}

// buildCatalog runs every call over a recording connection that reports
// server version version.
func buildCatalog(t *testing.T, version, db string) []catalogEntry {
	t.Helper()
	conn := &recordingConn{version: version}
	w := &Writer{conn: conn, db: db, insert: fmt.Sprintf("INSERT INTO %s (%s)", table(db, "flags"), flagColumns)}
	r := w.Reader()
	s := w.Console()
	calls := catalogCalls(w, r, s)
	for _, typ := range []reflect.Type{reflect.TypeOf(w), reflect.TypeOf(r), reflect.TypeOf(s)} {
		for i := 0; i < typ.NumMethod(); i++ {
			name := typ.Elem().Name() + "." + typ.Method(i).Name
			if _, ok := calls[name]; !ok {
				t.Errorf("%s is not in the query catalog: add it to catalogCalls so that its SQL is tested on current ClickHouse", name)
			}
		}
	}
	names := make([]string, 0, len(calls))
	for name := range calls {
		names = append(names, name)
	}
	sort.Strings(names)
	// Migrate first: the tables the other statements use.
	sort.SliceStable(names, func(i, j int) bool { return names[i] == "Writer.Migrate" && names[j] != "Writer.Migrate" })
	ctx := context.Background()
	for _, name := range names {
		for _, call := range calls[name] {
			conn.source = name
			if err := call(ctx); err != nil {
				t.Errorf("%s over the recording connection: %v", name, err)
			}
		}
	}
	for _, err := range conn.errs {
		t.Error(err)
	}
	return conn.entries
}

// TestQueryCatalog builds the catalog for 18.16 and for a current release
// and checks what it must hold. With GOSHAWK_SQL_CATALOG=dir it writes
// dir/sinks-<version>.jsonl for scripts/chcompat to run on chDB.
func TestQueryCatalog(t *testing.T) {
	for _, version := range []string{"18.16.1", "26.9.2.1"} {
		t.Run(version, func(t *testing.T) {
			entries := buildCatalog(t, version, "goshawk_compat")
			kinds := map[string]int{}
			sources := map[string]bool{}
			for _, e := range entries {
				kinds[e.Kind]++
				sources[e.Source] = true
			}
			for _, k := range []string{"ddl", "insert", "query", "mutation"} {
				if kinds[k] == 0 {
					t.Errorf("catalog has no %s statement: %v", k, kinds)
				}
			}
			v, _ := ParseServerVersion(version)
			var ddl strings.Builder
			for _, e := range entries {
				if e.Kind == "ddl" {
					ddl.WriteString(e.SQL)
				}
			}
			if n := strings.Count(ddl.String(), " ADD COLUMN "); n < 3 {
				t.Errorf("server %s: %d ADD COLUMN statements, want the migrations' 3 (rule_version, mode, evidence_key_id)", version, n)
			}
			if got := strings.Contains(ddl.String(), "DateTime64"); got != v.HasDateTime64() {
				t.Errorf("server %s: DDL uses DateTime64 = %v, want %v", version, got, v.HasDateTime64())
			}
			for _, src := range []string{"Writer.Write", "ConsoleStore.Queue", "ConsoleStore.RecordVerdict", "Reader.ReviewedFlags"} {
				if !sources[src] {
					t.Errorf("%s issued no statement", src)
				}
			}
			dir := os.Getenv("GOSHAWK_SQL_CATALOG")
			if dir == "" || t.Failed() {
				return
			}
			if err := writeCatalog(filepath.Join(dir, "sinks-"+version+".jsonl"), entries); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func writeCatalog(path string, entries []catalogEntry) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func TestBindLiterals(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		q    string
		args []any
		want string
		err  bool
	}{
		{q: "SELECT ? , ?", args: []any{"a'b", 3}, want: `SELECT 'a\'b' , 3`},
		{q: "WHERE x = '?' AND y = ?", args: []any{at}, want: "WHERE x = '?' AND y = toDateTime('2026-03-01 12:00:00', 'UTC')"},
		{q: "WHERE id IN ?", args: []any{[]string{"a", `b\`}}, want: `WHERE id IN ['a', 'b\\']`},
		{q: "SELECT ?", args: nil, err: true},
		{q: "SELECT 1", args: []any{1}, err: true},
		{q: "SELECT ?", args: []any{struct{}{}}, err: true},
	} {
		got, err := bindLiterals(tc.q, tc.args)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("bindLiterals(%q, %v) = %q, %v; want %q, error %v", tc.q, tc.args, got, err, tc.want, tc.err)
		}
	}
}
