package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/triage"
)

// ConsoleStore is the triage console's view of the database: live flags
// with their latest verdicts, and the verdicts analysts record.
//
// verdicts is a ReplacingMergeTree(decided_at) ordered by flag_id, so
// "latest verdict" is what SELECT ... FINAL returns (of two rows with the
// same decided_at, the one inserted last). Every query that filters a
// FINAL read on a column that can change between versions of a row
// (verdict, severity, mode) runs with optimize_move_to_prewhere = 0: a
// condition moved to PREWHERE is applied before FINAL collapses the
// versions, which would let an old verdict match. All queries work on
// 18.16 (no LowCardinality, DateTime in whole seconds) and current
// servers.
type ConsoleStore struct {
	r *Reader
}

var _ triage.Store = (*ConsoleStore)(nil)

// NewConsoleStore returns the console's store of database over conn; the
// caller keeps ownership of conn.
func NewConsoleStore(conn driver.Conn, database string) (*ConsoleStore, error) {
	r, err := NewReader(conn, database)
	if err != nil {
		return nil, err
	}
	return &ConsoleStore{r: r}, nil
}

// Console returns the console's store over the writer's connection pool. It
// must not be used after the writer is closed.
func (w *Writer) Console() *ConsoleStore { return &ConsoleStore{r: w.Reader()} }

func (s *ConsoleStore) flags() string    { return table(s.r.db, "flags") }
func (s *ConsoleStore) verdicts() string { return table(s.r.db, "verdicts") }

// settings returns ctx with the settings every console query runs with.
func settings(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
		"optimize_move_to_prewhere": 0,
	}))
}

// severityRank is the SQL of detectors.Severity.Rank.
const severityRank = "multiIf(severity = 'critical', 4, severity = 'high', 3, severity = 'medium', 2, severity = 'low', 1, 0)"

// Queue implements triage.Store: one query for the page (flag_id order
// within a tier, severity and detected_at; reports.go), one for the page's
// verdicts, one for the counts, and withReports for the report items.
func (s *ConsoleStore) Queue(ctx context.Context, f triage.QueueFilter) (triage.QueuePage, error) {
	ctx = settings(ctx)
	var page triage.QueuePage
	limit := f.PageSize()
	where, args := s.liveWhere(f)
	switch f.Status {
	case "":
	case triage.Unreviewed:
		where = append(where, "flag_id NOT IN (SELECT flag_id FROM "+s.verdicts()+")")
	case triage.Confirmed, triage.Dismissed, triage.Escalated:
		where = append(where, "flag_id IN (SELECT flag_id FROM (SELECT flag_id, verdict FROM "+s.verdicts()+" FINAL) WHERE verdict = ?)")
		args = append(args, string(f.Status))
	default:
		return page, fmt.Errorf("clickhouse: queue: unknown status %q", f.Status)
	}
	if !f.After.IsZero() {
		v, err := s.r.serverVersion(ctx)
		if err != nil {
			return page, err
		}
		expr, at := timeBound(v, f.After.DetectedAt)
		where = append(where, "(queue_rank < ? OR (queue_rank = ? AND (detected_at > "+expr+
			" OR (detected_at = "+expr+" AND flag_id > ?))))")
		args = append(args, f.After.QueueRank(), f.After.QueueRank(), at, at, f.After.FlagID)
	}
	// One read of the page with every column: on 18.16 a narrow read of the
	// ids followed by a second FINAL read of the page's rows is slower.
	q := "SELECT " + flagColumns + ", " + s.queueRank() + " AS queue_rank FROM " + s.flags() + " FINAL WHERE " +
		strings.Join(where, " AND ") + fmt.Sprintf(" ORDER BY queue_rank DESC, detected_at, flag_id LIMIT %d", limit+1)
	flags, err := s.queryFlags(ctx, q, true, args...)
	if err != nil {
		return page, err
	}
	items, err := s.withVerdicts(ctx, flags)
	if err != nil {
		return page, err
	}
	// Reports: the conversations' summaries, the report items, the page.
	if page, err = s.withReports(ctx, f, items); err != nil {
		return page, err
	}
	page.Counts, err = s.counts(ctx, f)
	return page, err
}

