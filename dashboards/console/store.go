package console

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

// Status is where a flag stands in review: unreviewed until an analyst
// records a verdict, then the latest verdict.
type Status string

const (
	Unreviewed Status = "unreviewed"
	Confirmed  Status = "confirmed" // the flag was right
	Dismissed  Status = "dismissed" // a false positive
	Escalated  Status = "escalated" // right, and handed on for action
)

// Statuses lists every Status in the order the console shows them.
var Statuses = []Status{Unreviewed, Confirmed, Dismissed, Escalated}

// Decisions are the statuses an analyst can record.
var Decisions = []Status{Confirmed, Dismissed, Escalated}

// ParseDecision checks that s is a verdict an analyst can record.
func ParseDecision(s string) (Status, error) {
	for _, d := range Decisions {
		if string(d) == s {
			return d, nil
		}
	}
	return "", fmt.Errorf("unknown verdict %q (want confirmed, dismissed or escalated)", s)
}

// ParseStatus checks that s names a Status.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown status %q (want unreviewed, confirmed, dismissed or escalated)", s)
}

// MaxNoteBytes bounds a verdict's note.
const MaxNoteBytes = 2000

// Verdict is one analyst decision on a flag. A flag may be decided more
// than once; the latest decision (by DecidedAt, then by insertion) is its
// verdict.
type Verdict struct {
	FlagID    string
	Verdict   Status // Confirmed, Dismissed or Escalated
	Note      string // optional, at most MaxNoteBytes
	Analyst   string // the name of the console account that decided
	DecidedAt time.Time
}

// Validate checks v before it is stored.
func (v Verdict) Validate() error {
	if v.FlagID == "" {
		return errors.New("verdict: no flag id")
	}
	if _, err := ParseDecision(string(v.Verdict)); err != nil {
		return fmt.Errorf("verdict: %w", err)
	}
	if v.Analyst == "" {
		return errors.New("verdict: no analyst")
	}
	if len(v.Note) > MaxNoteBytes {
		return fmt.Errorf("verdict: note is %d bytes, at most %d", len(v.Note), MaxNoteBytes)
	}
	if v.DecidedAt.IsZero() {
		return errors.New("verdict: no decision time")
	}
	return nil
}

// Item is a live flag with its latest verdict (nil while unreviewed).
//
// Flag.Evidence is the evidence as stored: sealed text when EvidenceKeyID
// is set (the console opens it, and records the access, only to show it to
// an analyst), plain text when it is empty, and empty once retention has
// cleared it.
type Item struct {
	Flag          detectors.Flag
	EvidenceKeyID string
	Verdict       *Verdict
}

// Access is one read of evidence: who read which flag's evidence, when and
// why. Every time the console shows evidence it first records an Access;
// the audit table is append-only.
type Access struct {
	At             time.Time
	Actor          string // the console account (or the command) that read it
	Role           string // the account's role
	FlagID         string
	ConversationID string
	// Purpose is why: the view that showed the evidence ("queue",
	// "flag", "conversation", "rules score", ...) and, for the console,
	// the queue filter or the flag opened.
	Purpose string
}

// MaxPurposeBytes bounds Access.Purpose.
const MaxPurposeBytes = 512

// Validate checks a before it is stored.
func (a Access) Validate() error {
	switch {
	case a.At.IsZero():
		return errors.New("access: no time")
	case a.Actor == "":
		return errors.New("access: no actor")
	case a.FlagID == "":
		return errors.New("access: no flag id")
	case a.Purpose == "" || len(a.Purpose) > MaxPurposeBytes:
		return fmt.Errorf("access: purpose must be 1-%d bytes", MaxPurposeBytes)
	}
	return nil
}

// Status is the item's review status.
func (it Item) Status() Status {
	if it.Verdict == nil {
		return Unreviewed
	}
	return it.Verdict.Verdict
}

// Cursor is a position in the queue's order (severity rank descending, then
// detected_at, then flag_id ascending): the page after a cursor starts with
// the first flag that sorts after it. Keyset pagination keeps every page as
// cheap as the first and stable while analysts decide flags.
type Cursor struct {
	Rank       int // detectors.Severity.Rank()
	DetectedAt time.Time
	FlagID     string
}

// CursorAfter is the cursor just after f.
func CursorAfter(f detectors.Flag) Cursor {
	return Cursor{Rank: f.Severity.Rank(), DetectedAt: f.DetectedAt, FlagID: f.FlagID}
}

