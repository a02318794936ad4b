package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/triage"
)

// ConsoleStore is the triage console's view of the file: live flags with
// their latest verdicts, and the verdicts analysts record. Every decision is
// a row of verdicts; the latest per flag (by decided_at, then rowid, so the
// one recorded last wins a tie) is the flag's verdict.
type ConsoleStore struct {
	w *Writer
}

var _ triage.Store = (*ConsoleStore)(nil)

// Console returns the console's store over the writer's file (its indexes
// are created by migration 4). It must not be used after the writer is
// closed.
func (w *Writer) Console() *ConsoleStore { return &ConsoleStore{w: w} }

// queueColumns are flagColumns qualified with the alias f.
var queueColumns = "f." + strings.ReplaceAll(flagColumns, ", ", ", f.")

// latestVerdicts is a subquery of each flag's latest verdict.
const latestVerdicts = `(SELECT flag_id, verdict FROM (
	SELECT flag_id, verdict, row_number() OVER (PARTITION BY flag_id ORDER BY decided_at DESC, rowid DESC) AS rn
	FROM verdicts) WHERE rn = 1)`

// Queue implements triage.Store. It reads the flags of reported
// conversations first (reportedFlags), then each severity in turn, most
// severe first, in (detected_at, flag_id) order along flags_review_queue,
// and stops when the page is full; withReports merges the report items in.
func (s *ConsoleStore) Queue(ctx context.Context, f triage.QueueFilter) (triage.QueuePage, error) {
	limit := f.PageSize()
	var page triage.QueuePage
	var where []string
	var args []any
	if f.Category != "" {
		where = append(where, "f.category = ?")
		args = append(args, string(f.Category))
	}
	if f.Rule != "" {
		where = append(where, "f.rule = ?")
		args = append(args, f.Rule)
	}
	switch f.Status {
	case "":
	case triage.Unreviewed:
		where = append(where, "NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.flag_id = f.flag_id)")
	case triage.Confirmed, triage.Dismissed, triage.Escalated:
		where = append(where, "f.flag_id IN (SELECT flag_id FROM "+latestVerdicts+" WHERE verdict = ?)")
		args = append(args, string(f.Status))
	default:
		return page, fmt.Errorf("sqlite: queue: unknown status %q", f.Status)
	}
	// Reported conversations first (reports.go), then each severity in turn.
	flags, err := s.reportedFlags(ctx, f, where, args)
	if err != nil {
		return page, err
	}
	for r := len(detectors.Severities); r >= 1 && len(flags) <= limit; r-- {
		if !f.After.IsZero() && f.After.Tier == triage.TierNone && r > f.After.Rank {
			continue
		}
		sev := detectors.Severities[r-1]
		w := append([]string{"f.mode = 'live'", "f.severity = ?", tierWhere[triage.TierNone]}, where...)
		a := append([]any{string(sev)}, args...)
		if !f.After.IsZero() && f.After.Tier == triage.TierNone && r == f.After.Rank {
			at := formatTime(f.After.DetectedAt)
			w = append(w, "(f.detected_at > ? OR (f.detected_at = ? AND f.flag_id > ?))")
			a = append(a, at, at, f.After.FlagID)
		}
		q := "SELECT " + queueColumns + " FROM flags f WHERE " + strings.Join(w, " AND ") +
			" ORDER BY f.detected_at, f.flag_id LIMIT ?"
		a = append(a, limit+1-len(flags))
		got, err := s.w.queryFlags(ctx, q, a...)
		if err != nil {
			return page, err
		}
		flags = append(flags, got...)
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

// counts counts live flags by severity and status: all of them from the
// index, the decided ones from the latest verdicts, the rest unreviewed.
func (s *ConsoleStore) counts(ctx context.Context, f triage.QueueFilter) (triage.Counts, error) {
	where := "f.mode = 'live'"
	var args []any
	if f.Category != "" {
		where += " AND f.category = ?"
		args = append(args, string(f.Category))
	}
	if f.Rule != "" {
		where += " AND f.rule = ?"
		args = append(args, f.Rule)
	}
	counts := triage.Counts{}
	total := map[detectors.Severity]int64{}
	err := s.w.each(ctx, "SELECT f.severity, count(*) FROM flags f WHERE "+where+" GROUP BY f.severity", args,
		func(rows *sql.Rows) error {
			var sev string
			var n int64
			if err := rows.Scan(&sev, &n); err != nil {
				return err
			}
			total[detectors.Severity(sev)] = n
			return nil
		})
	if err != nil {
		return nil, err
	}
	q := "SELECT f.severity, l.verdict, count(*) FROM " + latestVerdicts + " l JOIN flags f ON f.flag_id = l.flag_id WHERE " +
		where + " GROUP BY f.severity, l.verdict"
	err = s.w.each(ctx, q, args, func(rows *sql.Rows) error {
		var sev, verdict string
		var n int64
		if err := rows.Scan(&sev, &verdict, &n); err != nil {
			return err
		}
		counts.Add(detectors.Severity(sev), triage.Status(verdict), n)
		total[detectors.Severity(sev)] -= n
		return nil
	})
	if err != nil {
		return nil, err
	}
	for sev, n := range total {
		counts.Add(sev, triage.Unreviewed, n)
	}
	return counts, nil
}

// Flag implements triage.Store.
func (s *ConsoleStore) Flag(ctx context.Context, flagID string) (triage.Item, error) {
	if triage.IsReportItemID(flagID) {
		return s.reportItem(ctx, flagID)
	}
	flags, err := s.w.queryFlags(ctx, "SELECT "+queueColumns+" FROM flags f WHERE f.flag_id = ? AND f.mode = 'live'", flagID)
	if err != nil {
		return triage.Item{}, err
	}
	if len(flags) == 0 {
		return triage.Item{}, triage.ErrNotFound
	}
	items, err := s.withVerdicts(ctx, flags)
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
	flags, err := s.w.queryFlags(ctx, "SELECT "+queueColumns+" FROM flags f WHERE f.conversation_id = ? AND f.mode = 'live'"+
		" ORDER BY f.sent_at DESC, f.flag_id DESC LIMIT ?", conversationID, limit)
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(flags)-1; i < j; i, j = i+1, j-1 {
		flags[i], flags[j] = flags[j], flags[i]
	}
	return s.withVerdicts(ctx, flags)
}

// RecordVerdict implements triage.Store.
func (s *ConsoleStore) RecordVerdict(ctx context.Context, v triage.Verdict) error {
	if err := v.Validate(); err != nil {
		return err
	}
	_, err := s.w.db.ExecContext(ctx, "INSERT INTO verdicts (flag_id, verdict, note, analyst, decided_at) VALUES (?, ?, ?, ?, ?)",
		v.FlagID, string(v.Verdict), v.Note, v.Analyst, formatTime(v.DecidedAt))
	if err != nil {
		return fmt.Errorf("sqlite: record verdict in %s: %w", s.w.path, err)
	}
	return nil
}

// RulePrecision implements triage.Store.
func (s *ConsoleStore) RulePrecision(ctx context.Context) ([]triage.RuleStats, error) {
	q := "SELECT f.rule, " +
		"sum(l.verdict = 'confirmed'), sum(l.verdict = 'dismissed'), sum(l.verdict = 'escalated') " +
		"FROM " + latestVerdicts + " l JOIN flags f ON f.flag_id = l.flag_id WHERE f.mode = 'live' " +
		"GROUP BY f.rule ORDER BY f.rule"
	var out []triage.RuleStats
	err := s.w.each(ctx, q, nil, func(rows *sql.Rows) error {
		var r triage.RuleStats
		if err := rows.Scan(&r.Rule, &r.Confirmed, &r.Dismissed, &r.Escalated); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// OldestUnreviewedCritical implements triage.Store.
func (s *ConsoleStore) OldestUnreviewedCritical(ctx context.Context) (time.Time, bool, error) {
	var at string
	err := s.w.db.QueryRowContext(ctx, "SELECT f.detected_at FROM flags f WHERE f.mode = 'live' AND f.severity = 'critical'"+
		" AND NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.flag_id = f.flag_id) ORDER BY f.detected_at LIMIT 1").Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: oldest unreviewed critical flag in %s: %w", s.w.path, err)
	}
	t, err := parseTime(at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: oldest unreviewed critical flag: detected_at: %w", err)
	}
	return t, true, nil
}

// withVerdicts pairs flags with their latest verdicts.
func (s *ConsoleStore) withVerdicts(ctx context.Context, flags []Stored) ([]triage.Item, error) {
	items := make([]triage.Item, len(flags))
	if len(flags) == 0 {
		return items, nil
	}
	ids := make([]any, len(flags))
	for i, f := range flags {
		items[i].Flag, items[i].EvidenceKeyID = f.Flag, f.EvidenceKeyID
		ids[i] = f.Flag.FlagID
	}
	latest := map[string]*triage.Verdict{}
	q := "SELECT flag_id, verdict, note, analyst, decided_at FROM verdicts WHERE flag_id IN (?" +
		strings.Repeat(", ?", len(ids)-1) + ") ORDER BY flag_id, decided_at, rowid"
	err := s.w.each(ctx, q, ids, func(rows *sql.Rows) error {
		var v triage.Verdict
		var verdict, at string
		if err := rows.Scan(&v.FlagID, &verdict, &v.Note, &v.Analyst, &at); err != nil {
			return err
		}
		t, err := parseTime(at)
		if err != nil {
			return fmt.Errorf("verdict on %s: decided_at: %w", v.FlagID, err)
		}
		v.Verdict, v.DecidedAt = triage.Status(verdict), t
		latest[v.FlagID] = &v // rows come oldest first: the last one stays
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Verdict = latest[items[i].Flag.FlagID]
	}
	return items, nil
}

// each runs a query and calls fn for every row.
func (w *Writer) each(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := w.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite: query %s: %w", w.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("sqlite: read %s: %w", w.path, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read %s: %w", w.path, err)
	}
	return nil
}

// queryFlags runs a query that selects flagColumns.
func (w *Writer) queryFlags(ctx context.Context, q string, args ...any) ([]Stored, error) {
	var out []Stored
	err := w.each(ctx, q, args, func(rows *sql.Rows) error {
		var (
			f                               detectors.Flag
			recipients, category, sev, mode string
			sentAt, detectedAt, keyID       string
		)
		if err := rows.Scan(&f.FlagID, &f.MessageID, &f.ConversationID, &f.SenderID, &recipients,
			&category, &f.Detector, &f.Rule, &f.RuleVersion, &mode, &sev, &f.Score, &f.Evidence, &sentAt, &detectedAt, &keyID); err != nil {
			return err
		}
		f.Category, f.Severity, f.Mode = detectors.Category(category), detectors.Severity(sev), detectors.Mode(mode)
		if err := json.Unmarshal([]byte(recipients), &f.RecipientIDs); err != nil {
			return fmt.Errorf("flag %s: recipient_ids: %w", f.FlagID, err)
		}
		if f.RecipientIDs == nil {
			f.RecipientIDs = []string{}
		}
		var err error
		if f.SentAt, err = parseTime(sentAt); err != nil {
			return fmt.Errorf("flag %s: sent_at: %w", f.FlagID, err)
		}
		if f.DetectedAt, err = parseTime(detectedAt); err != nil {
			return fmt.Errorf("flag %s: detected_at: %w", f.FlagID, err)
		}
		out = append(out, Stored{Flag: f, EvidenceKeyID: keyID})
		return nil
	})
	return out, err
}