// liveWhere is the condition for live flags of f's category and rule.
func (s *ConsoleStore) liveWhere(f triage.QueueFilter) ([]string, []any) {
	where := []string{"mode = 'live'"}
	var args []any
	if f.Category != "" {
		where = append(where, "category = ?")
		args = append(args, string(f.Category))
	}
	if f.Rule != "" {
		where = append(where, "rule = ?")
		args = append(args, f.Rule)
	}
	return where, args
}

func (s *ConsoleStore) counts(ctx context.Context, f triage.QueueFilter) (triage.Counts, error) {
	where, args := s.liveWhere(f)
	q := "SELECT severity, verdict, count() FROM (SELECT flag_id, severity FROM " + s.flags() + " FINAL WHERE " +
		strings.Join(where, " AND ") + ") AS f ANY LEFT JOIN (SELECT flag_id, verdict FROM " + s.verdicts() +
		" FINAL) AS v USING flag_id GROUP BY severity, verdict" // current servers require the aliases
	rows, err := s.r.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: count the review queue in %s: %w", s.r.db, err)
	}
	defer rows.Close()
	counts := triage.Counts{}
	for rows.Next() {
		var sev, verdict string
		var n uint64
		if err := rows.Scan(&sev, &verdict, &n); err != nil {
			return nil, fmt.Errorf("clickhouse: scan queue counts: %w", err)
		}
		st := triage.Status(verdict)
		if verdict == "" {
			st = triage.Unreviewed
		}
		counts.Add(detectors.Severity(sev), st, int64(n))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: count the review queue in %s: %w", s.r.db, err)
	}
	return counts, nil
}

// Flag implements triage.Store.
func (s *ConsoleStore) Flag(ctx context.Context, flagID string) (triage.Item, error) {
	if triage.IsReportItemID(flagID) {
		return s.reportItem(ctx, flagID)
	}
	ctx = settings(ctx)
	flags, err := s.queryFlags(ctx, "SELECT "+flagColumns+" FROM "+s.flags()+" FINAL WHERE flag_id = ? AND mode = 'live'", false, flagID)
	if err != nil {
		return triage.Item{}, err
	}
	if len(flags) == 0 {
		return triage.Item{}, triage.ErrNotFound
	}
	items, err := s.withVerdicts(ctx, flags[:1])
	if err != nil {
		return triage.Item{}, err
	}
	return items[0], nil
}

// Conversation implements triage.Store.
func (s *ConsoleStore) Conversation(ctx context.Context, conversationID string, limit int) ([]triage.Item, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx = settings(ctx)
	q := "SELECT " + flagColumns + " FROM " + s.flags() + " FINAL WHERE conversation_id = ? AND mode = 'live'" +
		fmt.Sprintf(" ORDER BY sent_at DESC, flag_id DESC LIMIT %d", limit)
	flags, err := s.queryFlags(ctx, q, false, conversationID)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(flags)-1; i < j; i, j = i+1, j-1 {
		flags[i], flags[j] = flags[j], flags[i]
	}
	return s.withVerdicts(ctx, flags)
}

// RecordVerdict implements triage.Store with a one-row INSERT (verdicts
// come at human pace).
func (s *ConsoleStore) RecordVerdict(ctx context.Context, v triage.Verdict) (err error) {
	if err := v.Validate(); err != nil {
		return err
	}
	batch, err := s.r.conn.PrepareBatch(ctx, "INSERT INTO "+s.verdicts()+" (flag_id, verdict, note, analyst, decided_at)")
	if err != nil {
		return fmt.Errorf("clickhouse: prepare insert into %s.verdicts: %w", s.r.db, err)
	}
	defer func() {
		if cerr := batch.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("clickhouse: close verdict insert: %w", cerr)
		}
	}()
	if err := batch.Append(v.FlagID, string(v.Verdict), v.Note, v.Analyst, v.DecidedAt.UTC()); err != nil {
		return fmt.Errorf("clickhouse: append verdict: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert verdict into %s.verdicts: %w", s.r.db, err)
	}
	return s.recordHistory(ctx, v) // reports.go
}

