package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/goshawk-safety/goshawk/triage"
)

// RecordAccess implements triage.Store: one transaction for all of them.
// The table refuses UPDATE and DELETE (migration 5's triggers).
func (s *ConsoleStore) RecordAccess(ctx context.Context, accesses []triage.Access) (err error) {
	if len(accesses) == 0 {
		return nil
	}
	for _, a := range accesses {
		if err := a.Validate(); err != nil {
			return err
		}
	}
	tx, err := s.w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin access record in %s: %w", s.w.path, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for _, a := range accesses {
		if _, err := tx.ExecContext(ctx, "INSERT INTO evidence_access (accessed_at, actor, role, flag_id, conversation_id, purpose) VALUES (?, ?, ?, ?, ?, ?)",
			formatTime(a.At), a.Actor, a.Role, a.FlagID, a.ConversationID, a.Purpose); err != nil {
			return fmt.Errorf("sqlite: record access in %s: %w", s.w.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit %d accesses to %s: %w", len(accesses), s.w.path, err)
	}
	return nil
}

// RecentAccesses implements triage.Store.
func (s *ConsoleStore) RecentAccesses(ctx context.Context, limit int) ([]triage.Access, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []triage.Access
	err := s.w.each(ctx, "SELECT accessed_at, actor, role, flag_id, conversation_id, purpose FROM evidence_access ORDER BY accessed_at DESC, rowid DESC LIMIT ?",
		[]any{limit}, func(rows *sql.Rows) error {
			var a triage.Access
			var at string
			if err := rows.Scan(&at, &a.Actor, &a.Role, &a.FlagID, &a.ConversationID, &a.Purpose); err != nil {
				return err
			}
			t, err := parseTime(at)
			if err != nil {
				return fmt.Errorf("access: accessed_at: %w", err)
			}
			a.At = t
			out = append(out, a)
			return nil
		})
	return out, err
}

// ExpireEvidence clears the evidence (and its key id) of every flag
// detected before cutoff, keeping the rest of the row, and returns how many
// it cleared.
func (w *Writer) ExpireEvidence(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := w.db.ExecContext(ctx, "UPDATE flags SET evidence = '', evidence_key_id = '' WHERE detected_at < ? AND evidence != ''", formatTime(cutoff))
	if err != nil {
		return 0, fmt.Errorf("sqlite: clear expired evidence in %s: %w", w.path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: clear expired evidence in %s: %w", w.path, err)
	}
	return n, nil
}
