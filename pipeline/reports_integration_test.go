package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/goshawk-safety/goshawk/detectors"
	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/internal/kafkatest"
	"github.com/goshawk-safety/goshawk/internal/testenv"
	"github.com/goshawk-safety/goshawk/pipeline"
	"github.com/goshawk-safety/goshawk/sinks/clickhouse"
	"github.com/goshawk-safety/goshawk/triage"
)

// User reports end to end on real Kafka and ClickHouse (issue 11): an
// Instance consumes generated messages and then reports. A report by a
// minor on a flagged conversation at the bottom of the review queue moves
// its flags to the top; a report on a conversation without flags enters the
// queue on its own as "reported, not detected", and a confirmed verdict on
// it counts as a miss for its category; bad report events go to the
// reports' dead-letter topic with their reasons, and the reports group
// commits to the end.
func TestReportsEndToEndRealKafkaClickHouse(t *testing.T) {
	broker := testenv.Kafka(t)
	chAddr := testenv.ClickHouse(t)
	ctx := context.Background()
	suffix := time.Now().UnixNano()
	topic := fmt.Sprintf("goshawk-reports-e2e-%d", suffix)
	reportsTopic := topic + ".reports"
	kafkatest.CreateTopics(ctx, t, broker, 3, topic, topic+".dlq")
	// One partition: a few reports would leave some of several empty, and
	// an empty partition is never committed (waitGroupsCommitted).
	kafkatest.CreateTopics(ctx, t, broker, 1, reportsTopic, reportsTopic+".dlq")

	cfg := clickhouse.Config{Addr: []string{chAddr}, Database: fmt.Sprintf("goshawk_reports_e2e_%d", suffix)}
	if err := clickhouse.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	store, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	t.Cleanup(func() { dropDatabase(t, cfg) })

	tr := generate(3000, 31, 0)
	kafkatest.Produce(ctx, t, broker, topic, tr.records)
	const group = "goshawk-reports-e2e"
	h := startReportsInstance(t, broker, topic, reportsTopic, group, store, store)
	waitGroupsCommitted(t, broker, map[string]string{group: topic}, 3*time.Minute)

	queue := store.Console()
	before := allItems(t, queue)
	if len(before) < 20 {
		t.Fatalf("only %d live flags to review", len(before))
	}
	// The conversation of the last item: the bottom of the queue.
	last := before[len(before)-1].Flag
	for _, it := range before {
		if it.Reported != nil || it.Report != nil {
			t.Fatalf("an item is reported before any report: %+v", it)
		}
	}
	age13, age35 := 13, 35
	reportedAt := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	good := []event.Report{
		{ReportID: fmt.Sprintf("e2e-minor-%d", suffix), ReporterID: "u-minor", ConversationID: last.ConversationID, MessageID: last.MessageID,
			Reason: reasonFor(last.Category), Comment: "please look at this", ReporterAge: &age13, ReportedAt: reportedAt},
		{ReportID: fmt.Sprintf("e2e-unflagged-%d", suffix), ReporterID: "u-adult", ConversationID: fmt.Sprintf("conv-unflagged-%d", suffix),
			Reason: event.ReportHarassment, Comment: "they keep insulting me", ReporterAge: &age35, ReportedAt: reportedAt.Add(time.Second)},
	}
	var records []kafka.Message
	for _, r := range good {
		records = append(records, kafka.Message{Key: []byte(r.ConversationID), Value: reportJSON(t, r)})
	}
	bad := map[string]event.Reason{
		`{"report_id":"x","reporter_id":"u","conversation_id":"c","reason":"rude","reported_at":"2026-01-01T00:00:00Z"}`:                                                                                   event.ReasonInvalidValue,
		`{"report_id":"y","reporter_id":"u","conversation_id":"c","reason":"spam"}`:                                                                                                                        event.ReasonMissingField,
		`{"report_id":"z","reporter_id":"u","conversation_id":"c","reason":"spam","reported_at":"2026-01-01T00:00:00Z","comment":` + fmt.Sprintf("%q", strings.Repeat("a", event.MaxCommentBytes+1)) + `}`: event.ReasonTooLong,
		`{"report_id":"w","reporter_id":"u","conversation_id":"c","reason":"spam","reported_at":"2099-01-01T00:00:00Z"}`:                                                                                   event.ReasonFutureTimestamp,
		`not a report`: event.ReasonInvalidJSON,
	}
	for v := range bad {
		records = append(records, kafka.Message{Key: []byte("c"), Value: []byte(v)})
	}
	kafkatest.Produce(ctx, t, broker, reportsTopic, records)
	waitGroupsCommitted(t, broker, map[string]string{group + ".reports": reportsTopic}, 2*time.Minute)

	// The reported conversation's flags lead the queue; the report on the
	// unflagged conversation follows them, ahead of every unreported flag.
	after := allItems(t, queue)
	var lastConvFlags int
	for _, it := range before {
		if it.Flag.ConversationID == last.ConversationID {
			lastConvFlags++
		}
	}
	if len(after) != len(before)+1 {
		t.Fatalf("%d items after the reports, %d before: want one report item more", len(after), len(before))
	}
	for i, it := range after[:lastConvFlags] {
		if it.Flag.ConversationID != last.ConversationID || it.Tier() != triage.TierUrgent || it.Report != nil {
			t.Fatalf("item %d after the report by a minor: %s (tier %d); want the reported conversation %s on top", i, it.Flag.ConversationID, it.Tier(), last.ConversationID)
		}
	}
	item := after[lastConvFlags]
	if item.Report == nil || item.Report.ReportID != good[1].ReportID || item.Tier() != triage.TierReported || item.Status() != triage.Unreviewed {
		t.Fatalf("item after the urgent ones: %+v (report %+v); want the unflagged report, reported not detected", item.Flag, item.Report)
	}
	t.Logf("%d items in the queue; the reported conversation %s moved from position %d to 1 (%d flags), the unflagged report is at %d",
		len(after), last.ConversationID, len(before), lastConvFlags, lastConvFlags+1)
	if next := after[lastConvFlags+1]; next.Reported != nil {
		t.Fatalf("a reported item after the report item: %+v", next.Flag)
	}
	page, err := queue.Queue(ctx, triage.QueueFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Undetected[triage.Unreviewed] != 1 {
		t.Errorf("undetected counts %v", page.Undetected)
	}

	// Confirming the report no flag matched counts a harassment miss.
	if err := queue.RecordVerdict(ctx, triage.Verdict{FlagID: item.Flag.FlagID, Verdict: triage.Confirmed, Analyst: "alice",
		DecidedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	st, err := queue.ReportStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var harassment triage.CategoryMisses
	for _, m := range st.Misses {
		if m.Category == "harassment" {
			harassment = m
		}
	}
	if harassment.Confirmed != 1 || harassment.Missed != 1 || st.Reports != 2 || st.FirstVerdict.Count != 1 || st.Awaiting != 1 {
		t.Errorf("report stats %+v; want one confirmed harassment miss, 2 reports, 1 answered", st)
	}

	// Bad reports: in the reports' dead-letter topic, each with its reason.
	letters := kafkatest.ReadAll(ctx, t, broker, reportsTopic+".dlq")
	if len(letters) != len(bad) {
		t.Errorf("%d report dead letters, %d bad reports", len(letters), len(bad))
	}
	for _, m := range letters {
		hd := map[string]string{}
		for _, x := range m.Headers {
			hd[x.Key] = string(x.Value)
		}
		if want, ok := bad[string(m.Value)]; !ok || hd[pipeline.HeaderReason] != string(want) || hd[pipeline.HeaderTopic] != reportsTopic {
			t.Errorf("dead letter %.60q: reason %q topic %q (want %q)", m.Value, hd[pipeline.HeaderReason], hd[pipeline.HeaderTopic], want)
		}
	}
	if n := len(kafkatest.ReadAll(ctx, t, broker, topic+".dlq")); n != 0 {
		t.Errorf("%d report dead letters went to the messages' dead-letter topic", n)
	}
	h.stop(t)
	if got := testutil.ToFloat64(h.metrics.Reports.WithLabelValues(string(event.ReportHarassment))); got < 1 {
		t.Errorf("goshawk_reports_total{reason=harassment} = %v", got)
	}
}

func allItems(t *testing.T, s *clickhouse.ConsoleStore) []triage.Item {
	t.Helper()
	var out []triage.Item
	f := triage.QueueFilter{Limit: triage.MaxPageSize}
	for range 1000 {
		page, err := s.Queue(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.Next.IsZero() {
			return out
		}
		f.After = page.Next
	}
	t.Fatal("the queue does not end")
	return nil
}

func reasonFor(c detectors.Category) event.ReportReason {
	if r, ok := event.ParseReportReason(string(c)); ok {
		return r
	}
	return event.ReportOther
}

func reportJSON(t *testing.T, r event.Report) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
