package triage

import (
	"errors"
	"fmt"
	"time"
)

// Status is where a flag stands in review: unreviewed until an analyst
// records a verdict, then the latest verdict.
type Status string

// The review statuses.
const (
	Unreviewed Status = "unreviewed" // no verdict yet
	Confirmed  Status = "confirmed"  // the flag was right
	Dismissed  Status = "dismissed"  // a false positive
	Escalated  Status = "escalated"  // right, and handed on for action
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
