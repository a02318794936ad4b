package pipeline

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
)

// RuleDiff is what a rule change does to one rule's flags.
type RuleDiff struct {
	Detector, Rule     string
	Base, Candidate    int // flags raised by each rule set
	Added, Removed     int // flags only the candidate raises, only the base raises
	SeverityChanged    int // flags both raise, at different severities
	BaseMode, CandMode detectors.Mode
	Examples           []DiffExample
}

// DiffExample is one message on which the two rule sets disagree.
type DiffExample struct {
	Change            string // added, removed, severity
	MessageID         string
	ConversationID    string
	BaseSeverity      detectors.Severity
	CandidateSeverity detectors.Severity
	Evidence          string
}

// BacktestReport compares two rule sets over the same events.
type BacktestReport struct {
	Messages         int
	Rejected         int
	BaseVersion      string
	CandidateVersion string
	Rules            []RuleDiff // every rule either set flagged with, or that changed
}

// Backtest runs the base and the candidate rule sets over the same events,
// each in its own engine with its own state, and reports per rule the flags
// added, removed and re-graded, with up to examples examples of each rule.
// Flags are compared by flag_id, which both sets give the same message,
// detector and rule.
func Backtest(ctx context.Context, inputs []ReplayInput, factories []detectors.Factory, base, candidate *detectors.RuleSet, opts detectors.EngineOptions, examples int) (BacktestReport, error) {
	rep := BacktestReport{BaseVersion: base.Version(), CandidateVersion: candidate.Version()}
	be, err := newDetection(factories, base, opts)
	if err != nil {
		return rep, fmt.Errorf("backtest: base rules: %w", err)
	}
	ce, err := newDetection(factories, candidate, opts)
	if err != nil {
		return rep, fmt.Errorf("backtest: candidate rules: %w", err)
	}
	diffs := map[[2]string]*RuleDiff{}
	get := func(f *detectors.Flag) *RuleDiff {
		k := [2]string{f.Detector, f.Rule}
		d := diffs[k]
		if d == nil {
			d = &RuleDiff{Detector: f.Detector, Rule: f.Rule}
			diffs[k] = d
		}
		return d
	}
	var bf, cf []detectors.Flag
	example := func(d *RuleDiff, change string, f *detectors.Flag, bs, cs detectors.Severity) {
		if len(d.Examples) < examples {
			d.Examples = append(d.Examples, DiffExample{Change: change, MessageID: f.MessageID, ConversationID: f.ConversationID,
				BaseSeverity: bs, CandidateSeverity: cs, Evidence: f.Evidence})
		}
	}
	// Flags one set raised that the other has not (yet) raised, by id.
	pendB, pendC := map[string]detectors.Flag{}, map[string]detectors.Flag{}
	var orderB, orderC []string
	matched := func(d *RuleDiff, b, c detectors.Flag) {
		if b.Severity != c.Severity {
			d.SeverityChanged++
			example(d, "severity", &c, b.Severity, c.Severity)
		}
	}
	err = ScanEvents(ctx, inputs, func(m *event.Message) error {
		rep.Messages++
		// Detector stages may flag an earlier message because of this
		// one; base and candidate are compared on every flag either has
		// raised so far that the other has not matched yet.
		var err error
		if bf, err = be.inspect(m, bf); err != nil {
			return fmt.Errorf("backtest: base rules: %w", err)
		}
		if cf, err = ce.inspect(m, cf); err != nil {
			return fmt.Errorf("backtest: candidate rules: %w", err)
		}
		for _, f := range bf {
			d := get(&f)
			d.Base++
			d.BaseMode = f.Mode
			if c, ok := pendC[f.FlagID]; ok {
				delete(pendC, f.FlagID)
				matched(d, f, c)
			} else {
				pendB[f.FlagID] = f
				orderB = append(orderB, f.FlagID)
			}
		}
		for _, f := range cf {
			d := get(&f)
			d.Candidate++
			d.CandMode = f.Mode
			if b, ok := pendB[f.FlagID]; ok {
				delete(pendB, f.FlagID)
				matched(d, b, f)
			} else {
				pendC[f.FlagID] = f
				orderC = append(orderC, f.FlagID)
			}
		}
		bf, cf = bf[:0], cf[:0]
		return nil
	}, func(Rejection) { rep.Rejected++ })
	if err != nil {
		return rep, err
	}
	for _, id := range orderB {
		if f, ok := pendB[id]; ok {
			d := get(&f)
			d.Removed++
			example(d, "removed", &f, f.Severity, "")
		}
	}
	for _, id := range orderC {
		if f, ok := pendC[id]; ok {
			d := get(&f)
			d.Added++
			example(d, "added", &f, "", f.Severity)
		}
	}
	for _, d := range diffs {
		rep.Rules = append(rep.Rules, *d)
	}
	sort.Slice(rep.Rules, func(i, j int) bool {
		a, b := rep.Rules[i], rep.Rules[j]
		if a.Detector != b.Detector {
			return a.Detector < b.Detector
		}
		return a.Rule < b.Rule
	})
	return rep, nil
}

// Changed reports whether the candidate changes any flag.
func (r BacktestReport) Changed() bool {
	for _, d := range r.Rules {
		if d.Added+d.Removed+d.SeverityChanged > 0 {
			return true
		}
	}
	return false
}

// Write prints the report: a table of every rule, then examples of each
// change.
func (r BacktestReport) Write(w io.Writer) error {
	fmt.Fprintf(w, "backtest over %d messages (%d rejected lines)\nbase rules %s, candidate rules %s\n\n", r.Messages, r.Rejected, r.BaseVersion, r.CandidateVersion)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "detector\trule\tmode\tbase\tcandidate\tadded\tremoved\tseverity changed\t")
	var tb, tc, ta, tr, ts int
	for _, d := range r.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", d.Detector, d.Rule, modes(d), d.Base, d.Candidate, d.Added, d.Removed, d.SeverityChanged)
		tb, tc, ta, tr, ts = tb+d.Base, tc+d.Candidate, ta+d.Added, tr+d.Removed, ts+d.SeverityChanged
	}
	fmt.Fprintf(tw, "total\t\t\t%d\t%d\t%d\t%d\t%d\t\n", tb, tc, ta, tr, ts)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range r.Rules {
		if len(d.Examples) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s/%s:\n", d.Detector, d.Rule)
		for _, e := range d.Examples {
			sev := string(e.CandidateSeverity)
			switch e.Change {
			case "removed":
				sev = string(e.BaseSeverity)
			case "severity":
				sev = string(e.BaseSeverity) + " → " + string(e.CandidateSeverity)
			}
			fmt.Fprintf(w, "  %-8s %-10s message %s: %q\n", e.Change, sev, e.MessageID, e.Evidence)
		}
	}
	return nil
}

// modes shows the rule's mode in each set ("-" where it raised no flag).
func modes(d RuleDiff) string {
	b, c := string(d.BaseMode), string(d.CandMode)
	if b == "" {
		b = "-"
	}
	if c == "" {
		c = "-"
	}
	if b == c {
		return b
	}
	return b + "→" + c
}
