package pipeline_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"testing"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/pipeline"
)

var update = flag.Bool("update", false, "rewrite golden files")

// A backtest over a recorded stream (testdata/backtest/stream.jsonl, made by
// `goshawk produce --count 1500 --seed 42`, plus two bad lines) of a
// candidate change (testdata/backtest/candidate) that re-grades one rule,
// switches one off and adds one in shadow.
func TestBacktestDiff(t *testing.T) {
	factories := allDetectors(t)
	base := builtinRules(t, factories)
	candidate, err := detectors.LoadCheckedRules(factories, os.DirFS("testdata/backtest/candidate"))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := os.ReadFile("testdata/backtest/stream.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pipeline.Backtest(context.Background(), []pipeline.ReplayInput{{Name: "stream", R: bytes.NewReader(stream)}},
		factories, base, candidate, detectors.EngineOptions{Clock: detectors.EventTime}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 1500 || rep.Rejected != 2 {
		t.Errorf("messages %d, rejected %d; want 1500 and 2", rep.Messages, rep.Rejected)
	}
	byRule := map[string]pipeline.RuleDiff{}
	for _, d := range rep.Rules {
		byRule[d.Rule] = d
		if d.Rule != "spam.link_shortener" && d.Rule != "spam.prize" && d.Rule != "spam.urgency" &&
			(d.Added+d.Removed+d.SeverityChanged != 0 || d.Base != d.Candidate) {
			t.Errorf("unchanged rule %s changed: %+v", d.Rule, d)
		}
	}
	if d := byRule["spam.link_shortener"]; d.Removed == 0 || d.Candidate != 0 || d.Removed != d.Base {
		t.Errorf("switched-off rule: %+v, want every flag removed", d)
	}
	if d := byRule["spam.prize"]; d.SeverityChanged == 0 || d.Added+d.Removed != 0 {
		t.Errorf("re-graded rule: %+v, want severity changes only", d)
	}
	if d := byRule["spam.urgency"]; d.Added == 0 || d.Base != 0 || d.CandMode != detectors.Shadow {
		t.Errorf("new shadow rule: %+v, want added flags in shadow", d)
	}
	if !rep.Changed() {
		t.Error("Changed() is false")
	}
	// Rule set versions change with every built-in rule edit; the golden
	// file is about what the candidate changes.
	rep.BaseVersion, rep.CandidateVersion = "BASE", "CANDIDATE"
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/backtest/report.golden"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./pipeline -run Backtest -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("report differs from %s (run with -update if the change is intended):\n%s", golden, out.String())
	}

	// The same rules on both sides change nothing.
	same, err := pipeline.Backtest(context.Background(), []pipeline.ReplayInput{{Name: "stream", R: bytes.NewReader(stream)}},
		factories, base, base, detectors.EngineOptions{Clock: detectors.EventTime}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if same.Changed() {
		t.Errorf("identical rule sets differ: %+v", same.Rules)
	}
}
