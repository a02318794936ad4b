package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

// Reviewed is a live flag with the analysts' latest verdict on it.
type Reviewed struct {
	Flag          detectors.Flag
	EvidenceKeyID string // "" when Flag.Evidence is plain text (or cleared)
	Verdict       string // confirmed or dismissed
}

// ReviewedFlags returns the live flags sent in [since, until) whose latest
// verdict is confirmed or dismissed, oldest first, at most limit of them.
// It is what a candidate rule is scored against (goshawk rules score).
func (r *Reader) ReviewedFlags(ctx context.Context, since, until time.Time, limit int) ([]Reviewed, error) {
	v, err := r.serverVersion(ctx)
	if err != nil {
		return nil, err
	}
	sinceExpr, sinceArg := timeBound(v, since)
	untilExpr, untilArg := timeBound(v, until)
	// ALL INNER JOIN with aliased sub-queries works on 18.16 and on current
	// servers; verdicts collapse to the latest per flag with argMax.
	q := "SELECT flag_id, message_id, conversation_id, sender_id, category, detector, rule, rule_version, severity, score, evidence, evidence_key_id, sent_at, verdict" +
		" FROM (SELECT flag_id, message_id, conversation_id, sender_id, category, detector, rule, rule_version, severity, score, evidence, evidence_key_id, sent_at" +
		" FROM " + r.flags() + " FINAL WHERE mode = 'live' AND sent_at >= " + sinceExpr + " AND sent_at < " + untilExpr + ") AS f" +
		" ALL INNER JOIN (SELECT flag_id, argMax(verdict, decided_at) AS verdict FROM " + table(r.db, "verdicts") + " GROUP BY flag_id) AS v" +
		" USING flag_id WHERE verdict IN ('confirmed', 'dismissed')" +
		fmt.Sprintf(" ORDER BY sent_at, flag_id LIMIT %d", limit)
	rows, err := r.conn.Query(ctx, q, sinceArg, untilArg)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: reviewed flags of %s: %w", r.db, err)
	}
	defer rows.Close()
	var out []Reviewed
	for rows.Next() {
		var rv Reviewed
		var category, severity string
		f := &rv.Flag
		if err := rows.Scan(&f.FlagID, &f.MessageID, &f.ConversationID, &f.SenderID, &category, &f.Detector, &f.Rule,
			&f.RuleVersion, &severity, &f.Score, &f.Evidence, &rv.EvidenceKeyID, &f.SentAt, &rv.Verdict); err != nil {
			return nil, fmt.Errorf("clickhouse: scan reviewed flag: %w", err)
		}
		f.Category, f.Severity, f.Mode, f.SentAt = detectors.Category(category), detectors.Severity(severity), detectors.Live, f.SentAt.UTC()
		out = append(out, rv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: reviewed flags of %s: %w", r.db, err)
	}
	return out, nil
}