// IsZero reports whether c is the start of the queue.
func (c Cursor) IsZero() bool { return c.FlagID == "" }

// String encodes c for a URL: rank.unixmilli.flag_id. It holds no evidence.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d.%d.%s", c.Rank, c.DetectedAt.UnixMilli(), c.FlagID)
}

// ParseCursor decodes Cursor.String; the empty string is the zero cursor.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 3 {
		return Cursor{}, errors.New("bad cursor")
	}
	rank, err := strconv.Atoi(parts[0])
	if err != nil || rank < 0 || rank > len(detectors.Severities) {
		return Cursor{}, errors.New("bad cursor rank")
	}
	ms, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return Cursor{}, errors.New("bad cursor time")
	}
	if !validFlagID(parts[2]) {
		return Cursor{}, errors.New("bad cursor flag id")
	}
	return Cursor{Rank: rank, DetectedAt: time.UnixMilli(ms).UTC(), FlagID: parts[2]}, nil
}

// validFlagID accepts what a flag id can be: detectors.FlagID gives 32
// lower-case hex digits; stores and tests may use other short ids made of
// letters, digits, '-' and '_'.
func validFlagID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Page sizes of the queue.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// QueueFilter selects a page of the queue. Zero fields select everything.
type QueueFilter struct {
	Category detectors.Category
	Rule     string
	Status   Status // empty: every status
	After    Cursor // zero: the first page
	Limit    int    // 1..MaxPageSize; 0 means DefaultPageSize
}

// PageSize is f.Limit bounded to 1..MaxPageSize.
func (f QueueFilter) PageSize() int {
	switch {
	case f.Limit <= 0:
		return DefaultPageSize
	case f.Limit > MaxPageSize:
		return MaxPageSize
	}
	return f.Limit
}

// Counts holds the number of live flags by severity and status.
type Counts map[detectors.Severity]map[Status]int64

// Add adds n flags of severity sev and status st.
func (c Counts) Add(sev detectors.Severity, st Status, n int64) {
	if c[sev] == nil {
		c[sev] = map[Status]int64{}
	}
	c[sev][st] += n
}

// Get returns the number of flags of severity sev and status st.
func (c Counts) Get(sev detectors.Severity, st Status) int64 { return c[sev][st] }

// Severity returns the number of flags of severity sev.
func (c Counts) Severity(sev detectors.Severity) int64 {
	var n int64
	for _, v := range c[sev] {
		n += v
	}
	return n
}

// Status returns the number of flags of status st.
func (c Counts) Status(st Status) int64 {
	var n int64
	for _, m := range c {
		n += m[st]
	}
	return n
}

// Total returns the number of flags counted.
func (c Counts) Total() int64 {
	var n int64
	for _, m := range c {
		for _, v := range m {
			n += v
		}
	}
	return n
}

// QueuePage is one page of the queue.
type QueuePage struct {
	Items []Item
	// Next is the cursor of the following page; zero on the last page.
	Next Cursor
	// Counts are the live flags that match the filter's category and rule,
	// by severity and status (the status filter and the cursor do not
	// apply).
	Counts Counts
}

// RuleStats are the latest verdicts on one rule's live flags.
type RuleStats struct {
	Rule                            string
	Confirmed, Dismissed, Escalated int64
}

// Reviewed is the number of the rule's flags with a verdict.
func (r RuleStats) Reviewed() int64 { return r.Confirmed + r.Dismissed + r.Escalated }

// Precision is confirmed / (confirmed + dismissed): of the flags an
// analyst judged right or wrong, the share that was right. Escalated flags
// are left out of both, as in the Grafana safety overview, so that the
// console, the metric and the dashboard agree. ok is false while the rule
// has no confirmed or dismissed flag.
func (r RuleStats) Precision() (p float64, ok bool) {
	n := r.Confirmed + r.Dismissed
	if n == 0 {
		return 0, false
	}
	return float64(r.Confirmed) / float64(n), true
}

// ErrNotFound is returned for a flag that does not exist or is not live.
var ErrNotFound = errors.New("flag not found")

// Store is what the console reads and writes. Every method sees live flags
// only: shadow flags never reach analysts. Implementations: ClickHouse
// (sinks/clickhouse) and SQLite (sinks/sqlite); storetest checks both
// against the same contract.
type Store interface {
	// Queue returns a page of live flags with their latest verdicts, by
	// severity (critical first), then age (oldest detected_at first), then
	// flag_id, with the counts for the filter's category and rule.
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
