package triage

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned for a flag that does not exist or is not live.
var ErrNotFound = errors.New("flag not found")

// Store is what the console reads and writes. Every method sees live flags
// only: shadow flags never reach analysts. Implementations: ClickHouse
// (sinks/clickhouse) and SQLite (sinks/sqlite); storetest checks both
// against the same contract.
type Store interface {
	// Queue returns a page of live flags with their latest verdicts, by
	// tier (reported conversations first, see reports.go), severity
	// (critical first), then age (oldest detected_at first), then
	// flag_id, with the counts for the filter's category and rule. A
	// store that implements ReportStore includes report items.
	Queue(ctx context.Context, f QueueFilter) (QueuePage, error)
	// Flag returns one live flag with its latest verdict, or ErrNotFound.
	Flag(ctx context.Context, flagID string) (Item, error)
	// Conversation returns the newest limit live flags of a conversation,
	// oldest first, with their latest verdicts.
	Conversation(ctx context.Context, conversationID string, limit int) ([]Item, error)
	// RecordVerdict stores a decision; the latest decision per flag wins.
	RecordVerdict(ctx context.Context, v Verdict) error
	// RulePrecision returns, per rule with at least one verdict, the
	// latest verdicts on its live flags, ordered by rule.
	RulePrecision(ctx context.Context) ([]RuleStats, error)
	// OldestUnreviewedCritical returns the detected_at of the oldest live
	// critical flag without a verdict; ok is false when there is none.
	OldestUnreviewedCritical(ctx context.Context) (detectedAt time.Time, ok bool, err error)
	// RecordAccess appends evidence reads to the audit table, all or none.
	// The console calls it before it shows evidence, and shows none when it
	// fails.
	RecordAccess(ctx context.Context, accesses []Access) error
	// RecentAccesses returns the newest limit audit rows, newest first.
	RecentAccesses(ctx context.Context, limit int) ([]Access, error)
}
