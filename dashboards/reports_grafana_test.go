package dashboards

// The user-report panels of the safety overview, on the real ClickHouse:
// the seed adds reports and the verdict history, and the panels' results
// must agree with what the triage console's store computes.

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/goshawk-safety/goshawk/event"
	"github.com/goshawk-safety/goshawk/internal/testenv"
	chsink "github.com/goshawk-safety/goshawk/sinks/clickhouse"
	"github.com/goshawk-safety/goshawk/triage"
)

const (
	reportMissesPanel       = "Detector misses: reported, confirmed, not detected"
	reportFirstVerdictPanel = "Time from report to first verdict"
)

// reportSeed is what the integration test adds for the report panels.
type reportSeed struct {
	reports []event.Report
	// history is every verdict as the console records it in
	// verdict_history: on live flags and report items (analysts never
	// decide shadow flags).
	history []historyRow
	// itemVerdicts are verdicts on report items, also in verdicts.
	itemVerdicts []verdictRow
}

type historyRow struct {
	id, conversation, verdict string
	at                        time.Time
}

func makeReportSeed(base time.Time, s seed) reportSeed {
	age := func(n int) *int { return &n }
	r := reportSeed{reports: []event.Report{
		// conv-a has live flags of every category: detected.
		{ReportID: "dash-r1", ReporterID: "u-13", ConversationID: "conv-a", Reason: event.ReportGrooming, ReporterAge: age(13), ReportedAt: base.Add(30 * time.Minute)},
		// No flag: confirmed, so a harassment miss.
		{ReportID: "dash-r2", ReporterID: "u-40", ConversationID: "conv-quiet", Reason: event.ReportHarassment, ReporterAge: age(40), ReportedAt: base.Add(time.Hour)},
		// No flag, dismissed: neither confirmed nor missed.
		{ReportID: "dash-r3", ReporterID: "u-41", ConversationID: "conv-quiet-2", Reason: event.ReportSpam, ReportedAt: base.Add(time.Hour)},
		// Reason other matches any live flag of conv-b.
		{ReportID: "dash-r4", ReporterID: "u-42", ConversationID: "conv-b", Reason: event.ReportOther, ReportedAt: base.Add(20 * time.Minute)},
		// Never answered.
		{ReportID: "dash-r5", ReporterID: "u-15", ConversationID: "conv-silent", Reason: event.ReportGrooming, ReporterAge: age(15), ReportedAt: base.Add(2 * time.Hour)},
		// Self-harm counts as harassment; conv-c has live harassment flags.
		{ReportID: "dash-r6", ReporterID: "u-16", ConversationID: "conv-c", Reason: event.ReportSelfHarm, ReporterAge: age(16), ReportedAt: base.Add(10 * time.Minute)},
	}}
	conv := map[string]string{}
	for _, f := range s.live {
		conv[f.FlagID] = f.ConversationID
	}
	for _, v := range s.verdicts {
		r.history = append(r.history, historyRow{v.flagID, conv[v.flagID], v.verdict, v.at})
	}
	for _, v := range []struct {
		report, verdict string
		after           time.Duration
	}{{"dash-r2", "confirmed", 5 * time.Minute}, {"dash-r3", "dismissed", time.Hour}} {
		for _, rep := range r.reports {
			if rep.ReportID == v.report {
				id := triage.ReportItemID(rep.ReportID)
				r.itemVerdicts = append(r.itemVerdicts, verdictRow{id, v.verdict, rep.ReportedAt.Add(v.after)})
				r.history = append(r.history, historyRow{id, rep.ConversationID, v.verdict, rep.ReportedAt.Add(v.after)})
			}
		}
	}
	return r
}

// seedReports writes the reports with the project's writer, and the report
// items' verdicts and the verdict history as the console records them.
func seedReports(t *testing.T, conn driver.Conn, db string, r reportSeed) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	addr := testenv.ClickHouse(t)
	w, err := chsink.Open(ctx, chsink.Config{Addr: []string{addr}, Database: db})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.WriteReports(ctx, r.reports); err != nil {
		t.Fatal(err)
	}
	insert := func(q string, rows int, row func(i int) []any) {
		t.Helper()
		batch, err := conn.PrepareBatch(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer batch.Close()
		for i := range rows {
			if err := batch.Append(row(i)...); err != nil {
				t.Fatal(err)
			}
		}
		if err := batch.Send(); err != nil {
			t.Fatal(err)
		}
	}
	insert("INSERT INTO verdicts (flag_id, verdict, note, analyst, decided_at)", len(r.itemVerdicts), func(i int) []any {
		v := r.itemVerdicts[i]
		return []any{v.flagID, v.verdict, "", "analyst@example.org", v.at}
	})
	insert("INSERT INTO verdict_history (flag_id, conversation_id, verdict, analyst, decided_at)", len(r.history), func(i int) []any {
		h := r.history[i]
		return []any{h.id, h.conversation, h.verdict, "analyst@example.org", h.at}
	})
}

// checkReportPanel compares a report panel's rows with the console
// store's figures over the same database, and with what the seed makes
// certain.
func checkReportPanel(ctx context.Context, t *testing.T, title string, rows [][]string, conn driver.Conn, db string, r reportSeed) {
	t.Helper()
	store, err := chsink.NewConsoleStore(conn, db)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.ReportStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	switch title {
	case reportMissesPanel:
		// category, confirmed_conversations, not_detected, miss_rate
		var want []string
		for _, m := range st.Misses {
			rate, _ := m.MissRate()
			want = append(want, fmt.Sprintf("%s %d %d %s", m.Category, m.Confirmed, m.Missed, strconv.FormatFloat(rate, 'g', 12, 64)))
		}
		var got []string
		for _, row := range rows {
			if len(row) != 4 {
				t.Fatalf("misses row %q: want category, confirmed_conversations, not_detected, miss_rate", row)
			}
			got = append(got, fmt.Sprintf("%s %s %s %s", row[0], row[1], row[2], row[3]))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("misses panel %q, the console's store says %q", got, want)
		}
		harassment := false
		for _, m := range st.Misses {
			harassment = harassment || m.Category == "harassment" && m.Missed == 1 && m.Confirmed >= 1
		}
		if !harassment {
			t.Errorf("the confirmed report on an unflagged conversation is not a harassment miss: %+v", st.Misses)
		}
	case reportFirstVerdictPanel:
		// reason, reports_received, answered, awaiting, median, p90
		var received, answered, awaiting int
		for _, row := range rows {
			if len(row) != 6 {
				t.Fatalf("first-verdict row %q: want reason, reports_received, answered, awaiting, median_minutes, p90_minutes", row)
			}
			for i, p := range []*int{&received, &answered, &awaiting} {
				n, err := strconv.Atoi(row[i+1])
				if err != nil {
					t.Fatalf("row %q: %v", row, err)
				}
				*p += n
			}
		}
		if received != len(r.reports) || answered != int(st.FirstVerdict.Count) || awaiting != int(st.Awaiting) || awaiting < 1 {
			t.Errorf("first-verdict panel: %d received, %d answered, %d awaiting; the store has %d reports, %d answered, %d awaiting",
				received, answered, awaiting, len(r.reports), st.FirstVerdict.Count, st.Awaiting)
		}
	}
}
