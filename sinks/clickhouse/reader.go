package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/goshawk-safety/goshawk/detectors"
)

// DefaultLimit bounds Flags when Filter.Limit is zero.
const DefaultLimit = 1000

// Reader reads flags back as analysts see them: each flag_id once, even
// before ReplacingMergeTree has merged away a duplicate (queries use FINAL).
type Reader struct {
	conn driver.Conn
	db   string

	mu      sync.Mutex
	version *ServerVersion // read on first need
}

// NewReader reads from database over conn; the caller keeps ownership of
// conn.
func NewReader(conn driver.Conn, database string) (*Reader, error) {
	if err := checkDatabase(database); err != nil {
		return nil, err
	}
	return &Reader{conn: conn, db: database}, nil
}

func (r *Reader) flags() string { return table(r.db, "flags") }

// serverVersion asks the server once and remembers the answer.
func (r *Reader) serverVersion(ctx context.Context) (ServerVersion, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.version == nil {
		v, err := QueryServerVersion(ctx, r.conn)
		if err != nil {
			return ServerVersion{}, err
		}
		r.version = &v
	}
	return *r.version, nil
}

// timeBound returns the SQL expression and argument that compare sent_at
// with t exactly: t rounded up to the column's precision (stored values
// are cut down to it), as a constant of the column's own type. Comparing a
// DateTime64 column with a DateTime constant is avoided: recent servers
// prune parts wrongly for it, dropping rows with a fraction of a second.
func timeBound(v ServerVersion, t time.Time) (expr string, arg string) {
	if v.HasDateTime64() {
		return "toDateTime64(?, 3, 'UTC')", ceilTime(t, time.Millisecond).Format("2006-01-02 15:04:05.000")
	}
	return "toDateTime(?, 'UTC')", ceilTime(t, time.Second).Format("2006-01-02 15:04:05")
}

// ceilTime rounds t up to a multiple of d, in UTC.
func ceilTime(t time.Time, d time.Duration) time.Time {
	c := t.UTC().Truncate(d)
	if c.Before(t) {
		c = c.Add(d)
	}
	return c
}

// CountFlags returns the number of flags readers see (distinct flag_ids).
func (r *Reader) CountFlags(ctx context.Context) (uint64, error) {
	var n uint64
	if err := r.conn.QueryRow(ctx, "SELECT count() FROM "+r.flags()+" FINAL").Scan(&n); err != nil {
		return 0, fmt.Errorf("clickhouse: count %s.flags: %w", r.db, err)
	}
	return n, nil
}

// CountFlagsByDetector returns the number of flags readers see, per
// detector.
func (r *Reader) CountFlagsByDetector(ctx context.Context) (map[string]uint64, error) {
	rows, err := r.conn.Query(ctx, "SELECT detector, count() FROM "+r.flags()+" FINAL GROUP BY detector")
	if err != nil {
		return nil, fmt.Errorf("clickhouse: count %s.flags by detector: %w", r.db, err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var d string
		var n uint64
		if err := rows.Scan(&d, &n); err != nil {
			return nil, fmt.Errorf("clickhouse: count %s.flags by detector: %w", r.db, err)
		}
		out[d] = n
	}
	return out, rows.Err()
}

// CountDistinctAndTotal returns the number of distinct flag_ids and the
// number of rows stored, duplicates not yet merged away included. Tests use
// it to tell "stored twice" from "seen twice".
func (r *Reader) CountDistinctAndTotal(ctx context.Context) (distinct, total uint64, err error) {
	q := "SELECT uniqExact(flag_id), count() FROM " + r.flags()
	if err := r.conn.QueryRow(ctx, q).Scan(&distinct, &total); err != nil {
		return 0, 0, fmt.Errorf("clickhouse: count rows of %s.flags: %w", r.db, err)
	}
	return distinct, total, nil
}

// FlagIDs returns every flag_id readers see, in ascending order.
func (r *Reader) FlagIDs(ctx context.Context) ([]string, error) {
	rows, err := r.conn.Query(ctx, "SELECT flag_id FROM "+r.flags()+" FINAL ORDER BY flag_id")
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read flag ids of %s.flags: %w", r.db, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("clickhouse: scan flag id: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: read flag ids of %s.flags: %w", r.db, err)
	}
	return ids, nil
}

