package triage

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// User reports in the review queue (issue 11).
//
// A report on a conversation that has flags raises their priority: every
// item of a reported conversation sorts ahead of the unreported ones, and
// those of a conversation with an urgent report (by a minor, or about
// grooming) ahead of everything. A report that no live flag of its
// conversation matches (same category; any category for reason "other")
// enters the queue on its own, as "reported, not detected", and takes
// verdicts like a flag. The queue order is therefore (tier, severity rank,
// time, id): tier 2 urgent, 1 reported, 0 not reported; a report item
// ranks as critical when it is urgent, else high, at its reported_at.

// Queue tiers.
const (
	TierNone     = 0 // no report on the conversation
	TierReported = 1 // reported
	TierUrgent   = 2 // a report by a minor, or about grooming
)

// ReportItemPrefix begins the queue id of a report; flag ids are hex.
const ReportItemPrefix = "report-"

// ReportDetector is the Flag.Detector of a report item.
const ReportDetector = "report"

// ReportItemID is the id of a report's queue item (and of its verdicts):
// the prefix and 32 hex digits of the report id's SHA-256. It holds none of
// the report id, which the producer chose and may be anything.
func ReportItemID(reportID string) string {
	sum := sha256.Sum256([]byte(reportID))
	return ReportItemPrefix + hex.EncodeToString(sum[:16])
}

// IsReportItemID reports whether id names a report item.
func IsReportItemID(id string) bool { return strings.HasPrefix(id, ReportItemPrefix) }

// Report is a user report as the console shows it.
type Report struct {
	ItemID         string
	ReportID       string
	ReporterID     string
	ReporterAge    *int // nil: not declared
	ConversationID string
	MessageID      string // "": the report names no message
	Reason         event.ReportReason
	// Comment is the reporter's words as stored: sealed text when
	// CommentKeyID is set (the console opens it, and records the read in
	// the audit, only to show it to an analyst), plain text when it is
	// empty. Never logged.
	Comment      string
	CommentKeyID string
	// CommentCleared is true once retention has cleared the comment.
	CommentCleared bool
	ReportedAt     time.Time
}

// ReportFromEvent is the console's view of a decoded report event.
func ReportFromEvent(r event.Report) Report {
	return Report{ItemID: ReportItemID(r.ReportID), ReportID: r.ReportID, ReporterID: r.ReporterID, ReporterAge: r.ReporterAge,
		ConversationID: r.ConversationID, MessageID: r.MessageID, Reason: r.Reason, Comment: r.Comment, ReportedAt: r.ReportedAt}
}

func (r Report) event() event.Report {
	return event.Report{Reason: r.Reason, ReporterAge: r.ReporterAge}
}

// ByMinor reports whether the reporter declared an age under 18.
func (r Report) ByMinor() bool { e := r.event(); return e.ByMinor() }

// Urgent reports whether the report is by a minor or about grooming.
func (r Report) Urgent() bool { e := r.event(); return e.Urgent() }

// Category is the flag category the report is about ("" for reason other:
// any category matches).
func (r Report) Category() detectors.Category { return detectors.Category(r.Reason.Category()) }

// Item is the report's queue item: Flag carries its queue position (FlagID
// the item id, Severity critical when urgent else high, DetectedAt and
// SentAt the reported_at) and what a row shows (Category, Rule
// "report.<reason>", Detector "report", MessageID); Report is the report.
// Evidence is empty: a report holds no message text.
func (r Report) Item(reported *Reported) Item {
	sev := detectors.High
	if r.Urgent() {
		sev = detectors.Critical
	}
	rep := r
	return Item{
		Flag: detectors.Flag{
			FlagID: r.ItemID, MessageID: r.MessageID, ConversationID: r.ConversationID, SenderID: "", RecipientIDs: []string{},
			Category: r.Category(), Detector: ReportDetector, Rule: ReportDetector + "." + string(r.Reason), Mode: detectors.Live,
			Severity: sev, SentAt: r.ReportedAt, DetectedAt: r.ReportedAt,
		},
		Report:   &rep,
		Reported: reported,
	}
}

// Reported summarises the reports on an item's conversation.
type Reported struct {
	Reports int
	Urgent  bool // one is by a minor or about grooming
	ByMinor bool // one is by a minor
	Reasons []event.ReportReason
	First   time.Time // the earliest reported_at
}

// Add counts r.
func (s *Reported) Add(r Report) {
	s.Reports++
	s.Urgent = s.Urgent || r.Urgent()
	s.ByMinor = s.ByMinor || r.ByMinor()
	if !slices.Contains(s.Reasons, r.Reason) {
		s.Reasons = append(s.Reasons, r.Reason)
		slices.Sort(s.Reasons)
	}
	if s.First.IsZero() || r.ReportedAt.Before(s.First) {
		s.First = r.ReportedAt
	}
}

