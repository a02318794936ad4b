package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// migration is one numbered schema step. ClickHouse has no transactional
// DDL: a step that fails, or whose record is not written, runs again on the
// next Migrate, so every statement must be idempotent (IF NOT EXISTS,
// IF EXISTS).
type migration struct {
	Version uint32
	Name    string
	// Statements returns the step's SQL for database db on server v.
	Statements func(db string, v ServerVersion) []string
	// Apply, when set, runs after Statements, for steps that must look at
	// the schema first (18.16 has no ADD COLUMN IF NOT EXISTS).
	Apply func(ctx context.Context, conn driver.Conn, db string, v ServerVersion) error
}

// migrations lists every step in version order. Append new steps; never
// renumber or edit one that has shipped.
func migrations() []migration {
	return []migration{
		{
			Version: 1,
			Name:    "create flags",
			Statements: func(db string, v ServerVersion) []string {
				return []string{createFlagsTable(db, v)}
			},
		},
		{
			Version: 2,
			Name:    "flags: rule_version and mode",
			Apply: func(ctx context.Context, conn driver.Conn, db string, v ServerVersion) error {
				lowCard := "String"
				if v.HasLowCardinality() {
					lowCard = "LowCardinality(String)"
				}
				if err := addColumn(ctx, conn, db, "flags", "rule_version", "String DEFAULT ''", "rule"); err != nil {
					return err
				}
				return addColumn(ctx, conn, db, "flags", "mode", lowCard+" DEFAULT 'live'", "rule_version")
			},
		},
		{
			Version: 3,
			Name:    "create verdicts",
			Statements: func(db string, v ServerVersion) []string {
				return []string{createVerdictsTable(db, v)}
			},
		},
		migration4(),
	}
}

// createVerdictsTable is migration 3: analysts' verdicts on flags. Every
// decision is a row; the latest per flag_id (by decided_at) is the flag's
// verdict, which readers get with FINAL or argMax(verdict, decided_at).
// There is no PARTITION BY, so that a verdict changed months later still
// collapses with the earlier one.
func createVerdictsTable(db string, v ServerVersion) string {
	lowCard, timeType := "String", "DateTime('UTC')"
	if v.HasLowCardinality() {
		lowCard = "LowCardinality(String)"
	}
	if v.HasDateTime64() {
		timeType = "DateTime64(3, 'UTC')"
	}
	return "CREATE TABLE IF NOT EXISTS " + table(db, "verdicts") + "\n(\n" +
		"    flag_id         String,\n" +
		"    verdict         " + lowCard + ", -- confirmed | dismissed | escalated\n" +
		"    note            String,\n" +
		"    analyst         String,\n" +
		"    decided_at      " + timeType + "\n" +
		")\nENGINE = ReplacingMergeTree(decided_at)\nORDER BY flag_id"
}

// addColumn adds a column unless the table has it already.
func addColumn(ctx context.Context, conn driver.Conn, db, tbl, name, typ, after string) error {
	var n uint64
	q := "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?"
	if err := conn.QueryRow(ctx, q, db, tbl, name).Scan(&n); err != nil {
		return fmt.Errorf("look up column %s.%s: %w", tbl, name, err)
	}
	if n > 0 {
		return nil
	}
	stmt := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s AFTER %s", table(db, tbl), name, typ, after)
	if err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("add column %s.%s: %w", tbl, name, err)
	}
	return nil
}

