// Package triage is the domain of flag review: the types the triage console
// shows and the stores keep, and the store interfaces between them.
//
// It holds a flag's review Status and the analysts' Verdicts (with per-rule
// RuleStats); the queue: Item, its keyset Cursor, QueueFilter, Counts and
// QueuePage; the evidence audit's Access; user reports in the queue:
// Report, Reported, the queue tiers and report item ids, and the reports'
// figures (ReportStats, CategoryMisses, Histogram); and the interfaces
// Store and ReportStore with their error ErrNotFound.
//
// The dependency runs one way: the console (dashboards/console) and the
// stores (sinks/clickhouse, sinks/sqlite) import triage, and triage imports
// neither. Its subpackage storetest is the contract every Store must meet.
package triage
