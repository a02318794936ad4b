package triage

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
)

// Item is a live flag with its latest verdict (nil while unreviewed), or a
// user report that no flag matches (Report set; see reports.go).
//
// Flag.Evidence is the evidence as stored: sealed text when EvidenceKeyID
// is set (the console opens it, and records the access, only to show it to
// an analyst), plain text when it is empty, and empty once retention has
// cleared it (and always on a report item: a report holds no message text).
type Item struct {
	Flag          detectors.Flag
	EvidenceKeyID string
	Verdict       *Verdict
	// Report is set on a report item ("reported, not detected").
	Report *Report
	// Reported summarises the reports on the item's conversation (nil:
	// none); it sets the item's queue tier.
	Reported *Reported
}

// Status is the item's review status.
func (it Item) Status() Status {
	if it.Verdict == nil {
		return Unreviewed
	}
	return it.Verdict.Verdict
}

// Cursor is a position in the queue's order (tier and severity rank
// descending, then detected_at, then flag_id ascending): the page after a
// cursor starts with the first item that sorts after it. Keyset pagination
// keeps every page as cheap as the first and stable while analysts decide
// flags.
type Cursor struct {
	Tier       int // TierNone, TierReported or TierUrgent (reports.go)
	Rank       int // detectors.Severity.Rank()
	DetectedAt time.Time
	FlagID     string
}

// CursorAfter is the cursor just after f, a flag of an unreported
// conversation (Item.Cursor covers every item).
func CursorAfter(f detectors.Flag) Cursor {
	return Cursor{Rank: f.Severity.Rank(), DetectedAt: f.DetectedAt, FlagID: f.FlagID}
}

// IsZero reports whether c is the start of the queue.
func (c Cursor) IsZero() bool { return c.FlagID == "" }

// String encodes c for a URL: rank.unixmilli.flag_id, preceded by
// "tier." when the tier is not TierNone. It holds no evidence.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	if c.Tier != TierNone {
		return fmt.Sprintf("%d.%d.%d.%s", c.Tier, c.Rank, c.DetectedAt.UnixMilli(), c.FlagID)
	}
	return fmt.Sprintf("%d.%d.%s", c.Rank, c.DetectedAt.UnixMilli(), c.FlagID)
}

// ParseCursor decodes Cursor.String; the empty string is the zero cursor.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	tier := TierNone
	if strings.Count(s, ".") == 3 {
		t, rest, _ := strings.Cut(s, ".")
		n, err := strconv.Atoi(t)
		if err != nil || n < TierNone || n > TierUrgent {
			return Cursor{}, errors.New("bad cursor tier")
		}
		tier, s = n, rest
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
	if !ValidFlagID(parts[2]) {
		return Cursor{}, errors.New("bad cursor flag id")
	}
	return Cursor{Tier: tier, Rank: rank, DetectedAt: time.UnixMilli(ms).UTC(), FlagID: parts[2]}, nil
}

// ValidFlagID accepts what a flag id can be: detectors.FlagID gives 32
// lower-case hex digits; stores and tests may use other short ids made of
// letters, digits, '-' and '_'.
func ValidFlagID(s string) bool {
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
	// Undetected counts the report items ("reported, not detected") of
	// the filter's category by status, like Counts (none with a rule
	// filter).
	Undetected map[Status]int64
}
