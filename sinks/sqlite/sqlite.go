// Package sqlite stores flags in a single SQLite file, for the demo, local
// runs and tests that need no server. It uses modernc.org/sqlite (pure Go,
// driver name "sqlite").
//
// The file is opened in WAL mode with a busy timeout, so readers (the demo
// summary, a console) can run while the pipeline writes. Every write is one
// transaction of INSERT ... ON CONFLICT(flag_id) DO NOTHING: writing a flag
// again is a no-op, and the first write of a flag_id wins.
//
// Times are stored as RFC 3339 text in UTC with exactly three fractional
// digits ("2006-01-02T15:04:05.000Z"); the fixed width makes text order
// time order. recipient_ids is a JSON array.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/sinks"
)

// TimeFormat is how sent_at and detected_at are stored (always UTC).
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// BusyTimeout is how long a connection waits for another's lock.
const BusyTimeout = 5 * time.Second

// DefaultLimit bounds Flags when its limit is zero or negative.
const DefaultLimit = 1000

var _ sinks.Writer = (*Writer)(nil)

// Writer writes flags to, and reads them from, one SQLite file. It is safe
// for concurrent use.
type Writer struct {
	db      *sql.DB
	path    string
	protect sinks.Protection
}

// Open opens (creating if missing) the SQLite database at path and brings
// its schema up to date. path is a file name; it must not contain '?'.
// Flags are stored as they are: see OpenProtected.
func Open(ctx context.Context, path string) (*Writer, error) {
	return OpenProtected(ctx, path, sinks.Protection{})
}

// OpenProtected is Open with evidence sealed and user ids pseudonymised
// by p before they are written.
func OpenProtected(ctx context.Context, path string, p sinks.Protection) (*Writer, error) {
	if path == "" || strings.Contains(path, "?") || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open %q: want a file path without '?'", path)
	}
	// The DSN parameters apply to every connection of the pool: busy_timeout
	// first, then WAL; _txlock=immediate makes write transactions take the
	// write lock at BEGIN, so two writers wait for each other instead of
	// failing with SQLITE_BUSY when a read lock is upgraded.
	dsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_txlock=immediate",
		path, BusyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w := &Writer{db: db, path: path, protect: p}
	if err := w.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return w, nil
}

// Close closes the database.
func (w *Writer) Close() error {
	if err := w.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", w.path, err)
	}
	return nil
}

// migration is one numbered schema step; it runs in the transaction that
// records it.
type migration struct {
	version    int
	name       string
	statements []string
}

// migrations lists every step in version order. Append new steps; never
// renumber or edit one that has shipped.
func migrations() []migration {
	return []migration{
		{1, "create flags", []string{
			`CREATE TABLE flags (
				flag_id         TEXT NOT NULL PRIMARY KEY,
				message_id      TEXT NOT NULL,
				conversation_id TEXT NOT NULL,
				sender_id       TEXT NOT NULL,
				recipient_ids   TEXT NOT NULL, -- JSON array of strings
				category        TEXT NOT NULL,
				detector        TEXT NOT NULL,
				rule            TEXT NOT NULL,
				severity        TEXT NOT NULL,
				score           REAL NOT NULL,
				evidence        TEXT NOT NULL,
				sent_at         TEXT NOT NULL, -- RFC 3339, UTC, milliseconds
				detected_at     TEXT NOT NULL
			)`,
			`CREATE INDEX flags_sent_at ON flags (sent_at)`,
			`CREATE INDEX flags_category_severity ON flags (category, severity)`,
		}},
		{2, "flags: rule_version and mode", []string{
			`ALTER TABLE flags ADD COLUMN rule_version TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE flags ADD COLUMN mode TEXT NOT NULL DEFAULT 'live'`,
		}},
		{3, "create verdicts", []string{
			// Every decision is a row; the latest per flag is its verdict.
			`CREATE TABLE verdicts (
				flag_id    TEXT NOT NULL,
				verdict    TEXT NOT NULL, -- confirmed | dismissed | escalated
				note       TEXT NOT NULL,
				analyst    TEXT NOT NULL,
				decided_at TEXT NOT NULL  -- RFC 3339, UTC, milliseconds
			)`,
			`CREATE INDEX verdicts_flag ON verdicts (flag_id, decided_at)`,
		}},
		{4, "console indexes", []string{
			// The review queue, its counts and the conversation view are
			// index range scans, fast with a million flags.
			`CREATE INDEX IF NOT EXISTS flags_review_queue ON flags (mode, severity, detected_at, flag_id)`,
			`CREATE INDEX IF NOT EXISTS flags_conversation ON flags (conversation_id, sent_at)`,
		}},
		{5, "flags: evidence_key_id; create evidence_access", []string{
			// The id of the key that sealed evidence ('' for plain text).
			`ALTER TABLE flags ADD COLUMN evidence_key_id TEXT NOT NULL DEFAULT ''`,
			// Retention clears evidence by detection time.
			`CREATE INDEX flags_detected_at ON flags (detected_at)`,
			// The audit of evidence reads: append-only, enforced by triggers.
			`CREATE TABLE evidence_access (
				accessed_at     TEXT NOT NULL, -- RFC 3339, UTC, milliseconds
				actor           TEXT NOT NULL,
				role            TEXT NOT NULL,
				flag_id         TEXT NOT NULL,
				conversation_id TEXT NOT NULL,
				purpose         TEXT NOT NULL
			)`,
			`CREATE INDEX evidence_access_at ON evidence_access (accessed_at)`,
			`CREATE TRIGGER evidence_access_no_update BEFORE UPDATE ON evidence_access
				BEGIN SELECT RAISE(ABORT, 'evidence_access is append-only'); END`,
			`CREATE TRIGGER evidence_access_no_delete BEFORE DELETE ON evidence_access
				BEGIN SELECT RAISE(ABORT, 'evidence_access is append-only'); END`,
		}},
	}
}

