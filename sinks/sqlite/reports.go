package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/triage"
)

// User reports (issue 11): the reports table (migration 6), the writer of
// the reports pipeline (pipeline.ReportWriter), the console's view of
// reports, and the retention of their comments.

var _ triage.ReportStore = (*ConsoleStore)(nil)

// reportsVersion is the number of the reports migration. Migrations are
// numbered without gaps (TestOpenCreatesSchemaOnce): 5 is evidence
// encryption's.
const reportsVersion = 6

// reportsMigration creates the reports table. A report is one row keyed by report_id
// (the first write wins, as for flags); item_id is its id in the review
// queue and in verdicts. category is the flag category the report is
// about (empty for reason other); urgent is 1 for a report by a minor or
// about grooming. Verdicts keep every decision here, so the time to the
// first verdict needs no table of its own.
//
// comment is the reporter's free text, as sensitive as message text:
// sealed like evidence when comment_key_id is set (sinks.Protection.
// ApplyReport), plain text when it is empty. Retention clears it (and its
// key id) and sets comment_cleared, by reported_at. reporter_id is a
// pseudonym when pseudonymisation is on.
func reportsMigration() migration {
	return migration{reportsVersion, "create reports", []string{
		`CREATE TABLE reports (
			report_id       TEXT NOT NULL PRIMARY KEY,
			item_id         TEXT NOT NULL UNIQUE,
			reporter_id     TEXT NOT NULL,
			reporter_age    INTEGER,           -- NULL: not declared
			conversation_id TEXT NOT NULL,
			message_id      TEXT NOT NULL,     -- '': none named
			reason          TEXT NOT NULL,     -- grooming | harassment | spam | self_harm | other
			category        TEXT NOT NULL,     -- grooming | harassment | spam | '' (other)
			urgent          INTEGER NOT NULL,  -- by a minor, or about grooming
			comment         TEXT NOT NULL,     -- sealed when comment_key_id is set
			reported_at     TEXT NOT NULL,     -- RFC 3339, UTC, milliseconds
			comment_key_id  TEXT NOT NULL DEFAULT '', -- '': plain text
			comment_cleared INTEGER NOT NULL DEFAULT 0, -- 1: cleared by retention
			stored_at       TEXT NOT NULL
		)`,
		`CREATE INDEX reports_conversation ON reports (conversation_id, reported_at)`,
		`CREATE INDEX reports_urgent ON reports (urgent, conversation_id)`,
		// Retention clears comments by report time.
		`CREATE INDEX reports_reported_at ON reports (reported_at)`,
	}}
}

