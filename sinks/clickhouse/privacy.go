package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/goshawk-safety/goshawk/triage"
)

// createAccessTable is part of migration 4: the audit of evidence reads.
// A plain MergeTree (never Replacing: two reads of the same flag are two
// rows), partitioned by month so that an operator can drop old months with
// a privileged user; Goshawk itself only ever inserts into it. Grant the
// pipeline's and the console's user INSERT and SELECT on it, never ALTER.
func createAccessTable(db string, v ServerVersion) string {
	lowCard, timeType := "String", "DateTime('UTC')"
	if v.HasLowCardinality() {
		lowCard = "LowCardinality(String)"
	}
	if v.HasDateTime64() {
		timeType = "DateTime64(3, 'UTC')"
	}
	return "CREATE TABLE IF NOT EXISTS " + table(db, "evidence_access") + "\n(\n" +
		"    accessed_at     " + timeType + ",\n" +
		"    actor           String,\n" +
		"    role            " + lowCard + ",\n" +
		"    flag_id         String,\n" +
		"    conversation_id String,\n" +
		"    purpose         String\n" +
		")\nENGINE = MergeTree()\nPARTITION BY toYYYYMM(accessed_at)\nORDER BY (accessed_at, actor)"
}

// migration4 adds flags.evidence_key_id (the id of the key that sealed
// evidence; ” for plain text) and the evidence_access audit table.
func migration4() migration {
	return migration{
		Version: 4,
		Name:    "flags: evidence_key_id; create evidence_access",
		Statements: func(db string, v ServerVersion) []string {
			return []string{createAccessTable(db, v)}
		},
		Apply: func(ctx context.Context, conn driver.Conn, db string, v ServerVersion) error {
			return addColumn(ctx, conn, db, "flags", "evidence_key_id", "String DEFAULT ''", "evidence")
		},
	}
}

// RecordAccess implements triage.Store: one INSERT for all of them.
func (s *ConsoleStore) RecordAccess(ctx context.Context, accesses []triage.Access) (err error) {
	if len(accesses) == 0 {
		return nil
	}
	for _, a := range accesses {
		if err := a.Validate(); err != nil {
			return err
		}
	}
	batch, err := s.r.conn.PrepareBatch(ctx, "INSERT INTO "+table(s.r.db, "evidence_access")+
		" (accessed_at, actor, role, flag_id, conversation_id, purpose)")
	if err != nil {
		return fmt.Errorf("clickhouse: prepare insert into %s.evidence_access: %w", s.r.db, err)
	}
	defer func() {
		if cerr := batch.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("clickhouse: close access insert: %w", cerr)
		}
	}()
	for _, a := range accesses {
		if err := batch.Append(a.At.UTC(), a.Actor, a.Role, a.FlagID, a.ConversationID, a.Purpose); err != nil {
			return fmt.Errorf("clickhouse: append access: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: insert %d accesses into %s.evidence_access: %w", len(accesses), s.r.db, err)
	}
	return nil
}

// RecentAccesses implements triage.Store.
func (s *ConsoleStore) RecentAccesses(ctx context.Context, limit int) ([]triage.Access, error) {
	if limit <= 0 {
		return nil, nil
	}
	q := "SELECT accessed_at, actor, role, flag_id, conversation_id, purpose FROM " + table(s.r.db, "evidence_access") +
		fmt.Sprintf(" ORDER BY accessed_at DESC LIMIT %d", limit)
	rows, err := s.r.conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read %s.evidence_access: %w", s.r.db, err)
	}
	defer rows.Close()
	var out []triage.Access
	for rows.Next() {
		var a triage.Access
		if err := rows.Scan(&a.At, &a.Actor, &a.Role, &a.FlagID, &a.ConversationID, &a.Purpose); err != nil {
			return nil, fmt.Errorf("clickhouse: scan access: %w", err)
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: read %s.evidence_access: %w", s.r.db, err)
	}
	return out, nil
}

// ExpireEvidence clears the evidence (and its key id) of every flag
// detected before cutoff, keeping the rest of the row: verdicts, counts and
// precision stay, the message text goes. It uses an ALTER TABLE ... UPDATE
// mutation, which every supported server has (18.16 included; TTL clauses
// only exist from 19.6 and apply only when parts merge, with no deadline),
// and waits until the server has applied it. It returns the number of rows
// it cleared (duplicates not yet merged away included); a run with nothing
// to clear starts no mutation.
func (w *Writer) ExpireEvidence(ctx context.Context, cutoff time.Time) (int64, error) {
	return w.Reader().expireEvidence(ctx, cutoff)
}

func (r *Reader) expireEvidence(ctx context.Context, cutoff time.Time) (int64, error) {
	v, err := r.serverVersion(ctx)
	if err != nil {
		return 0, err
	}
	expr, arg := timeBound(v, cutoff)
	where := " WHERE detected_at < " + expr + " AND evidence != ''"
	var n uint64
	if err := r.conn.QueryRow(ctx, "SELECT count() FROM "+r.flags()+where, arg).Scan(&n); err != nil {
		return 0, fmt.Errorf("clickhouse: count expired evidence in %s.flags: %w", r.db, err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := r.conn.Exec(ctx, "ALTER TABLE "+r.flags()+" UPDATE evidence = '', evidence_key_id = ''"+where, arg); err != nil {
		return 0, fmt.Errorf("clickhouse: clear expired evidence in %s.flags: %w", r.db, err)
	}
	if err := r.waitMutations(ctx, "flags"); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// waitMutations waits until the table has no mutation left to apply.
func (r *Reader) waitMutations(ctx context.Context, tbl string) error {
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		var pending uint64
		q := "SELECT count() FROM system.mutations WHERE database = ? AND table = ? AND is_done = 0"
		if err := r.conn.QueryRow(ctx, q, r.db, tbl).Scan(&pending); err != nil {
			return fmt.Errorf("clickhouse: mutations of %s.%s: %w", r.db, tbl, err)
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clickhouse: waiting for the mutation of %s.%s: %w", r.db, tbl, ctx.Err())
		case <-time.After(delay):
		}
	}
}
