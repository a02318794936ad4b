package pipeline

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// ReviewedFlag is a flag analysts gave a verdict: confirmed (harmful) or
// dismissed (a false positive).
type ReviewedFlag struct {
	Flag      detectors.Flag
	Confirmed bool
}

// RuleScore is one rule's record on reviewed flags.
type RuleScore struct {
	Detector, Rule       string
	Confirmed, Dismissed int
}

// Precision is Confirmed / (Confirmed + Dismissed), or -1 with no verdicts.
func (s RuleScore) Precision() float64 {
	if n := s.Confirmed + s.Dismissed; n > 0 {
		return float64(s.Confirmed) / float64(n)
	}
	return -1
}

// ScoreReport scores rules against analysts' verdicts.
type ScoreReport struct {
	Reviewed, Confirmed int
	Current             []RuleScore // the rules that raised the reviewed flags
	Candidate           []RuleScore // the candidate rules, on the same flags
	// CaughtConfirmed counts confirmed flags on which the candidate rules
	// raise a flag of the same category at medium or above.
	CaughtConfirmed int
}

// ScoreCandidate runs the candidate rules over the evidence of reviewed
// flags and scores each rule against the verdicts: a candidate flag of the
// reviewed flag's category counts as confirmed or dismissed like the
// reviewed flag. The store keeps only the bounded evidence excerpt of a
// flag, never the whole message or conversation, so candidates are scored
// on that text; rules that need more context (conversation state, ages)
// score lower here than they would live.
func ScoreCandidate(reviewed []ReviewedFlag, factories []detectors.Factory, candidate *detectors.RuleSet) (ScoreReport, error) {
	rep := ScoreReport{Reviewed: len(reviewed)}
	sorted := append([]ReviewedFlag(nil), reviewed...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Flag, sorted[j].Flag
		if a.ConversationID != b.ConversationID {
			return a.ConversationID < b.ConversationID
		}
		return a.SentAt.Before(b.SentAt)
	})
	engine, err := detectors.NewEngine(factories, candidate, detectors.EngineOptions{Clock: detectors.EventTime})
	if err != nil {
		return rep, fmt.Errorf("score: %w", err)
	}
	current := map[[2]string]*RuleScore{}
	cand := map[[2]string]*RuleScore{}
	tally := func(m map[[2]string]*RuleScore, detector, rule string, confirmed bool) {
		k := [2]string{detector, rule}
		s := m[k]
		if s == nil {
			s = &RuleScore{Detector: detector, Rule: rule}
			m[k] = s
		}
		if confirmed {
			s.Confirmed++
		} else {
			s.Dismissed++
		}
	}
	var flags []detectors.Flag
	for i, rf := range sorted {
		f := rf.Flag
		if rf.Confirmed {
			rep.Confirmed++
		}
		tally(current, f.Detector, f.Rule, rf.Confirmed)
		msg := &event.Message{
			MessageID:      fmt.Sprintf("%s#%d", f.MessageID, i),
			ConversationID: f.ConversationID,
			SentAt:         f.SentAt,
			Sender:         event.Participant{ID: f.SenderID},
			Recipients:     []event.Participant{{ID: "recipient"}},
			Text:           f.Evidence,
		}
		flags = engine.Inspect(msg, flags[:0], nil)
		caught := false
		seen := map[string]bool{}
		for _, cf := range flags {
			if cf.Category != f.Category || seen[cf.Rule] {
				continue
			}
			seen[cf.Rule] = true
			tally(cand, cf.Detector, cf.Rule, rf.Confirmed)
			if cf.Severity.Rank() >= detectors.Medium.Rank() {
				caught = true
			}
		}
		if caught && rf.Confirmed {
			rep.CaughtConfirmed++
		}
	}
	rep.Current, rep.Candidate = sortedScores(current), sortedScores(cand)
	return rep, nil
}

func sortedScores(m map[[2]string]*RuleScore) []RuleScore {
	out := make([]RuleScore, 0, len(m))
	for _, s := range m {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Detector != out[j].Detector {
			return out[i].Detector < out[j].Detector
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

// Write prints the report.
func (r ScoreReport) Write(w io.Writer) error {
	fmt.Fprintf(w, "%d reviewed flags (%d confirmed, %d dismissed)\n", r.Reviewed, r.Confirmed, r.Reviewed-r.Confirmed)
	if r.Confirmed > 0 {
		fmt.Fprintf(w, "candidate rules still flag %d of %d confirmed (%.1f%%) at medium or above\n",
			r.CaughtConfirmed, r.Confirmed, 100*float64(r.CaughtConfirmed)/float64(r.Confirmed))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, part := range []struct {
		title  string
		scores []RuleScore
	}{{"rules that raised the reviewed flags", r.Current}, {"candidate rules on the same flags", r.Candidate}} {
		fmt.Fprintf(tw, "\n%s\ndetector\trule\tconfirmed\tdismissed\tprecision\t\n", part.title)
		for _, s := range part.scores {
			p := "-"
			if s.Precision() >= 0 {
				p = fmt.Sprintf("%.2f", s.Precision())
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t\n", s.Detector, s.Rule, s.Confirmed, s.Dismissed, p)
		}
	}
	return tw.Flush()
}