// WriteReports stores reports in one transaction: all of them or, on
// error, none. A report whose report_id is stored already is skipped. The
// writer's protection seals comments and pseudonymises reporter ids.
func (w *Writer) WriteReports(ctx context.Context, reports []event.Report) (err error) {
	if len(reports) == 0 {
		return nil
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin report write to %s: %w", w.path, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO reports (`+reportColumns+`, stored_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (report_id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("sqlite: prepare report insert into %s: %w", w.path, err)
	}
	defer stmt.Close()
	now := formatTime(time.Now())
	for i := range reports {
		stored, keyID, err := w.protect.ApplyReport(reports[i])
		if err != nil {
			return fmt.Errorf("sqlite: report (row %d of %d): %w", i+1, len(reports), err)
		}
		r := &stored
		var age any
		if r.ReporterAge != nil {
			age = *r.ReporterAge
		}
		if _, err := stmt.ExecContext(ctx, r.ReportID, triage.ReportItemID(r.ReportID), r.ReporterID, age, r.ConversationID,
			r.MessageID, string(r.Reason), r.Reason.Category(), r.Urgent(), r.Comment, formatTime(r.ReportedAt), keyID, false, now); err != nil {
			return fmt.Errorf("sqlite: insert report (row %d of %d): %w", i+1, len(reports), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit %d reports to %s: %w", len(reports), w.path, err)
	}
	return nil
}

// reportColumns are read and written in this order.
const reportColumns = "report_id, item_id, reporter_id, reporter_age, conversation_id, message_id, reason, category, urgent, comment, reported_at, " +
	"comment_key_id, comment_cleared"

// tierWhere is the condition on flags f of each queue tier.
var tierWhere = map[int]string{
	triage.TierUrgent:   "f.conversation_id IN (SELECT conversation_id FROM reports WHERE urgent = 1)",
	triage.TierReported: "f.conversation_id IN (SELECT conversation_id FROM reports) AND f.conversation_id NOT IN (SELECT conversation_id FROM reports WHERE urgent = 1)",
	triage.TierNone:     "f.conversation_id NOT IN (SELECT conversation_id FROM reports)",
}

// severityRank is the SQL of detectors.Severity.Rank on flags f.
const severityRank = "(CASE f.severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END)"

// reportedFlags reads the first page's flags of the reported tiers (urgent,
// then reported) after f's cursor, with the queue's other conditions
// (where, args), at most limit+1 of them. Each tier is one query along
// flags_conversation: reported conversations are few next to all flags,
// and the review index would scan every flag of a severity to find them.
func (s *ConsoleStore) reportedFlags(ctx context.Context, f triage.QueueFilter, where []string, args []any) ([]Stored, error) {
	limit := f.PageSize()
	var flags []Stored
	for _, tier := range []int{triage.TierUrgent, triage.TierReported} {
		if len(flags) > limit {
			break
		}
		if !f.After.IsZero() && tier > f.After.Tier {
			continue // before the cursor
		}
		w := append([]string{"f.mode = 'live'", tierWhere[tier]}, where...)
		a := slices.Clone(args)
		if !f.After.IsZero() && tier == f.After.Tier {
			at := formatTime(f.After.DetectedAt)
			w = append(w, "("+severityRank+" < ? OR ("+severityRank+" = ? AND (f.detected_at > ? OR (f.detected_at = ? AND f.flag_id > ?))))")
			a = append(a, f.After.Rank, f.After.Rank, at, at, f.After.FlagID)
		}
		q := "SELECT " + queueColumns + " FROM flags f INDEXED BY flags_conversation WHERE " + strings.Join(w, " AND ") +
			" ORDER BY " + severityRank + " DESC, f.detected_at, f.flag_id LIMIT ?"
		a = append(a, limit+1-len(flags))
		got, err := s.w.queryFlags(ctx, q, a...)
		if err != nil {
			return nil, err
		}
		flags = append(flags, got...)
	}
	return flags, nil
}

// undetected is the condition on reports r that no live flag matches.
const undetected = `NOT EXISTS (SELECT 1 FROM flags m WHERE m.conversation_id = r.conversation_id AND m.mode = 'live'
	AND (r.category = '' OR m.category = r.category))`

// reportItemsWhere is the condition on report items r of f's category and
// status; ok is false when no report item can match (a rule filter).
func reportItemsWhere(f triage.QueueFilter) (where []string, args []any, ok bool, err error) {
	if f.Rule != "" {
		return nil, nil, false, nil
	}
	where = []string{undetected}
	if f.Category != "" {
		where = append(where, "r.category = ?")
		args = append(args, string(f.Category))
	}
	switch f.Status {
	case "":
	case triage.Unreviewed:
		where = append(where, "NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.flag_id = r.item_id)")
	case triage.Confirmed, triage.Dismissed, triage.Escalated:
		where = append(where, "r.item_id IN (SELECT flag_id FROM "+latestVerdicts+" WHERE verdict = ?)")
		args = append(args, string(f.Status))
	default:
		return nil, nil, false, fmt.Errorf("sqlite: queue: unknown status %q", f.Status)
	}
	return where, args, true, nil
}

// withReports completes a queue page: it adds the reports' summaries to
// the flag items, reads the report items after the cursor, merges both
// into the page, and counts the report items by status.
func (s *ConsoleStore) withReports(ctx context.Context, f triage.QueueFilter, flagItems []triage.Item) (triage.QueuePage, error) {
	var page triage.QueuePage
	limit := f.PageSize()
	where, args, ok, err := reportItemsWhere(f)
	if err != nil {
		return page, err
	}
	var reportItems []triage.Item
	if ok {
		// tier and rank as one number (triage.Cursor.QueueRank).
		rank := `(CASE WHEN EXISTS (SELECT 1 FROM reports u WHERE u.conversation_id = r.conversation_id AND u.urgent = 1) THEN 16 ELSE 8 END
			+ CASE WHEN r.urgent = 1 THEN 4 ELSE 3 END)`
		q := "SELECT " + reportColumns + " FROM (SELECT r.*, " + rank + " AS qr FROM reports r WHERE " + strings.Join(where, " AND ") + ")"
		a := args
		if !f.After.IsZero() {
			at := formatTime(f.After.DetectedAt)
			q += " WHERE (qr < ? OR (qr = ? AND (reported_at > ? OR (reported_at = ? AND item_id > ?))))"
			a = append(a, f.After.QueueRank(), f.After.QueueRank(), at, at, f.After.FlagID)
		}
		q += " ORDER BY qr DESC, reported_at, item_id LIMIT ?"
		a = append(a, limit+1)
		reps, err := s.queryReports(ctx, q, a...)
		if err != nil {
			return page, err
		}
		ids := make([]string, len(reps))
		for i, r := range reps {
			ids[i] = r.ItemID
		}
		verdicts, err := s.verdictsOf(ctx, ids)
		if err != nil {
			return page, err
		}
		for _, r := range reps {
			it := r.Item(nil)
			it.Verdict = verdicts[r.ItemID]
			reportItems = append(reportItems, it)
		}
	}
	all := make([]triage.Item, 0, len(flagItems)+len(reportItems))
	all = append(append(all, flagItems...), reportItems...)
	if err := s.addReported(ctx, all); err != nil {
		return page, err
	}
	page.Items, page.Next = triage.MergeQueue(limit, all)
	if page.Items == nil {
		page.Items = []triage.Item{}
	}
	page.Undetected = map[triage.Status]int64{}
	if ok {
		cf := f
		cf.Status = ""
		where, args, _, _ := reportItemsWhere(cf)
		q := "SELECT coalesce(l.verdict, ''), count(*) FROM reports r LEFT JOIN " + latestVerdicts + " l ON l.flag_id = r.item_id WHERE " +
			strings.Join(where, " AND ") + " GROUP BY 1"
		err := s.w.each(ctx, q, args, func(rows *sql.Rows) error {
			var st string
			var n int64
			if err := rows.Scan(&st, &n); err != nil {
				return err
			}
			if st == "" {
				st = string(triage.Unreviewed)
			}
			page.Undetected[triage.Status(st)] += n
			return nil
		})
		if err != nil {
			return page, err
		}
	}
	return page, nil
}

// addReported sets the reports' summary of every item's conversation.
func (s *ConsoleStore) addReported(ctx context.Context, items []triage.Item) error {
	if len(items) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var convs []any
	for _, it := range items {
		if c := it.Flag.ConversationID; !seen[c] {
			seen[c] = true
			convs = append(convs, c)
		}
	}
	q := "SELECT " + reportColumns + " FROM reports WHERE conversation_id IN (?" + strings.Repeat(", ?", len(convs)-1) + ")"
	reps, err := s.queryReports(ctx, q, convs...)
	if err != nil {
		return err
	}
	sums := map[string]*triage.Reported{}
	for _, r := range reps {
		if sums[r.ConversationID] == nil {
			sums[r.ConversationID] = &triage.Reported{}
		}
		sums[r.ConversationID].Add(r)
	}
	for i := range items {
		items[i].Reported = sums[items[i].Flag.ConversationID]
	}
	return nil
}

// reportItem is Flag for a report item's id.
func (s *ConsoleStore) reportItem(ctx context.Context, itemID string) (triage.Item, error) {
	reps, err := s.queryReports(ctx, "SELECT "+reportColumns+" FROM reports WHERE item_id = ?", itemID)
	if err != nil {
		return triage.Item{}, err
	}
	if len(reps) == 0 {
		return triage.Item{}, triage.ErrNotFound
	}
	verdicts, err := s.verdictsOf(ctx, []string{itemID})
	if err != nil {
		return triage.Item{}, err
	}
	it := reps[0].Item(nil)
	it.Verdict = verdicts[itemID]
	items := []triage.Item{it}
	if err := s.addReported(ctx, items); err != nil {
		return triage.Item{}, err
	}
	return items[0], nil
}

// verdictsOf returns the latest verdict of each of ids that has one.
func (s *ConsoleStore) verdictsOf(ctx context.Context, ids []string) (map[string]*triage.Verdict, error) {
	out := map[string]*triage.Verdict{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := "SELECT flag_id, verdict, note, analyst, decided_at FROM verdicts WHERE flag_id IN (?" +
		strings.Repeat(", ?", len(ids)-1) + ") ORDER BY flag_id, decided_at, rowid"
	err := s.w.each(ctx, q, args, func(rows *sql.Rows) error {
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
		out[v.FlagID] = &v // oldest first: the latest stays
		return nil
	})
	return out, err
}

// ConversationReports implements triage.ReportStore.
func (s *ConsoleStore) ConversationReports(ctx context.Context, conversationID string, limit int) ([]triage.Report, error) {
	if limit <= 0 {
		return nil, nil
	}
	return s.queryReports(ctx, "SELECT "+reportColumns+" FROM reports WHERE conversation_id = ? ORDER BY reported_at DESC, report_id DESC LIMIT ?",
		conversationID, limit)
}

// positive is the latest verdicts that confirm: confirmed or escalated.
const positive = "(SELECT flag_id FROM " + latestVerdicts + " WHERE verdict IN ('confirmed', 'escalated'))"

// ReportStats implements triage.ReportStore.
func (s *ConsoleStore) ReportStats(ctx context.Context) (triage.ReportStats, error) {
	var st triage.ReportStats
	if err := s.w.db.QueryRowContext(ctx, "SELECT count(*) FROM reports").Scan(&st.Reports); err != nil {
		return st, fmt.Errorf("sqlite: count reports in %s: %w", s.w.path, err)
	}
	// Per reported conversation and category: confirmed (a report item or
	// a matching live flag with a confirming verdict), and flagged (a
	// matching live flag at all).
	match := "f.mode = 'live' AND f.conversation_id = rc.conversation_id AND (rc.category = '' OR f.category = rc.category)"
	q := `SELECT CASE rc.category WHEN '' THEN 'other' ELSE rc.category END, sum(c), sum(c AND NOT flagged) FROM (
		SELECT rc.category,
			(EXISTS (SELECT 1 FROM reports r WHERE r.conversation_id = rc.conversation_id AND r.category = rc.category AND r.item_id IN ` + positive + `)
			 OR EXISTS (SELECT 1 FROM flags f WHERE ` + match + ` AND f.flag_id IN ` + positive + `)) AS c,
			EXISTS (SELECT 1 FROM flags f WHERE ` + match + `) AS flagged
		FROM (SELECT DISTINCT conversation_id, category FROM reports) rc
	) rc GROUP BY 1`
	misses := map[string]triage.CategoryMisses{}
	err := s.w.each(ctx, q, nil, func(rows *sql.Rows) error {
		var m triage.CategoryMisses
		if err := rows.Scan(&m.Category, &m.Confirmed, &m.Missed); err != nil {
			return err
		}
		misses[m.Category] = m
		return nil
	})
	if err != nil {
		return st, err
	}
	for _, c := range triage.MissCategories {
		if m, ok := misses[c]; ok && m.Confirmed > 0 {
			st.Misses = append(st.Misses, m)
		}
	}
	// The first verdict on each report's conversation at or after it.
	q = `WITH cv AS (
			SELECT f.conversation_id, v.decided_at FROM verdicts v JOIN flags f ON f.flag_id = v.flag_id
			UNION ALL
			SELECT r.conversation_id, v.decided_at FROM verdicts v JOIN reports r ON r.item_id = v.flag_id)
		SELECT r.reported_at, (SELECT min(cv.decided_at) FROM cv WHERE cv.conversation_id = r.conversation_id AND cv.decided_at >= r.reported_at)
		FROM reports r`
	st.FirstVerdict = triage.Histogram{Bounds: triage.FirstVerdictBounds}
	err = s.w.each(ctx, q, nil, func(rows *sql.Rows) error {
		var reported string
		var first sql.NullString
		if err := rows.Scan(&reported, &first); err != nil {
			return err
		}
		if !first.Valid {
			st.Awaiting++
			return nil
		}
		a, err := parseTime(reported)
		if err != nil {
			return fmt.Errorf("report reported_at: %w", err)
		}
		b, err := parseTime(first.String)
		if err != nil {
			return fmt.Errorf("verdict decided_at: %w", err)
		}
		st.FirstVerdict.Observe(b.Sub(a).Seconds())
		return nil
	})
	if st.FirstVerdict.Counts == nil {
		st.FirstVerdict.Counts = make([]uint64, len(st.FirstVerdict.Bounds))
	}
	return st, err
}

// queryReports runs a query that selects reportColumns.
func (s *ConsoleStore) queryReports(ctx context.Context, q string, args ...any) ([]triage.Report, error) {
	var out []triage.Report
	err := s.w.each(ctx, q, args, func(rows *sql.Rows) error {
		var (
			r                triage.Report
			age              sql.NullInt64
			reason, category string
			urgent           bool
			reportedAt       string
		)
		if err := rows.Scan(&r.ReportID, &r.ItemID, &r.ReporterID, &age, &r.ConversationID, &r.MessageID, &reason, &category,
			&urgent, &r.Comment, &reportedAt, &r.CommentKeyID, &r.CommentCleared); err != nil {
			return err
		}
		if age.Valid {
			n := int(age.Int64)
			r.ReporterAge = &n
		}
		var ok bool
		if r.Reason, ok = event.ParseReportReason(reason); !ok {
			return errors.New("report " + r.ItemID + ": unknown reason " + reason)
		}
		var err error
		if r.ReportedAt, err = parseTime(reportedAt); err != nil {
			return fmt.Errorf("report %s: reported_at: %w", r.ItemID, err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// ExpireReportComments clears the comment (and its key id) of every report
// made before cutoff and marks it cleared, keeping the rest of the row: the
// report stays in the queue and the figures, its words go. It returns how
// many it cleared.
func (w *Writer) ExpireReportComments(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := w.db.ExecContext(ctx, "UPDATE reports SET comment = '', comment_key_id = '', comment_cleared = 1 WHERE reported_at < ? AND comment != ''",
		formatTime(cutoff))
	if err != nil {
		return 0, fmt.Errorf("sqlite: clear expired report comments in %s: %w", w.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: clear expired report comments in %s: %w", w.path, err)
	}
	return n, nil
}