// Tier is the queue tier of an item with these reports (nil: TierNone).
func (s *Reported) Tier() int {
	switch {
	case s == nil || s.Reports == 0:
		return TierNone
	case s.Urgent:
		return TierUrgent
	}
	return TierReported
}

// Tier is the item's queue tier.
func (it Item) Tier() int { return it.Reported.Tier() }

// Cursor is the item's position in the queue order.
func (it Item) Cursor() Cursor {
	return Cursor{Tier: it.Tier(), Rank: it.Flag.Severity.Rank(), DetectedAt: it.Flag.DetectedAt, FlagID: it.Flag.FlagID}
}

// QueueRank combines tier and severity rank into one number that sorts
// like (tier, rank): tier*8 + rank, for stores that order by one column.
func (c Cursor) QueueRank() int { return c.Tier*8 + c.Rank }

// compareCursors orders positions as the queue does: higher tier, then
// higher rank, then earlier time, then smaller id first.
func compareCursors(a, b Cursor) int {
	if c := cmp.Compare(b.Tier, a.Tier); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Rank, a.Rank); c != 0 {
		return c
	}
	if c := a.DetectedAt.Compare(b.DetectedAt); c != 0 {
		return c
	}
	return strings.Compare(a.FlagID, b.FlagID)
}

// SortItems sorts items in queue order.
func SortItems(items []Item) {
	slices.SortStableFunc(items, func(a, b Item) int { return compareCursors(a.Cursor(), b.Cursor()) })
}

// MergeQueue merges the stores' lists of one page (flags and report items,
// each already in queue order after the filter's cursor, each read with
// limit+1 rows) into the page: at most limit items, and the cursor of the
// next page (zero when this is the last).
func MergeQueue(limit int, lists ...[]Item) ([]Item, Cursor) {
	var items []Item
	for _, l := range lists {
		items = append(items, l...)
	}
	SortItems(items)
	if len(items) <= limit {
		return items, Cursor{}
	}
	items = items[:limit]
	return items, items[limit-1].Cursor()
}

// CategoryMisses are the reported conversations of one category that
// analysts confirmed, and how many of them no detector had flagged.
type CategoryMisses struct {
	// Category is grooming, harassment or spam, or "other" for reports
	// with reason other (any flag category matches those).
	Category  string
	Confirmed int64 // reported conversations with a confirmed or escalated verdict on a report or a matching flag
	Missed    int64 // of those, the ones without a live flag of the category
}

// MissRate is Missed / Confirmed: the detectors' miss rate as analysts see
// it. ok is false while no reported conversation is confirmed.
func (c CategoryMisses) MissRate() (float64, bool) {
	if c.Confirmed == 0 {
		return 0, false
	}
	return float64(c.Missed) / float64(c.Confirmed), true
}

// ReportStats are the figures of reports and the analysts' response.
type ReportStats struct {
	Reports int64
	// Misses has one entry per category with a confirmed reported
	// conversation, in the order grooming, harassment, spam, other.
	Misses []CategoryMisses
	// FirstVerdict is the time from each report to the first verdict
	// recorded on its conversation (on any of its flags or report items)
	// at or after reported_at, over the reports that have one.
	FirstVerdict Histogram
	// Awaiting is the number of reports without such a verdict.
	Awaiting int64
}

// Histogram is a cumulative histogram, as Prometheus exposes one.
type Histogram struct {
	Bounds []float64 // upper bounds, ascending
	Counts []uint64  // Counts[i]: observations <= Bounds[i]
	Count  uint64
	Sum    float64
}

// Observe adds one value (bounds must be set).
func (h *Histogram) Observe(v float64) {
	if h.Counts == nil {
		h.Counts = make([]uint64, len(h.Bounds))
	}
	for i, b := range h.Bounds {
		if v <= b {
			h.Counts[i]++
		}
	}
	h.Count++
	h.Sum += v
}

// FirstVerdictBounds are the histogram bounds of the time from a report to
// its first verdict, in seconds: 1 and 5 minutes, 15 and 30 minutes, 1, 4,
// 12 and 24 hours, 3 and 7 days.
var FirstVerdictBounds = []float64{60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 3 * 86400, 7 * 86400}

// MissCategories are the categories of CategoryMisses, in order.
var MissCategories = []string{string(detectors.Grooming), string(detectors.Harassment), string(detectors.Spam), "other"}

// ReportStore is what a Store also implements when it keeps user reports
// (both built-in stores do). Its Queue then includes report items and
// ranks reported conversations first, its Flag finds report items by their
// ids, and its RecordVerdict takes verdicts on them.
type ReportStore interface {
	// ConversationReports returns the newest limit reports on a
	// conversation, newest first.
	ConversationReports(ctx context.Context, conversationID string, limit int) ([]Report, error)
	// ReportStats returns the reports' figures (FirstVerdict with
	// FirstVerdictBounds).
	ReportStats(ctx context.Context) (ReportStats, error)
}
