package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/triage"
)

// User reports (issue 11): the reports and verdict_history tables, the
// writer of the reports pipeline (pipeline.ReportWriter), the console's
// view of reports, and the retention of their comments. Every query works
// on 18.16 and current servers.

var _ triage.ReportStore = (*ConsoleStore)(nil)

// reportsVersion is the number of the reports migration. Migrations are
// numbered without gaps (TestMigrationsNumbering): 4 is evidence
// encryption's.
const reportsVersion = 5

// reportsMigration creates two tables.
//
// reports: one row per report_id (ReplacingMergeTree ordered by report_id,
// no partitions, so a report delivered twice collapses whenever it comes;
// readers use FINAL). item_id is the report's id in the review queue and
// in verdicts; category is the flag category the report is about (empty for
// reason other, which any flag matches); urgent is 1 for a report by a
// minor or about grooming; reporter_age is -1 when not declared. comment is
// the reporter's free text, as sensitive as message text: sealed like
// evidence when comment_key_id is set (sinks.Protection.ApplyReport), plain
// text when it is empty; retention clears both and sets comment_cleared.
// reporter_id is a pseudonym when pseudonymisation is on.
//
// verdict_history: every verdict with its conversation, never collapsed
// (MergeTree). verdicts keeps only the latest decision per flag once parts
// merge; the time from a report to the first verdict on its conversation
// needs them all.
func reportsMigration() migration {
	return migration{
		Version: reportsVersion,
		Name:    "create reports and verdict_history",
		Statements: func(db string, v ServerVersion) []string {
			lowCard, timeType := "String", "DateTime('UTC')"
			if v.HasLowCardinality() {
				lowCard = "LowCardinality(String)"
			}
			if v.HasDateTime64() {
				timeType = "DateTime64(3, 'UTC')"
			}
			return []string{
				"CREATE TABLE IF NOT EXISTS " + table(db, "reports") + "\n(\n" +
					"    report_id       String,\n" +
					"    item_id         String,\n" +
					"    reporter_id     String,\n" +
					"    reporter_age    Int16, -- -1: not declared\n" +
					"    conversation_id String,\n" +
					"    message_id      String,\n" +
					"    reason          " + lowCard + ",\n" +
					"    category        " + lowCard + ",\n" +
					"    urgent          UInt8,\n" +
					"    comment         String,\n" +
					"    reported_at     " + timeType + ",\n" +
					"    comment_key_id  String DEFAULT '',\n" +
					"    comment_cleared UInt8 DEFAULT 0,\n" +
					"    inserted_at     DateTime('UTC') DEFAULT now()\n" +
					")\nENGINE = ReplacingMergeTree(inserted_at)\nORDER BY report_id",
				"CREATE TABLE IF NOT EXISTS " + table(db, "verdict_history") + "\n(\n" +
					"    flag_id         String,\n" +
					"    conversation_id String,\n" +
					"    verdict         " + lowCard + ",\n" +
					"    analyst         String,\n" +
					"    decided_at      " + timeType + "\n" +
					")\nENGINE = MergeTree()\nORDER BY (conversation_id, decided_at)",
			}
		},
	}
}

// reportColumns are read and written in this order; inserted_at is left
// to its DEFAULT.
const reportColumns = "report_id, item_id, reporter_id, reporter_age, conversation_id, message_id, reason, category, urgent, comment, reported_at, " +
	"comment_key_id, comment_cleared"