// migrate applies the migrations not yet recorded in schema_migrations,
// each in its own transaction together with its record.
func (w *Writer) migrate(ctx context.Context) error {
	const ddl = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`
	if _, err := w.db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations in %s: %w", w.path, err)
	}
	for _, m := range migrations() {
		if err := w.apply(ctx, m); err != nil {
			return fmt.Errorf("sqlite: migration %d (%s) of %s: %w", m.version, m.name, w.path, err)
		}
	}
	return nil
}

func (w *Writer) apply(ctx context.Context, m migration) (err error) {
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// Checked inside the (immediate) transaction, so that two processes
	// opening the same new file do not both apply a step.
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return tx.Rollback()
	}
	for _, stmt := range m.statements {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, formatTime(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// Write stores flags in one transaction: all of them or, on error, none. A
// flag whose flag_id is already stored is skipped. An empty slice is a
// no-op.
func (w *Writer) Write(ctx context.Context, flags []detectors.Flag) (err error) {
	if len(flags) == 0 {
		return nil
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin write to %s: %w", w.path, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO flags (`+flagColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (flag_id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("sqlite: prepare insert into %s: %w", w.path, err)
	}
	defer stmt.Close()
	for i := range flags {
		stored, keyID, err := w.protect.Apply(flags[i])
		if err != nil {
			return fmt.Errorf("sqlite: flag %s: %w", flags[i].FlagID, err)
		}
		f := &stored
		recipients := f.RecipientIDs
		if recipients == nil {
			recipients = []string{}
		}
		rj, err := json.Marshal(recipients)
		if err != nil {
			return fmt.Errorf("sqlite: encode recipient_ids of flag %s: %w", f.FlagID, err)
		}
		if _, err := stmt.ExecContext(ctx,
			f.FlagID, f.MessageID, f.ConversationID, f.SenderID, string(rj),
			string(f.Category), f.Detector, f.Rule, f.RuleVersion, string(f.Mode.OrLive()), string(f.Severity), f.Score, f.Evidence,
			formatTime(f.SentAt), formatTime(f.DetectedAt), keyID,
		); err != nil {
			return fmt.Errorf("sqlite: insert flag %s (row %d of %d): %w", f.FlagID, i+1, len(flags), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit %d flags to %s: %w", len(flags), w.path, err)
	}
	return nil
}

// Count returns the number of stored flags.
func (w *Writer) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := w.db.QueryRowContext(ctx, "SELECT count(*) FROM flags").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count flags in %s: %w", w.path, err)
	}
	return n, nil
}

// Flags returns up to limit flags (DefaultLimit when limit <= 0), newest
// sent_at first, ties by flag_id. Evidence is returned as stored: sealed
// text for rows written with a keyring (see StoredFlags for the key ids).
func (w *Writer) Flags(ctx context.Context, limit int) ([]detectors.Flag, error) {
	stored, err := w.StoredFlags(ctx, limit)
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
func (w *Writer) StoredFlags(ctx context.Context, limit int) ([]Stored, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	return w.queryFlags(ctx, "SELECT "+flagColumns+" FROM flags ORDER BY sent_at DESC, flag_id LIMIT ?", limit)
}

// CountsByCategory returns how many flags each category has; categories
// without flags are absent.
func (w *Writer) CountsByCategory(ctx context.Context) (map[detectors.Category]int64, error) {
	counts := make(map[detectors.Category]int64)
	if err := w.countBy(ctx, "category", func(k string, n int64) { counts[detectors.Category(k)] = n }); err != nil {
		return nil, err
	}
	return counts, nil
}

// CountsBySeverity returns how many flags each severity has; severities
// without flags are absent.
func (w *Writer) CountsBySeverity(ctx context.Context) (map[detectors.Severity]int64, error) {
	counts := make(map[detectors.Severity]int64)
	if err := w.countBy(ctx, "severity", func(k string, n int64) { counts[detectors.Severity(k)] = n }); err != nil {
		return nil, err
	}
	return counts, nil
}

// countBy groups flags by column, which must be a trusted column name.
func (w *Writer) countBy(ctx context.Context, column string, put func(string, int64)) error {
	rows, err := w.db.QueryContext(ctx, "SELECT "+column+", count(*) FROM flags GROUP BY "+column)
	if err != nil {
		return fmt.Errorf("sqlite: count flags by %s in %s: %w", column, w.path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k string
			n int64
		)
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("sqlite: scan count by %s: %w", column, err)
		}
		put(k, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: count flags by %s in %s: %w", column, w.path, err)
	}
	return nil
}

// flagColumns lists the columns of flags in detectors.Flag's field order,
// then the evidence key id (migration 5).
const flagColumns = "flag_id, message_id, conversation_id, sender_id, recipient_ids, " +
	"category, detector, rule, rule_version, mode, severity, score, evidence, sent_at, detected_at, evidence_key_id"

func formatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	if t.Location() != time.UTC {
		return time.Time{}, errors.New("not in UTC: " + s)
	}
	return t, nil
}
