package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/goshawk-safety/goshawk/dashboards/console"
	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/triage"
)

// reportsFixture: a spam report by a minor on conv-2 (which has spam
// flags), and a grooming report on a conversation without any flag.
func reportsFixture() []event.Report {
	age14, age40 := 14, 40
	return []event.Report{
		{ReportID: "rep-minor", ReporterID: "user-9", ConversationID: "conv-2", MessageID: "msg-02", Reason: event.ReportSpam,
			Comment: "COMMENT-A they keep sending me links", ReporterAge: &age14, ReportedAt: now.Add(-20 * time.Minute)},
		{ReportID: "rep-quiet", ReporterID: "user-7", ConversationID: "conv-quiet", Reason: event.ReportGrooming,
			Comment: "COMMENT-B an adult asks me to keep our chats secret", ReporterAge: &age40, ReportedAt: now.Add(-10 * time.Minute)},
	}
}

func (e *env) writeReports(reports []event.Report) {
	e.t.Helper()
	if err := e.w.WriteReports(context.Background(), reports); err != nil {
		e.t.Fatal(err)
	}
}

var anyRowRE = regexp.MustCompile(`<tr class="row[^"]*" data-href="[^"]*" id="f-([0-9a-z-]+)">`)

func allRowIDs(body string) []string {
	var ids []string
	for _, m := range anyRowRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestQueueShowsReports(t *testing.T) {
	e := newEnv(t, fixture())
	e.writeReports(reportsFixture())
	c, _ := e.login(console.Analyst)
	q := e.get(c, "/console/?status=all")
	if q.status != 200 {
		t.Fatalf("queue: %d", q.status)
	}
	ids := allRowIDs(q.body)
	quiet := triage.ReportItemID("rep-quiet")
	// Urgent first: the grooming report no flag matches (critical rank)
	// and conv-2's flags (reported by a minor), then everything else.
	var conv2 []string
	for _, f := range sortedLive(e.flags) {
		if f.ConversationID == "conv-2" {
			conv2 = append(conv2, f.FlagID)
		}
	}
	if len(ids) < len(conv2)+1 {
		t.Fatalf("rows %v", ids)
	}
	top := ids[:len(conv2)+1]
	for _, id := range append([]string{quiet}, conv2...) {
		if !strings.Contains(strings.Join(top, " "), id) {
			t.Errorf("%s is not in the urgent top of the queue %v", id, top)
		}
	}
	// conv-2 has no critical flag: the critical-ranked report item leads.
	if ids[0] != quiet {
		t.Errorf("first row %s, want the report item %s", ids[0], quiet)
	}
	body := html.UnescapeString(q.body)
	for _, want := range []string{"reported, not detected", "user reports on this conversation: spam (by a minor)", "COMMENT-B", "reported-badge urgent"} {
		if !strings.Contains(body, want) {
			t.Errorf("queue does not show %q", want)
		}
	}
	if !regexp.MustCompile(`reported, not detected</th><td class="todo">1</td>`).MatchString(q.body) {
		t.Errorf("counts lack the unreviewed report item")
	}
	// Viewers see counts, never reports' comments.
	v, _ := e.login(console.Viewer)
	if vq := e.get(v, "/console/"); strings.Contains(vq.body, "COMMENT-") || !strings.Contains(vq.body, "reported, not detected") {
		t.Errorf("viewer's queue: comment shown or count missing")
	}
}

func TestReportItemPageAndVerdict(t *testing.T) {
	e := newEnv(t, fixture())
	e.writeReports(reportsFixture())
	c, token := e.login(console.Analyst)
	id := triage.ReportItemID("rep-quiet")
	p := e.get(c, "/console/flags/"+id)
	if p.status != 200 {
		t.Fatalf("report page: %d\n%s", p.status, p.body)
	}
	body := html.UnescapeString(p.body)
	for _, want := range []string{"COMMENT-B an adult asks me to keep our chats secret", "No detector flagged this conversation for grooming",
		"age 40", "conv-quiet", "No live flag in this conversation", `id="decide"`} {
		if !strings.Contains(body, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	r := e.post(c, "/console/flags/"+id+"/verdict", url.Values{"csrf": {token}, "verdict": {"confirmed"}, "note": {"NOTE-R groomer"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("verdict on a report item: %d %s", r.status, r.body)
	}
	it, err := e.store.Flag(context.Background(), id)
	if err != nil || it.Status() != triage.Confirmed || it.Verdict.Analyst != "alice" {
		t.Fatalf("stored: %+v %v", it.Verdict, err)
	}
	// It now counts as a grooming miss.
	rp := e.get(c, "/console/reports")
	if rp.status != 200 || !regexp.MustCompile(`<td>grooming</td><td>1</td><td>1</td>\s*<td class="num">100%</td>`).MatchString(rp.body) {
		t.Errorf("reports page does not count the miss:\n%s", rp.body)
	}
	// The flag page of a reported conversation lists its reports.
	var flagID string
	for _, f := range e.flags {
		if f.ConversationID == "conv-2" && f.Mode == detectors.Live {
			flagID = f.FlagID
		}
	}
	fp := e.get(c, "/console/flags/"+flagID)
	if fb := html.UnescapeString(fp.body); !strings.Contains(fb, "User reports on this conversation") || !strings.Contains(fb, "COMMENT-A") {
		t.Errorf("flag page does not list the conversation's report")
	}
	// Comments and notes never reach the log.
	if logs := e.logs.String(); strings.Contains(logs, "COMMENT-") || strings.Contains(logs, "NOTE-R") {
		t.Errorf("log holds a report's comment or a note:\n%s", logs)
	}
}

func TestReportsPageRoles(t *testing.T) {
	e := newEnv(t, fixture())
	e.writeReports(reportsFixture())
	v, _ := e.login(console.Viewer)
	if r := e.get(v, "/console/reports"); r.status != 200 || !strings.Contains(r.body, "2 reports in the store; 2 without a verdict") {
		t.Errorf("viewer on /console/reports: %d\n%s", r.status, r.body)
	}
	if r := e.get(v, "/console/flags/"+triage.ReportItemID("rep-quiet")); r.status != http.StatusForbidden {
		t.Errorf("viewer opened a report item: %d", r.status)
	}
	if r := e.get(e.client(), "/console/reports"); r.status != http.StatusSeeOther {
		t.Errorf("anonymous /console/reports: %d", r.status)
	}
}

// The collector exports the reports' figures from the store: miss ratio
// and confirmed conversations per category, the first-verdict histogram,
// and the reports awaiting a verdict.
func TestCollectorReportMetrics(t *testing.T) {
	e := newEnv(t, fixture())
	e.writeReports(reportsFixture())
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	col, err := console.NewCollector(reg, e.store, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	// rep-quiet (grooming, no flag) confirmed 4 minutes after the report:
	// a grooming miss. rep-minor (spam on conv-2) unanswered.
	if err := e.store.RecordVerdict(ctx, triage.Verdict{FlagID: triage.ReportItemID("rep-quiet"), Verdict: triage.Confirmed,
		Analyst: "alice", DecidedAt: now.Add(-6 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := col.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	want := `# HELP goshawk_report_miss_ratio Share of the reported conversations analysts confirmed that no live flag of the report's category had caught (the detectors' miss rate as analysts see it).
# TYPE goshawk_report_miss_ratio gauge
goshawk_report_miss_ratio{category="grooming"} 1
# HELP goshawk_report_confirmed_conversations Reported conversations with a confirmed or escalated verdict on the report or on a flag of its category.
# TYPE goshawk_report_confirmed_conversations gauge
goshawk_report_confirmed_conversations{category="grooming"} 1
# HELP goshawk_reports_awaiting_verdict User reports without a verdict on their conversation since they came in.
# TYPE goshawk_reports_awaiting_verdict gauge
goshawk_reports_awaiting_verdict 1
# HELP goshawk_report_first_verdict_seconds Time from a user report to the first verdict recorded on its conversation, over the reports that have one.
# TYPE goshawk_report_first_verdict_seconds histogram
goshawk_report_first_verdict_seconds_bucket{le="60"} 0
goshawk_report_first_verdict_seconds_bucket{le="300"} 1
goshawk_report_first_verdict_seconds_bucket{le="900"} 1
goshawk_report_first_verdict_seconds_bucket{le="1800"} 1
goshawk_report_first_verdict_seconds_bucket{le="3600"} 1
goshawk_report_first_verdict_seconds_bucket{le="14400"} 1
goshawk_report_first_verdict_seconds_bucket{le="43200"} 1
goshawk_report_first_verdict_seconds_bucket{le="86400"} 1
goshawk_report_first_verdict_seconds_bucket{le="259200"} 1
goshawk_report_first_verdict_seconds_bucket{le="604800"} 1
goshawk_report_first_verdict_seconds_bucket{le="+Inf"} 1
goshawk_report_first_verdict_seconds_sum 240
goshawk_report_first_verdict_seconds_count 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), console.MetricReportMissRatio, console.MetricReportConfirmed,
		console.MetricReportsAwaitingAnswer, console.MetricReportFirstVerdict); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", err, problems)
	}
}