// Filter selects flags. Zero fields select everything.
type Filter struct {
	Category       detectors.Category
	MinSeverity    detectors.Severity // this severity and above
	ConversationID string
	// Bounds on sent_at, Since inclusive and Until exclusive, compared with
	// sent_at as stored: whole seconds on 18.x, milliseconds from 20.1.
	Since, Until time.Time
	Limit        int // at most this many; 0 means DefaultLimit
}

// Flags returns the flags that match f, newest sent_at first (ties by
// flag_id), each flag once. Evidence is returned as stored: sealed text for
// rows written with a keyring (see StoredFlags for the key ids).
func (r *Reader) Flags(ctx context.Context, f Filter) ([]detectors.Flag, error) {
	stored, err := r.StoredFlags(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]detectors.Flag, len(stored))
	for i, s := range stored {
		out[i] = s.Flag
	}
	return out, nil
}

// Stored is a flag as stored, with the id of the key that sealed its
// evidence ("" for plain or cleared evidence).
type Stored struct {
	Flag          detectors.Flag
	EvidenceKeyID string
}

// StoredFlags is Flags with the evidence key ids.
func (r *Reader) StoredFlags(ctx context.Context, f Filter) ([]Stored, error) {
	var where []string
	var args []any
	if f.Category != "" {
		where = append(where, "category = ?")
		args = append(args, string(f.Category))
	}
	if f.MinSeverity != "" {
		rank := f.MinSeverity.Rank()
		if rank == 0 {
			return nil, fmt.Errorf("clickhouse: filter: unknown severity %q", f.MinSeverity)
		}
		sev := detectors.Severities[rank-1:]
		where = append(where, "severity IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(sev)), ", ")+")")
		for _, s := range sev {
			args = append(args, string(s))
		}
	}
	if f.ConversationID != "" {
		where = append(where, "conversation_id = ?")
		args = append(args, f.ConversationID)
	}
	if !f.Since.IsZero() || !f.Until.IsZero() {
		v, err := r.serverVersion(ctx)
		if err != nil {
			return nil, err
		}
		if !f.Since.IsZero() {
			expr, arg := timeBound(v, f.Since)
			where = append(where, "sent_at >= "+expr)
			args = append(args, arg)
		}
		if !f.Until.IsZero() {
			expr, arg := timeBound(v, f.Until)
			where = append(where, "sent_at < "+expr)
			args = append(args, arg)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	q := "SELECT " + flagColumns + " FROM " + r.flags() + " FINAL"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY sent_at DESC, flag_id LIMIT %d", limit)

	rows, err := r.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: query %s.flags: %w", r.db, err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var (
			fl                       detectors.Flag
			category, severity, mode string
			keyID                    string
		)
		if err := rows.Scan(
			&fl.FlagID,
			&fl.MessageID,
			&fl.ConversationID,
			&fl.SenderID,
			&fl.RecipientIDs,
			&category,
			&fl.Detector,
			&fl.Rule,
			&fl.RuleVersion,
			&mode,
			&severity,
			&fl.Score,
			&fl.Evidence,
			&fl.SentAt,
			&fl.DetectedAt,
			&keyID,
		); err != nil {
			return nil, fmt.Errorf("clickhouse: scan flag: %w", err)
		}
		fl.Category, fl.Severity, fl.Mode = detectors.Category(category), detectors.Severity(severity), detectors.Mode(mode)
		if fl.RecipientIDs == nil {
			fl.RecipientIDs = []string{}
		}
		fl.SentAt, fl.DetectedAt = fl.SentAt.UTC(), fl.DetectedAt.UTC()
		out = append(out, Stored{Flag: fl, EvidenceKeyID: keyID})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: read %s.flags: %w", r.db, err)
	}
	return out, nil
}
