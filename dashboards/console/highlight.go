package console

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/triage"
)

const ellipsis = "…"

// SplitEvidence finds the matched span in an evidence excerpt. Flags store
// the excerpt, not the match's offsets: detectors.Excerpt keeps exactly
// context characters on a side where it cut the text (and marks the cut
// with "…"), fewer where the message ended. So the match is known only when
// both sides were cut: it lies between the first and the last context
// characters. Otherwise ok is false and before holds the whole excerpt.
func SplitEvidence(evidence string, context int) (before, match, after string, ok bool) {
	if context <= 0 || !strings.HasPrefix(evidence, ellipsis) || !strings.HasSuffix(evidence, ellipsis) ||
		len(evidence) < 2*len(ellipsis) {
		return evidence, "", "", false
	}
	body := []rune(evidence[len(ellipsis) : len(evidence)-len(ellipsis)])
	if len(body) <= 2*context {
		return evidence, "", "", false
	}
	return ellipsis + string(body[:context]), string(body[context : len(body)-context]),
		string(body[len(body)-context:]) + ellipsis, true
}

// timeline is the conversation's flags over time, one row per rule (the
// grooming stage timeline replaces it when grooming stages exist).
type timeline struct {
	Width, Height int
	Rows          []timelineRow
	Dots          []timelineDot
	From, To      string
	Axis          int // y of the time axis
	Left, Right   int // x of the plot's ends
}

type timelineRow struct {
	Rule string
	Y    int
}

type timelineDot struct {
	ID       string
	X, Y     int
	Severity detectors.Severity
	Current  bool
	Label    string
}

const (
	tlLeft  = 250
	tlRight = 20
	tlRow   = 24
	tlTop   = 16
)

func buildTimeline(items []triage.Item, current string) timeline {
	tl := timeline{Width: 900, Left: tlLeft, Right: 900 - tlRight}
	if len(items) == 0 {
		return tl
	}
	var rules []string
	from, to := items[0].Flag.SentAt, items[0].Flag.SentAt
	for _, it := range items {
		rules = append(rules, it.Flag.Rule)
		if it.Flag.SentAt.Before(from) {
			from = it.Flag.SentAt
		}
		if it.Flag.SentAt.After(to) {
			to = it.Flag.SentAt
		}
	}
	slices.Sort(rules)
	rules = slices.Compact(rules)
	row := map[string]int{}
	for i, r := range rules {
		y := tlTop + i*tlRow + tlRow/2
		row[r] = y
		tl.Rows = append(tl.Rows, timelineRow{Rule: r, Y: y})
	}
	tl.Axis = tlTop + len(rules)*tlRow + 4
	tl.Height = tl.Axis + 22
	span := to.Sub(from)
	plot := tl.Width - tlLeft - tlRight
	for _, it := range items {
		x := tlLeft + plot/2
		if span > 0 {
			x = tlLeft + int(float64(plot)*float64(it.Flag.SentAt.Sub(from))/float64(span))
		}
		tl.Dots = append(tl.Dots, timelineDot{
			ID: it.Flag.FlagID, X: x, Y: row[it.Flag.Rule], Severity: it.Flag.Severity,
			Current: it.Flag.FlagID == current,
			Label:   fmt.Sprintf("%s · %s · %s · %s", it.Flag.Rule, it.Flag.Severity, it.Flag.SentAt.UTC().Format("2006-01-02 15:04:05Z"), it.Status()),
		})
	}
	tl.From = from.UTC().Format("2006-01-02 15:04Z")
	tl.To = to.UTC().Format("2006-01-02 15:04Z")
	if span < time.Minute {
		tl.To = ""
	}
	return tl
}
