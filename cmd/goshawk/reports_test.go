package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/internal/benchmark"
	"github.com/goshawk-safety/goshawk/sinks/sqlite"
)

// produce --reports writes reports about the generated conversations to
// their own file, spread over the messages.
func TestProduceReportsToFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "traffic.jsonl")
	code, _, stderr := run(t, "produce", "--count", "2000", "--reports", "30", "--seed", "5", "--output", out)
	if code != 0 || !strings.Contains(stderr, "produced 2000 events and 30 reports") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	convs := map[string]bool{}
	lines := readLines(t, out)
	for _, l := range lines {
		if m, err := event.Decode([]byte(l)); err == nil {
			convs[m.ConversationID] = true
		}
	}
	reports := readLines(t, filepath.Join(dir, "traffic.reports.jsonl"))
	if len(lines) != 2000 || len(reports) != 30 {
		t.Fatalf("%d messages, %d reports", len(lines), len(reports))
	}
	for i, l := range reports {
		r, err := event.DecodeReport([]byte(l))
		if err != nil {
			t.Fatalf("report %d: %v\n%s", i, err, l)
		}
		if !convs[r.ConversationID] {
			t.Errorf("report %d is about %s, which is not in the messages", i, r.ConversationID)
		}
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReportSettingsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"reports topic is the messages topic", []string{"run", "--reports-topic", "messages"}, []string{"--reports-topic", "GOSHAWK_REPORTS_TOPIC", "--topic"}},
		{"reports dlq is the reports topic", []string{"run", "--reports-dlq-topic", "reports"}, []string{"--reports-dlq-topic"}},
		{"reports dlq is the messages dlq", []string{"run", "--reports-dlq-topic", "messages.dlq"}, []string{"--reports-dlq-topic", "--dlq-topic"}},
		{"negative reports", []string{"produce", "--reports", "-1", "--output", "-"}, []string{"--reports", "GOSHAWK_REPORTS"}},
		{"reports to stdout with messages", []string{"produce", "--reports", "3", "--output", "-"}, []string{"--reports-output"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	// Reports off: an empty topic is accepted (encryption off: run needs
	// keys otherwise, privacy.go).
	c, err := parseRun([]string{"--reports-topic", "", "--evidence-encryption=off"}, os.Stderr)
	if err != nil || c.pipeline.Reports.Topic != "" || c.pipeline.Reports.DLQTopic != "" {
		t.Errorf("reports off: %+v %v", c.pipeline.Reports, err)
	}
	c, err = parseRun([]string{"--evidence-encryption=off"}, os.Stderr)
	if err != nil || c.pipeline.Reports.Topic != "reports" || c.pipeline.Reports.DLQTopic != "reports.dlq" {
		t.Errorf("defaults: %+v %v", c.pipeline.Reports, err)
	}
}

// goshawk retention also clears the comments of old user reports, and
// keeps the reports.
func TestRetentionCommandClearsReportComments(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "flags.db")
	w, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var reports []event.Report
	for i, age := range []time.Duration{200 * 24 * time.Hour, 100 * 24 * time.Hour, 24 * time.Hour} {
		reports = append(reports, event.Report{ReportID: fmt.Sprintf("r%d", i), ReporterID: "u", ConversationID: fmt.Sprintf("c%d", i),
			Reason: event.ReportHarassment, Comment: fmt.Sprintf("comment %d", i), ReportedAt: now.Add(-age)})
	}
	if err := w.WriteReports(ctx, reports); err != nil {
		t.Fatal(err)
	}
	w.Close()
	code, stdout, stderr := run(t, "retention", "--sink", "sqlite", "--sqlite-path", path, "--evidence-retention-days", "90")
	if code != 0 || !strings.Contains(stdout, "cleared the comments of 2 user reports") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	w, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, r := range reports {
		got, err := w.Console().ConversationReports(ctx, r.ConversationID, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("report %s: %d left (%v)", r.ReportID, len(got), err)
		}
		if young := r.ReportID == "r2"; (got[0].Comment != "") != young || got[0].CommentCleared == young {
			t.Errorf("report %s: comment %q cleared %v", r.ReportID, got[0].Comment, got[0].CommentCleared)
		}
	}
}

// goshawk bench measures the messages pipeline only: its run configuration
// has no reports pipeline, whatever the environment says, so that it never
// consumes a real reports topic.
func TestBenchRunsNoReportsPipeline(t *testing.T) {
	t.Setenv("GOSHAWK_REPORTS_TOPIC", "reports")
	t.Setenv("GOSHAWK_EVIDENCE_ENCRYPTION", "off")
	c, err := benchRunConfig(benchSettings{Brokers: []string{"127.0.0.1:9092"}, ClickHouseAddr: []string{"127.0.0.1:9000"}, LogLevel: "info"},
		benchmark.PipelineSpec{Topic: "bench-t", Group: "bench-g", Database: "bench_db"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.pipeline.Reports.Topic != "" {
		t.Errorf("bench runs a reports pipeline on %q", c.pipeline.Reports.Topic)
	}
}
