// Package clickhouse stores flags in ClickHouse over the native protocol
// (port 9000), the only protocol that works against every server Goshawk
// meets, Debian's 18.16 included.
//
// The flags table is a ReplacingMergeTree keyed on columns that are fixed
// for a given flag_id, so a flag written twice (after a crash or a consumer
// rebalance) collapses when parts merge; until then readers in this package
// read with FINAL and never see it twice. Migrate creates the database and
// the tables; Open does not migrate.
//
// Writer.Write makes one attempt per call: it builds a fresh batch every
// time, because a clickhouse-go batch cannot be reused after Send, even a
// failed one. Retries and backoff belong to the caller.
package clickhouse

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/sinks"
)

// Defaults used for zero Config fields.
const (
	DefaultAddr        = "127.0.0.1:9000"
	DefaultDatabase    = "goshawk"
	DefaultDialTimeout = 5 * time.Second
)

// Config says where ClickHouse is. Zero fields take the defaults above;
// User defaults to the server's "default" user.
type Config struct {
	Addr        []string // native-protocol host:port addresses
	Database    string   // database holding the flags table; created by Migrate
	User        string
	Password    string // never printed: errors name the user and address only
	DialTimeout time.Duration
	// TLS, when not nil, connects with TLS (the server's secure native
	// port, 9440 by default).
	TLS *tls.Config
	// Protection seals evidence and pseudonymises user ids before rows are
	// written (zero: stored as they are).
	Protection sinks.Protection
}

var _ sinks.Writer = (*Writer)(nil)

func (c Config) withDefaults() (Config, error) {
	if len(c.Addr) == 0 {
		c.Addr = []string{DefaultAddr}
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if err := checkDatabase(c.Database); err != nil {
		return c, err
	}
	return c, nil
}

// checkDatabase accepts names made of ASCII letters, digits and
// underscores, not starting with a digit. The name is spliced into SQL, so
// it is checked rather than escaped.
func checkDatabase(name string) error {
	ok := name != "" && len(name) <= 128
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9'
	}
	if !ok {
		return fmt.Errorf("clickhouse: database name %q: want up to 128 letters, digits and underscores, not starting with a digit", name)
	}
	return nil
}

// Dial connects to ClickHouse with the native protocol and pings it. The
// connection's default database is the user's default, not cfg.Database,
// so that Dial works before Migrate has created it; every query in this
// package names its database.
func Dial(ctx context.Context, cfg Config) (driver.Conn, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return dial(ctx, cfg)
}

func dial(ctx context.Context, cfg Config) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol:    clickhouse.Native,
		Addr:        cfg.Addr,
		Auth:        clickhouse.Auth{Username: cfg.User, Password: cfg.Password},
		TLS:         cfg.TLS,
		DialTimeout: cfg.DialTimeout,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	})
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %v: %w", cfg.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse: ping %v: %w", cfg.Addr, err)
	}
	return conn, nil
}

// Writer writes flags to <database>.flags. It is safe for concurrent use.
type Writer struct {
	conn    driver.Conn
	db      string
	insert  string
	protect sinks.Protection
}

// Open connects to ClickHouse. It does not create or migrate the schema:
// call Migrate (or Writer.Migrate) first.
func Open(ctx context.Context, cfg Config) (*Writer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	conn, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Writer{
		conn:    conn,
		db:      cfg.Database,
		protect: cfg.Protection,
		// The explicit column list is required by 18.16, which rejects a
		// batch insert without one ("expected 0 arguments").
		insert: fmt.Sprintf("INSERT INTO %s (%s)", table(cfg.Database, "flags"), flagColumns),
	}, nil
}

// Migrate applies the pending migrations to the writer's database.
func (w *Writer) Migrate(ctx context.Context) error {
	return MigrateConn(ctx, w.conn, w.db)
}

// Reader returns a reader of the writer's database over the same connection
// pool. It must not be used after the writer is closed.
func (w *Writer) Reader() *Reader {
	return &Reader{conn: w.conn, db: w.db}
}

// Write stores flags in one INSERT: either the server accepted the whole
// batch or an error is returned. It makes one attempt; the caller retries
// with the same flags, which is safe because re-written flags collapse by
// flag_id. An empty slice is a no-op.
func (w *Writer) Write(ctx context.Context, flags []detectors.Flag) (err error) {
	if len(flags) == 0 {
		return nil
	}
	batch, err := w.conn.PrepareBatch(ctx, w.insert)
	if err != nil {
		return fmt.Errorf("clickhouse: prepare insert into %s.flags: %w", w.db, err)
	}
	// Close is a no-op after Send; before it (a failed Append) it ends the
	// INSERT without sending the buffered rows and frees the connection.
	defer func() {
		if cerr := batch.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("clickhouse: close insert batch: %w", cerr)
		}
	}()
	for i := range flags {
		stored, keyID, err := w.protect.Apply(flags[i])
		if err != nil {
			return fmt.Errorf("clickhouse: flag %s: %w", flags[i].FlagID, err)
		}
		f := &stored
		recipients := f.RecipientIDs
		if recipients == nil {
			recipients = []string{}
		}
		if err := batch.Append(
			f.FlagID,
			f.MessageID,
			f.ConversationID,
			f.SenderID,
			recipients,
			string(f.Category),
			f.Detector,
			f.Rule,
			f.RuleVersion,
			string(f.Mode.OrLive()),
			string(f.Severity),
			f.Score,
			f.Evidence,
			f.SentAt.UTC(),
			f.DetectedAt.UTC(),
			keyID,
		); err != nil {
			return fmt.Errorf("clickhouse: append flag %s (row %d of %d): %w", f.FlagID, i+1, len(flags), err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("clickhouse: send %d flags to %s.flags: %w", len(flags), w.db, err)
	}
	return nil
}

// Close closes the connection pool.
func (w *Writer) Close() error {
	if err := w.conn.Close(); err != nil {
		return fmt.Errorf("clickhouse: close: %w", err)
	}
	return nil
}

// flagColumns is the column list of every insert into flags, in the order
// Write appends values. inserted_at is left to its DEFAULT. evidence holds
// sealed text when evidence_key_id is set (migration 4).
const flagColumns = "flag_id, message_id, conversation_id, sender_id, recipient_ids, " +
	"category, detector, rule, rule_version, mode, severity, score, evidence, sent_at, detected_at, evidence_key_id"

// table returns the quoted, database-qualified name of a table.
func table(db, name string) string {
	return "`" + db + "`.`" + name + "`"
}