// RulePrecision implements triage.Store. The verdicts (few) are the right
// side of the join, so the hash table stays small with many flags.
func (s *ConsoleStore) RulePrecision(ctx context.Context) ([]triage.RuleStats, error) {
	ctx = settings(ctx)
	q := "SELECT rule, countIf(verdict = 'confirmed'), countIf(verdict = 'dismissed'), countIf(verdict = 'escalated') FROM " +
		"(SELECT flag_id, rule FROM " + s.flags() + " FINAL WHERE mode = 'live') AS f " +
		"ANY INNER JOIN (SELECT flag_id, verdict FROM " + s.verdicts() + " FINAL) AS v USING flag_id " +
		"GROUP BY rule ORDER BY rule"
	rows, err := s.r.conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: rule precision in %s: %w", s.r.db, err)
	}
	defer rows.Close()
	var out []triage.RuleStats
	for rows.Next() {
		var r triage.RuleStats
		var c, d, e uint64
		if err := rows.Scan(&r.Rule, &c, &d, &e); err != nil {
			return nil, fmt.Errorf("clickhouse: scan rule precision: %w", err)
		}
		r.Confirmed, r.Dismissed, r.Escalated = int64(c), int64(d), int64(e)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: rule precision in %s: %w", s.r.db, err)
	}
	return out, nil
}

// OldestUnreviewedCritical implements triage.Store.
func (s *ConsoleStore) OldestUnreviewedCritical(ctx context.Context) (time.Time, bool, error) {
	ctx = settings(ctx)
	q := "SELECT min(detected_at), count() FROM " + s.flags() + " FINAL WHERE mode = 'live' AND severity = 'critical'" +
		" AND flag_id NOT IN (SELECT flag_id FROM " + s.verdicts() + ")"
	var at time.Time
	var n uint64
	if err := s.r.conn.QueryRow(ctx, q).Scan(&at, &n); err != nil {
		return time.Time{}, false, fmt.Errorf("clickhouse: oldest unreviewed critical flag in %s: %w", s.r.db, err)
	}
	if n == 0 {
		return time.Time{}, false, nil
	}
	return at.UTC(), true, nil
}

// withVerdicts pairs flags with their latest verdicts (flag_id is the
// verdicts' sorting key, so FINAL with this condition reads little).
func (s *ConsoleStore) withVerdicts(ctx context.Context, flags []Stored) ([]triage.Item, error) {
	items := make([]triage.Item, len(flags))
	if len(flags) == 0 {
		return items, nil
	}
	ids := make([]string, len(flags))
	for i, f := range flags {
		items[i].Flag, items[i].EvidenceKeyID = f.Flag, f.EvidenceKeyID
		ids[i] = f.Flag.FlagID
	}
	q := "SELECT flag_id, verdict, note, analyst, decided_at FROM " + s.verdicts() + " FINAL WHERE has(?, flag_id)"
	rows, err := s.r.conn.Query(ctx, q, ids)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read verdicts in %s: %w", s.r.db, err)
	}
	defer rows.Close()
	latest := map[string]*triage.Verdict{}
	for rows.Next() {
		var v triage.Verdict
		var verdict string
		if err := rows.Scan(&v.FlagID, &verdict, &v.Note, &v.Analyst, &v.DecidedAt); err != nil {
			return nil, fmt.Errorf("clickhouse: scan verdict: %w", err)
		}
		v.Verdict, v.DecidedAt = triage.Status(verdict), v.DecidedAt.UTC()
		latest[v.FlagID] = &v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: read verdicts in %s: %w", s.r.db, err)
	}
	for i := range items {
		items[i].Verdict = latest[items[i].Flag.FlagID]
	}
	return items, nil
}

// queryFlags runs a query selecting flagColumns (and, with rank, a last
// UInt8 queue rank column that is read and dropped).
func (s *ConsoleStore) queryFlags(ctx context.Context, q string, rank bool, args ...any) ([]Stored, error) {
	rows, err := s.r.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: query %s.flags: %w", s.r.db, err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var (
			fl                       detectors.Flag
			category, severity, mode string
			keyID                    string
			r                        uint8
		)
		dest := []any{&fl.FlagID, &fl.MessageID, &fl.ConversationID, &fl.SenderID, &fl.RecipientIDs,
			&category, &fl.Detector, &fl.Rule, &fl.RuleVersion, &mode, &severity, &fl.Score, &fl.Evidence,
			&fl.SentAt, &fl.DetectedAt, &keyID}
		if rank {
			dest = append(dest, &r)
		}
		if err := rows.Scan(dest...); err != nil {
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
		return nil, fmt.Errorf("clickhouse: read %s.flags: %w", s.r.db, err)
	}
	return out, nil
}