// createFlagsTable is migration 1.
//
// Design, for analysts' queries and for exactly-once reads:
//   - ReplacingMergeTree collapses rows with equal ORDER BY keys within a
//     partition. The key therefore ends in flag_id, and every key column and
//     the partition expression are fixed for a given flag_id: flag_id hashes
//     (message_id, detector, rule), sent_at and conversation_id are the
//     message's, and category is fixed by the rule. severity is not in the
//     key: a detector with per-conversation state can grade the same message
//     differently when it is re-processed after a rebalance, and a key that
//     differed would keep both rows for ever.
//   - The key runs from low to high cardinality, then time: category,
//     conversation_id, sent_at, flag_id.
//   - Partitions are months of sent_at (event time, so that a re-inserted
//     flag lands in the partition of the original).
//   - inserted_at is the version column: of two copies, the later write wins.
//   - Types depend on the server: plain String and DateTime('UTC') (whole
//     seconds) on 18.x, LowCardinality(String) from 19.0 and
//     DateTime64(3, 'UTC') (milliseconds) from 20.1.
func createFlagsTable(db string, v ServerVersion) string {
	lowCard, timeType := "String", "DateTime('UTC')"
	if v.HasLowCardinality() {
		lowCard = "LowCardinality(String)"
	}
	if v.HasDateTime64() {
		timeType = "DateTime64(3, 'UTC')"
	}
	cols := [][2]string{
		{"flag_id", "String"},
		{"message_id", "String"},
		{"conversation_id", "String"},
		{"sender_id", "String"},
		{"recipient_ids", "Array(String)"},
		{"category", lowCard},
		{"detector", lowCard},
		{"rule", lowCard},
		{"severity", lowCard},
		{"score", "Float64"},
		{"evidence", "String"},
		{"sent_at", timeType},
		{"detected_at", timeType},
		{"inserted_at", "DateTime('UTC') DEFAULT now()"},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s\n(\n", table(db, "flags"))
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    %-15s %s%s\n", c[0], c[1], sep)
	}
	b.WriteString(")\nENGINE = ReplacingMergeTree(inserted_at)\n")
	b.WriteString("PARTITION BY toYYYYMM(sent_at)\n")
	b.WriteString("ORDER BY (category, conversation_id, sent_at, flag_id)")
	return b.String()
}

// Migrate connects with cfg, creates cfg.Database if missing and applies
// the migrations it has not recorded yet in schema_migrations.
func Migrate(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	conn, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	return MigrateConn(ctx, conn, cfg.Database)
}

// MigrateConn is Migrate over an open connection. It reads the server
// version once and chooses each step's SQL by it. Migrate is idempotent;
// two processes migrating at once both succeed (every statement is
// idempotent and schema_migrations collapses duplicate records), but may
// both run a step.
func MigrateConn(ctx context.Context, conn driver.Conn, database string) error {
	if err := checkDatabase(database); err != nil {
		return err
	}
	v, err := QueryServerVersion(ctx, conn)
	if err != nil {
		return err
	}
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS `"+database+"`"); err != nil {
		return fmt.Errorf("clickhouse: create database %s: %w", database, err)
	}
	ddl := "CREATE TABLE IF NOT EXISTS " + table(database, "schema_migrations") +
		" (version UInt32, name String, applied_at DateTime)" +
		" ENGINE = ReplacingMergeTree() ORDER BY version"
	if err := conn.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("clickhouse: create %s.schema_migrations: %w", database, err)
	}
	applied, err := appliedVersions(ctx, conn, database)
	if err != nil {
		return err
	}
	for _, m := range migrations() {
		if applied[m.Version] {
			continue
		}
		if m.Statements != nil {
			for _, stmt := range m.Statements(database, v) {
				if err := conn.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("clickhouse: migration %d (%s) on server %s: %w", m.Version, m.Name, v, err)
				}
			}
		}
		if m.Apply != nil {
			if err := m.Apply(ctx, conn, database, v); err != nil {
				return fmt.Errorf("clickhouse: migration %d (%s) on server %s: %w", m.Version, m.Name, v, err)
			}
		}
		if err := recordMigration(ctx, conn, database, m); err != nil {
			return err
		}
	}
	return nil
}

func appliedVersions(ctx context.Context, conn driver.Conn, database string) (map[uint32]bool, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT version FROM "+table(database, "schema_migrations"))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: read %s.schema_migrations: %w", database, err)
	}
	defer rows.Close()
	applied := make(map[uint32]bool)
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("clickhouse: scan %s.schema_migrations: %w", database, err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: read %s.schema_migrations: %w", database, err)
	}
	return applied, nil
}

func recordMigration(ctx context.Context, conn driver.Conn, database string, m migration) (err error) {
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+table(database, "schema_migrations")+" (version, name, applied_at)")
	if err != nil {
		return fmt.Errorf("clickhouse: record migration %d: %w", m.Version, err)
	}
	defer func() {
		if cerr := batch.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("clickhouse: record migration %d: close batch: %w", m.Version, cerr)
		}
	}()
	if err := batch.Append(m.Version, m.Name, time.Now().UTC()); err != nil {
		return fmt.Errorf("clickhouse: record migration %d: %w", m.Version, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: record migration %d: %w", m.Version, err)
	}
	return nil
}