// WriteReports stores reports in one INSERT: either the server accepted
// the whole batch or an error is returned. Re-written reports collapse by
// report_id. The writer's protection seals comments and pseudonymises
// reporter ids.
func (w *Writer) WriteReports(ctx context.Context, reports []event.Report) (err error) {
	if len(reports) == 0 {
		return nil
	}
	batch, err := w.conn.PrepareBatch(ctx, "INSERT INTO "+table(w.db, "reports")+" ("+reportColumns+")")
	if err != nil {
		return fmt.Errorf("clickhouse: prepare insert into %s.reports: %w", w.db, err)
	}
	defer func() {
		if cerr := batch.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("clickhouse: close report batch: %w", cerr)
		}
	}()
	for i := range reports {
		stored, keyID, err := w.protect.ApplyReport(reports[i])
		if err != nil {
			return fmt.Errorf("clickhouse: report (row %d of %d): %w", i+1, len(reports), err)
		}
		r := &stored
		age := int16(-1)
		if r.ReporterAge != nil {
			age = int16(*r.ReporterAge)
		}
		urgent := uint8(0)
		if r.Urgent() {
			urgent = 1
		}
		if err := batch.Append(r.ReportID, triage.ReportItemID(r.ReportID), r.ReporterID, age, r.ConversationID, r.MessageID,
			string(r.Reason), r.Reason.Category(), urgent, r.Comment, r.ReportedAt.UTC(), keyID, uint8(0)); err != nil {
			return fmt.Errorf("clickhouse: append report (row %d of %d): %w", i+1, len(reports), err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: send %d reports to %s.reports: %w", len(reports), w.db, err)
	}
	return nil
}

func (s *ConsoleStore) reports() string { return table(s.r.db, "reports") }

// queueRank is the SQL of triage.Cursor.QueueRank for flags: the tier of
// the flag's conversation times 8 plus the severity rank.
func (s *ConsoleStore) queueRank() string {
	return "toUInt8(multiIf(conversation_id IN (SELECT conversation_id FROM " + s.reports() + " FINAL WHERE urgent = 1), 2, " +
		"conversation_id IN (SELECT conversation_id FROM " + s.reports() + " FINAL), 1, 0) * 8 + " + severityRank + ")"
}

// undetected is the condition on reports that no live flag matches: for
// reason other (an empty category) no live flag of the conversation at
// all, else none of the report's category. Each matching flag stands for
// its category and for the empty one, so one read of flags answers both.
func (s *ConsoleStore) undetected() string {
	return "(conversation_id, category) NOT IN (SELECT conversation_id, arrayJoin([toString(category), '']) FROM " + s.flags() +
		" FINAL WHERE mode = 'live' AND conversation_id IN (SELECT conversation_id FROM " + s.reports() + " FINAL))"
}

// reportItemsWhere is the condition on report items of f's category and
// status; ok is false when no report item can match (a rule filter).
func (s *ConsoleStore) reportItemsWhere(f triage.QueueFilter) (where []string, args []any, ok bool, err error) {
	if f.Rule != "" {
		return nil, nil, false, nil
	}
	where = []string{s.undetected()}
	if f.Category != "" {
		where = append(where, "category = ?")
		args = append(args, string(f.Category))
	}
	switch f.Status {
	case "":
	case triage.Unreviewed:
		where = append(where, "item_id NOT IN (SELECT flag_id FROM "+s.verdicts()+")")
	case triage.Confirmed, triage.Dismissed, triage.Escalated:
		where = append(where, "item_id IN (SELECT flag_id FROM (SELECT flag_id, verdict FROM "+s.verdicts()+" FINAL) WHERE verdict = ?)")
		args = append(args, string(f.Status))
	default:
		return nil, nil, false, fmt.Errorf("clickhouse: queue: unknown status %q", f.Status)
	}
	return where, args, true, nil
}

// withReports completes a queue page: it adds the reports' summaries to
// the flag items, reads the report items after the cursor, merges both
// into the page, and counts the report items by status.
func (s *ConsoleStore) withReports(ctx context.Context, f triage.QueueFilter, flagItems []triage.Item) (triage.QueuePage, error) {
	var page triage.QueuePage
	limit := f.PageSize()
	where, args, ok, err := s.reportItemsWhere(f)
	if err != nil {
		return page, err
	}
	all := flagItems
	if ok {
		rank := "toUInt8(if(conversation_id IN (SELECT conversation_id FROM " + s.reports() + " FINAL WHERE urgent = 1), 16, 8) + if(urgent = 1, 4, 3))"
		if !f.After.IsZero() {
			v, err := s.r.serverVersion(ctx)
			if err != nil {
				return page, err
			}
			expr, at := timeBound(v, f.After.DetectedAt)
			where = append(where, "(qr < ? OR (qr = ? AND (reported_at > "+expr+" OR (reported_at = "+expr+" AND item_id > ?))))")
			args = append(args, f.After.QueueRank(), f.After.QueueRank(), at, at, f.After.FlagID)
		}
		q := "SELECT " + reportColumns + ", " + rank + " AS qr FROM " + s.reports() + " FINAL WHERE " + strings.Join(where, " AND ") +
			fmt.Sprintf(" ORDER BY qr DESC, reported_at, item_id LIMIT %d", limit+1)
		reps, err := s.queryReports(ctx, q, true, args...)
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
		all = make([]triage.Item, 0, len(flagItems)+len(reps))
		all = append(all, flagItems...)
		for _, r := range reps {
			it := r.Item(nil)
			it.Verdict = verdicts[r.ItemID]
			all = append(all, it)
		}
	}
	if err := s.addReported(ctx, all); err != nil {
		return page, err
	}
	page.Items, page.Next = triage.MergeQueue(limit, all)
	if page.Items == nil {
		page.Items = []triage.Item{}
	}
	page.Undetected = map[triage.Status]int64{}
	if !ok {
		return page, nil
	}
	cf := f
	cf.Status = ""
	where, args, _, _ = s.reportItemsWhere(cf)
	q := "SELECT verdict, count() FROM (SELECT item_id AS flag_id FROM " + s.reports() + " FINAL WHERE " + strings.Join(where, " AND ") +
		") AS r ANY LEFT JOIN (SELECT flag_id, verdict FROM " + s.verdicts() + " FINAL) AS v USING flag_id GROUP BY verdict"
	rows, err := s.r.conn.Query(ctx, q, args...)
	if err != nil {
		return page, fmt.Errorf("clickhouse: count report items in %s: %w", s.r.db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n uint64
		if err := rows.Scan(&st, &n); err != nil {
			return page, fmt.Errorf("clickhouse: scan report item counts: %w", err)
		}
		if st == "" {
			st = string(triage.Unreviewed)
		}
		page.Undetected[triage.Status(st)] += int64(n)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("clickhouse: count report items in %s: %w", s.r.db, err)
	}
	return page, nil
}

// addReported sets the reports' summary of every item's conversation.
func (s *ConsoleStore) addReported(ctx context.Context, items []triage.Item) error {
	if len(items) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var convs []string
	for _, it := range items {
		if c := it.Flag.ConversationID; !seen[c] {
			seen[c] = true
			convs = append(convs, c)
		}
	}
	reps, err := s.queryReports(ctx, "SELECT "+reportColumns+" FROM "+s.reports()+" FINAL WHERE has(?, conversation_id)", false, convs)
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
	ctx = settings(ctx)
	reps, err := s.queryReports(ctx, "SELECT "+reportColumns+" FROM "+s.reports()+" FINAL WHERE item_id = ?", false, itemID)
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
	items := []triage.Item{reps[0].Item(nil)}
	items[0].Verdict = verdicts[itemID]
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
	q := "SELECT flag_id, verdict, note, analyst, decided_at FROM " + s.verdicts() + " FINAL WHERE has(?, flag_id)"
	rows, err := s.r.conn.Query(ctx, q, ids)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read verdicts in %s: %w", s.r.db, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v triage.Verdict
		var verdict string
		if err := rows.Scan(&v.FlagID, &verdict, &v.Note, &v.Analyst, &v.DecidedAt); err != nil {
			return nil, fmt.Errorf("clickhouse: scan verdict: %w", err)
		}
		v.Verdict, v.DecidedAt = triage.Status(verdict), v.DecidedAt.UTC()
		out[v.FlagID] = &v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: read verdicts in %s: %w", s.r.db, err)
	}
	return out, nil
}

// recordHistory appends a recorded verdict, with its item's conversation,
// to verdict_history. conversation_id is fixed per flag_id and item_id, so
// the look-up needs no FINAL.
func (s *ConsoleStore) recordHistory(ctx context.Context, v triage.Verdict) (err error) {
	q := "SELECT conversation_id FROM " + s.flags() + " WHERE flag_id = ? LIMIT 1"
	if triage.IsReportItemID(v.FlagID) {
		q = "SELECT conversation_id FROM " + s.reports() + " WHERE item_id = ? LIMIT 1"
	}
	var conv string
	if err := s.r.conn.QueryRow(ctx, q, v.FlagID).Scan(&conv); err != nil {
		return fmt.Errorf("clickhouse: conversation of verdict on %s: %w", v.FlagID, err)
	}
	batch, err := s.r.conn.PrepareBatch(ctx, "INSERT INTO "+table(s.r.db, "verdict_history")+" (flag_id, conversation_id, verdict, analyst, decided_at)")
	if err != nil {
		return fmt.Errorf("clickhouse: prepare insert into %s.verdict_history: %w", s.r.db, err)
	}
	defer func() {
		if cerr := batch.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("clickhouse: close verdict history insert: %w", cerr)
		}
	}()
	if err := batch.Append(v.FlagID, conv, string(v.Verdict), v.Analyst, v.DecidedAt.UTC()); err != nil {
		return fmt.Errorf("clickhouse: append verdict history: %w", err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert into %s.verdict_history: %w", s.r.db, err)
	}
	return nil
}

// ConversationReports implements triage.ReportStore.
func (s *ConsoleStore) ConversationReports(ctx context.Context, conversationID string, limit int) ([]triage.Report, error) {
	if limit <= 0 {
		return nil, nil
	}
	q := "SELECT " + reportColumns + " FROM " + s.reports() + " FINAL WHERE conversation_id = ?" +
		fmt.Sprintf(" ORDER BY reported_at DESC, report_id DESC LIMIT %d", limit)
	return s.queryReports(settings(ctx), q, false, conversationID)
}

// MissesSQL is the query of confirmed reported conversations per category
// and how many no detector flagged (triage.CategoryMisses), for database
// db. The Grafana safety overview runs the same query.
//
// rc is one row per reported conversation and report category, with
// rconf = 1 when a report item of it has a confirming latest verdict. fc is
// one row per reported conversation and flag category, plus one with
// an empty category (what reason other matches: any flag), with fconf = 1 when a
// live flag of it has a confirming latest verdict. A conversation is
// confirmed when either is, and missed when it is confirmed and fc has no
// row for it.
func MissesSQL(db string) string {
	reports, flags, verdicts := table(db, "reports"), table(db, "flags"), table(db, "verdicts")
	latest := "(SELECT flag_id, argMax(verdict, decided_at) AS verdict FROM " + verdicts + " FINAL GROUP BY flag_id) AS v"
	// The join is wrapped: on 18.16 an outer alias named category would
	// replace the join key.
	return "SELECT if(c = '', 'other', c) AS category, countIf(rconf = 1 OR fconf = 1) AS confirmed, " +
		"countIf((rconf = 1 OR fconf = 1) AND flagged = 0) AS missed FROM (SELECT category AS c, rconf, fconf, flagged FROM (" +
		"SELECT conversation_id, category, max(verdict IN ('confirmed', 'escalated')) AS rconf FROM " +
		"(SELECT conversation_id, category, item_id AS flag_id FROM " + reports + " FINAL) AS r " +
		"ANY LEFT JOIN " + latest + " USING flag_id GROUP BY conversation_id, category" +
		") AS rc ANY LEFT JOIN (" +
		"SELECT conversation_id, category, toUInt8(1) AS flagged, max(fc) AS fconf FROM (" +
		"SELECT conversation_id, arrayJoin([toString(cat), '']) AS category, verdict IN ('confirmed', 'escalated') AS fc FROM " +
		"(SELECT conversation_id, category AS cat, flag_id FROM " + flags + " FINAL WHERE mode = 'live' AND " +
		"conversation_id IN (SELECT conversation_id FROM " + reports + " FINAL)) AS f " +
		"ANY LEFT JOIN " + latest + " USING flag_id" +
		") AS fl GROUP BY conversation_id, category" +
		") AS fc USING (conversation_id, category)) AS j GROUP BY category"
}

// FirstVerdictSQL is the query of the seconds from each report to the
// first verdict on its conversation at or after it (one row per answered
// report: report_id, seconds), for database db.
func FirstVerdictSQL(db string) string {
	reports, history := table(db, "reports"), table(db, "verdict_history")
	return "SELECT report_id, min(decided) - any(reported) AS seconds FROM " +
		"(SELECT report_id, conversation_id, toUInt32(toDateTime(reported_at)) AS reported FROM " + reports + " FINAL) AS r " +
		"ALL INNER JOIN (SELECT conversation_id, toUInt32(toDateTime(decided_at)) AS decided FROM " + history +
		" WHERE conversation_id IN (SELECT conversation_id FROM " + reports + " FINAL)) AS h USING conversation_id " +
		"WHERE decided >= reported GROUP BY report_id"
}

// ReportStats implements triage.ReportStore.
func (s *ConsoleStore) ReportStats(ctx context.Context) (triage.ReportStats, error) {
	ctx = settings(ctx)
	var st triage.ReportStats
	var n uint64
	if err := s.r.conn.QueryRow(ctx, "SELECT count() FROM "+s.reports()+" FINAL").Scan(&n); err != nil {
		return st, fmt.Errorf("clickhouse: count reports in %s: %w", s.r.db, err)
	}
	st.Reports = int64(n)
	misses := map[string]triage.CategoryMisses{}
	if err := s.each(ctx, MissesSQL(s.r.db), func(rows driver.Rows) error {
		var m triage.CategoryMisses
		var c, mi uint64
		if err := rows.Scan(&m.Category, &c, &mi); err != nil {
			return err
		}
		m.Confirmed, m.Missed = int64(c), int64(mi)
		misses[m.Category] = m
		return nil
	}); err != nil {
		return st, fmt.Errorf("clickhouse: reported conversations missed in %s: %w", s.r.db, err)
	}
	for _, c := range triage.MissCategories {
		if m, ok := misses[c]; ok && m.Confirmed > 0 {
			st.Misses = append(st.Misses, m)
		}
	}
	// The histogram is counted by the server: one row, however many reports.
	h := triage.Histogram{Bounds: triage.FirstVerdictBounds, Counts: make([]uint64, len(triage.FirstVerdictBounds))}
	cols := []string{"count()", "toFloat64(sum(seconds))"}
	dest := []any{&h.Count, &h.Sum}
	for i, b := range h.Bounds {
		cols = append(cols, fmt.Sprintf("countIf(seconds <= %d)", int64(b)))
		dest = append(dest, &h.Counts[i])
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM (" + FirstVerdictSQL(s.r.db) + ")"
	if err := s.r.conn.QueryRow(ctx, q).Scan(dest...); err != nil {
		return st, fmt.Errorf("clickhouse: first verdicts on reports in %s: %w", s.r.db, err)
	}
	st.FirstVerdict = h
	st.Awaiting = st.Reports - int64(st.FirstVerdict.Count)
	return st, nil
}

// each runs a query and calls fn for every row.
func (s *ConsoleStore) each(ctx context.Context, q string, fn func(driver.Rows) error, args ...any) error {
	rows, err := s.r.conn.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// queryReports runs a query that selects reportColumns (and, with rank, a
// last UInt8 column that is read and dropped).
func (s *ConsoleStore) queryReports(ctx context.Context, q string, rank bool, args ...any) ([]triage.Report, error) {
	var out []triage.Report
	err := s.each(ctx, q, func(rows driver.Rows) error {
		var (
			r                triage.Report
			age              int16
			reason, category string
			urgent, qr       uint8
			cleared          uint8
		)
		dest := []any{&r.ReportID, &r.ItemID, &r.ReporterID, &age, &r.ConversationID, &r.MessageID, &reason, &category, &urgent, &r.Comment, &r.ReportedAt,
			&r.CommentKeyID, &cleared}
		if rank {
			dest = append(dest, &qr)
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if age >= 0 {
			n := int(age)
			r.ReporterAge = &n
		}
		var ok bool
		if r.Reason, ok = event.ParseReportReason(reason); !ok {
			return fmt.Errorf("report %s: unknown reason %q", r.ItemID, reason)
		}
		r.ReportedAt, r.CommentCleared = r.ReportedAt.UTC(), cleared == 1
		out = append(out, r)
		return nil
	}, args...)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read %s.reports: %w", s.r.db, err)
	}
	return out, nil
}

// ExpireReportComments clears the comment (and its key id) of every report
// made before cutoff and sets comment_cleared, keeping the rest of the row:
// the report stays in the queue and the figures, its words go. Like
// ExpireEvidence it runs an ALTER TABLE ... UPDATE mutation, waits until
// the server has applied it, returns the number of rows cleared
// (duplicates not yet merged away included), and starts no mutation when
// there is nothing to clear.
func (w *Writer) ExpireReportComments(ctx context.Context, cutoff time.Time) (int64, error) {
	r := w.Reader()
	v, err := r.serverVersion(ctx)
	if err != nil {
		return 0, err
	}
	tbl := table(r.db, "reports")
	expr, arg := timeBound(v, cutoff)
	where := " WHERE reported_at < " + expr + " AND comment != ''"
	var n uint64
	if err := r.conn.QueryRow(ctx, "SELECT count() FROM "+tbl+where, arg).Scan(&n); err != nil {
		return 0, fmt.Errorf("clickhouse: count expired report comments in %s.reports: %w", r.db, err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := r.conn.Exec(ctx, "ALTER TABLE "+tbl+" UPDATE comment = '', comment_key_id = '', comment_cleared = 1"+where, arg); err != nil {
		return 0, fmt.Errorf("clickhouse: clear expired report comments in %s.reports: %w", r.db, err)
	}
	if err := r.waitMutations(ctx, "reports"); err != nil {
		return 0, err
	}
	return int64(n), nil
}
